#!/usr/bin/env node
'use strict';
/**
 * The operator CLI (package.json "bin"): `npx pydio-autoscaler status --stage prod`.
 *
 * It runs the TypeScript source (lib/cli/main.ts) through tsx, the loader the
 * repository already uses for its own tools, so a fresh clone needs `npm ci`
 * and no build step, and the CLI always runs the code as checked out: a built
 * copy could lag behind a `git pull` that was not followed by a rebuild.
 */
const path = require('node:path');

let tsx;
try {
  tsx = require('tsx/cjs/api');
} catch {
  process.stderr.write(
    `pydio-autoscaler: tsx is not installed: run \`npm ci\` in ${path.resolve(__dirname, '..')} (the CLI runs its TypeScript source through tsx, a devDependency)\n`,
  );
  process.exit(1);
}
// The SDK's notice about the Node.js version is noise on every command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { main } = tsx.require('../lib/cli/main.ts', __filename);
main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => process.stdout.write('', () => process.exit(code)),
  (error) => {
    process.stderr.write(`pydio-autoscaler: unexpected failure: ${error && error.stack ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
