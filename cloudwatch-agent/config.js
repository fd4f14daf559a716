'use strict';
/**
 * The CloudWatch agent configuration the storage nodes run, one source for
 * the stack and the tests: serverless.yml stores `oslsStorage` as the SSM
 * parameter AmazonCloudWatch-ManageAgent reads (optionalConfigurationSource
 * ssm); test/unit/cloudwatch-agent.test.ts derives from `storage` what the
 * agent publishes and checks the brick disk alarm against it; the sandbox's
 * metrics agent reads the same parameter back from the emulator.
 *
 * The file is JSON with the agent's own `${aws:InstanceId}`-style
 * placeholders, so it is escaped for osls like the documents
 * (ssm-documents/render.js escapeForOsls).
 */
const fs = require('node:fs');
const path = require('node:path');
const { escapeForOsls } = require('../ssm-documents/render.js');

/** Standard-tier Parameter Store values are at most 4 KB. */
const STANDARD_PARAMETER_BYTES = 4096;

function loadConfig(file) {
  const text = fs.readFileSync(file, 'utf8');
  const parsed = JSON.parse(text);
  const compact = JSON.stringify(parsed);
  if (Buffer.byteLength(compact) > STANDARD_PARAMETER_BYTES) {
    throw new Error(`${file}: ${Buffer.byteLength(compact)} bytes, above the ${STANDARD_PARAMETER_BYTES} bytes of a Standard parameter`);
  }
  return compact;
}

const storage = loadConfig(path.join(__dirname, 'storage.json'));
const oslsStorage = escapeForOsls(storage);

module.exports = { storage, oslsStorage, STANDARD_PARAMETER_BYTES };
