'use strict';
/**
 * The rendered SSM documents (ssm-documents/render.js), made safe for osls.
 *
 * osls re-parses every value a `${file(...)}` source returns for variables, so
 * a shell `${name:-default}` inside a script stops packaging ("Unrecognized
 * configuration variable sources"). Escaping each "${" as "\${" makes osls
 * emit the literal "${" again: the template content stays byte-identical to
 * render.js output (test/integration/stack.test.ts checks that).
 *
 * Used only by serverless.yml. Better home: an export of render.js itself.
 */
const { documents } = require('../../ssm-documents/render.js');

function escapeVariables(value) {
  if (typeof value === 'string') return value.replace(/\$\{/g, '\\${');
  if (Array.isArray(value)) return value.map(escapeVariables);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [escapeVariables(key), escapeVariables(inner)]));
  }
  return value;
}

module.exports = { documents: escapeVariables(documents), escapeVariables };
