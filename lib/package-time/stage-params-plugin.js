'use strict';
/**
 * A local Serverless plugin (serverless.yml `plugins:`), run at `sls package`
 * and so at `sls deploy`:
 *
 * 1. A stage whose parameters cannot work stops packaging, before anything is
 *    built, with one line per parameter naming it (lib/config/stage-params.ts
 *    holds every rule: each function's own cold-start parser over its
 *    environment as packaged, plus what only the template uses).
 * 2. The stage parameter opsSubscriptions becomes one AWS::SNS::Subscription
 *    per entry on the ops topic, filtered by severity
 *    (lib/config/ops-subscriptions.ts).
 *
 * The rules are TypeScript; this file compiles them with esbuild (a
 * devDependency, as osls itself is) in memory each time: no build step, no
 * network, and a fresh clone packages after `npm ci`.
 */
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');

/** lib/config/stage-params.ts and ops-subscriptions.ts, bundled to CommonJS and loaded. */
function loadRules() {
  const { buildSync } = require('esbuild');
  const entry = [
    "export { checkStage, formatProblems, resolveStageParams } from './lib/config/stage-params';",
    "export { OPS_SUBSCRIPTIONS_PARAM, opsSubscriptionResources, parseOpsSubscriptions } from './lib/config/ops-subscriptions';",
  ].join('\n');
  const built = buildSync({
    stdin: { contents: entry, resolveDir: ROOT, sourcefile: 'stage-params-entry.ts', loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    logLevel: 'silent',
  });
  const filename = path.join(__dirname, 'stage-params.bundle.js');
  const compiled = new Module(filename, module);
  compiled.filename = filename;
  compiled.paths = Module._nodeModulePaths(path.dirname(filename));
  compiled._compile(built.outputFiles[0].text, filename);
  return compiled.exports;
}

class StageParamsPlugin {
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.options = options || {};
    this.log = (utils && utils.log) || { notice: () => undefined, warning: () => undefined };
    this.hooks = {
      // Before cleanup: a stage that cannot work leaves the previous package (.serverless) as it was.
      'before:package:cleanup': () => this.checkAndAddSubscriptions(),
    };
  }

  checkAndAddSubscriptions() {
    const sls = this.serverless;
    const service = sls.service;
    const rules = loadRules();
    const stage = service.provider.stage;
    const cli = this.options.param === undefined ? [] : [].concat(this.options.param);
    const params = rules.resolveStageParams(stage, sls.configurationInput && sls.configurationInput.params, cli);
    const resources = service.resources || (service.resources = {});
    const functions = {};
    for (const [name, fn] of Object.entries(service.functions || {})) functions[name] = { environment: fn.environment || {}, condition: fn.condition };
    const check = rules.checkStage({
      stage,
      params,
      functions,
      template: { region: service.provider.region, parameters: resources.Parameters || {}, conditions: resources.Conditions || {}, resources: resources.Resources || {} },
      serverlessYml: fs.readFileSync(path.join(sls.serviceDir, sls.configurationFilename), 'utf8'),
    });
    for (const note of check.notes) this.log.warning(`stage parameters: ${note}`);
    if (check.problems.length > 0) throw new sls.classes.Error(rules.formatProblems(stage, check.problems), 'STAGE_PARAMS_INVALID');

    const subscriptions = rules.opsSubscriptionResources(rules.parseOpsSubscriptions(params[rules.OPS_SUBSCRIPTIONS_PARAM]));
    resources.Resources = resources.Resources || {};
    for (const [logicalId, resource] of Object.entries(subscriptions)) {
      if (Object.prototype.hasOwnProperty.call(resources.Resources, logicalId)) {
        throw new sls.classes.Error(`opsSubscriptions: serverless.yml already has a resource ${logicalId}`, 'STAGE_PARAMS_INVALID');
      }
      resources.Resources[logicalId] = resource;
    }
    if (Object.keys(subscriptions).length > 0) this.log.notice(`stage parameters: ${Object.keys(subscriptions).length} ops subscription(s) added (opsSubscriptions)`);
  }
}

module.exports = StageParamsPlugin;
