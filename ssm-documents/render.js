'use strict';
/**
 * Renders the SSM Command documents in this folder into what AWS receives.
 *
 * Convention: a step in a `.yml` document says `inputs: { runCommandFile: scripts/x.sh }`;
 * the renderer replaces it by `runCommand`, the script split into lines, UNCHANGED
 * (the script is a real file that shellcheck and bats read).
 *
 * Trailing newline rule: a script file ends with exactly one '\n'; that final newline
 * is not a line of its own, so `runCommand.join('\n') + '\n'` is the file, byte for byte.
 *
 * Used by serverless.yml (`${file(./ssm-documents/render.js):documents}`) and by tests.
 */
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');

/** Logical name (as the Lambda's config knows it) -> document file. */
const DOCUMENT_FILES = {
  mountVolumes: 'pydio-mount-volumes.yml',
  configureApp: 'pydio-configure-app.yml',
  drainNode: 'pydio-drain-node.yml',
  storagePrepareBrick: 'storage-prepare-brick.yml',
  storagePeerProbe: 'storage-peer-probe.yml',
  storageGlusterStatus: 'storage-gluster-status.yml',
  storageGlusterCommand: 'storage-gluster-command.yml',
  storageGrowBrick: 'storage-grow-brick.yml',
};

class DocumentRenderError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'DocumentRenderError';
  }
}

/** The script's lines, without the final newline (see the trailing newline rule). */
function scriptLines(scriptPath) {
  let text;
  try {
    text = fs.readFileSync(scriptPath, 'utf8');
  } catch (cause) {
    throw new DocumentRenderError(`cannot read script ${scriptPath}: ${cause.message}`, { cause });
  }
  if (text.includes('\r')) throw new DocumentRenderError(`${scriptPath} has CR characters: use LF line endings`);
  if (!text.endsWith('\n')) throw new DocumentRenderError(`${scriptPath} must end with a newline`);
  if (text.endsWith('\n\n')) throw new DocumentRenderError(`${scriptPath} must end with exactly one newline`);
  if (text.includes('{{')) {
    throw new DocumentRenderError(`${scriptPath} contains '{{': SSM would interpolate it; read SSM_<Name> variables instead`);
  }
  return text.slice(0, -1).split('\n');
}

/** Reads a `.yml` document and returns the document object with scripts embedded. */
function renderDocument(ymlPath) {
  let content;
  try {
    content = yaml.load(fs.readFileSync(ymlPath, 'utf8'), { filename: ymlPath });
  } catch (cause) {
    throw new DocumentRenderError(`cannot load SSM document ${ymlPath}: ${cause.message}`, { cause });
  }
  if (!content || typeof content !== 'object' || !Array.isArray(content.mainSteps) || content.mainSteps.length === 0) {
    throw new DocumentRenderError(`${ymlPath} is not a Command document: it has no mainSteps`);
  }
  const dir = path.dirname(ymlPath);
  const mainSteps = content.mainSteps.map((step, index) => {
    const inputs = step && step.inputs;
    const where = `${ymlPath} step ${step && step.name ? step.name : index}`;
    if (!inputs || typeof inputs !== 'object') throw new DocumentRenderError(`${where} has no inputs`);
    if (inputs.runCommandFile === undefined) {
      if (!Array.isArray(inputs.runCommand)) throw new DocumentRenderError(`${where} has neither runCommandFile nor runCommand`);
      return step;
    }
    if (inputs.runCommand !== undefined) throw new DocumentRenderError(`${where} has both runCommandFile and runCommand`);
    const { runCommandFile, ...rest } = inputs;
    return { ...step, inputs: { ...rest, runCommand: scriptLines(path.resolve(dir, runCommandFile)) } };
  });
  return { ...content, mainSteps };
}

/** Every document: { name, content } keyed by logical name (mountVolumes, configureApp, drainNode, storage*). */
function renderAll(dir = __dirname) {
  const out = {};
  for (const [key, file] of Object.entries(DOCUMENT_FILES)) {
    out[key] = { name: path.basename(file, '.yml'), content: renderDocument(path.join(dir, file)) };
  }
  return out;
}

/**
 * osls re-parses every value a `${file(...)}` source returns for variables, so
 * a shell `${name:-default}` inside a script would stop packaging
 * ("Unrecognized configuration variable sources"). Escaping each "${" as
 * "\${" makes osls emit the literal "${" again: the template content stays
 * byte-identical to `documents` (test/integration/stack.test.ts checks it).
 */
function escapeForOsls(value) {
  if (typeof value === 'string') return value.replace(/\$\{/g, '\\${');
  if (Array.isArray(value)) return value.map(escapeForOsls);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [escapeForOsls(key), escapeForOsls(inner)]));
  }
  return value;
}

const documents = renderAll();
/** What serverless.yml embeds: `documents` escaped for osls. */
const oslsDocuments = escapeForOsls(documents);

module.exports = { documents, oslsDocuments, escapeForOsls, renderDocument, renderAll, DOCUMENT_FILES, DocumentRenderError };
