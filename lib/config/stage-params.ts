/**
 * Package-time validation of a stage's parameters: a stage whose parameters
 * cannot work fails `sls package` (lib/package-time/stage-params-plugin.js) with a
 * message naming each parameter, instead of failing at the first event.
 *
 * Two kinds of rules, each written once:
 * - what a function checks at cold start: its own parser (lib/config/*.ts)
 *   runs over its environment as packaged (packaged-environment.ts), and a
 *   problem is reported under the stage parameter that feeds the variable;
 * - what only the template uses (lifecycle hooks, alarms, subscriptions, the
 *   session cookie the app sets): the rules below, each with its source.
 */
import { heartbeatWarning } from '../core/flow';
import { ConfigurationError } from '../errors';
import { APP_PROFILES, parseConfig, type AppProfile } from './compute';
import { DOCUMENT_PATTERNS, type Env } from './env';
import { parseOpsSubscriptions, OPS_SUBSCRIPTIONS_PARAM } from './ops-subscriptions';
import { conditionHolds, deployedEnvironment, type TemplateView } from './packaged-environment';
import { parseScalingConfig } from './scaling';
import { parseStatusConfig } from './status';
import { parseStorageFunctionConfig } from './storage';
import { parseWatchConfig } from './watch';

export interface StageParamProblem {
  /** The stage parameter to change. */
  readonly param: string;
  /** What is wrong, naming the parameter (and the variable it sets, where it sets one). */
  readonly message: string;
}

/** A stage as `sls package` sees it once variables are resolved. */
export interface PackagedStage {
  readonly stage: string;
  readonly params: Readonly<Record<string, unknown>>;
  /** serverless.yml `functions`, resolved: each one's environment (with intrinsics) and condition. */
  readonly functions: Readonly<Record<string, { readonly environment?: Readonly<Record<string, unknown>>; readonly condition?: unknown }>>;
  readonly template: TemplateView;
  /** The text of serverless.yml: which parameter feeds which variable. */
  readonly serverlessYml: string;
}

export interface StageCheck {
  readonly problems: readonly StageParamProblem[];
  /** What could not be checked here, and why (left to the cold start). */
  readonly notes: readonly string[];
}

/**
 * The stage's parameter values in osls's order: `--param key=value` on the
 * command line, then params.<stage>, then params.default
 * (osls lib/configuration/variables/sources/instance-dependent/param.js).
 */
export function resolveStageParams(stage: string, configParams: Readonly<Record<string, unknown>> | undefined, cliParams: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of cliParams) {
    const match = /^(?<key>[^=]+)=(?<value>.+)$/s.exec(item);
    if (match?.groups) out[match.groups.key ?? ''] = (match.groups.value ?? '').trimEnd();
  }
  for (const scope of [stage, 'default']) {
    const values = configParams?.[scope];
    if (typeof values !== 'object' || values === null) continue;
    for (const [name, value] of Object.entries(values)) if (value !== null && value !== undefined && out[name] === undefined) out[name] = value;
  }
  return out;
}

/**
 * Which stage parameter feeds each environment variable, from serverless.yml:
 * `NAME: ${param:x}` directly, or `NAME: !Ref P` where the template parameter
 * P defaults to `${param:x}`.
 */
export function variablesFedByParams(serverlessYml: string): Record<string, string> {
  const lines = serverlessYml.split('\n');
  const templateParams: Record<string, string> = {};
  lines.forEach((line, index) => {
    const found = /^(\s*)Default:\s*'?\$\{param:(\w+)/.exec(line);
    if (!found) return;
    const indent = (found[1] ?? '').length;
    for (let back = index - 1; back >= 0; back -= 1) {
      const owner = /^(\s*)(\w+):\s*$/.exec(lines[back] ?? '');
      if (owner && (owner[1] ?? '').length < indent) {
        templateParams[owner[2] ?? ''] = found[2] ?? '';
        break;
      }
    }
  });
  // custom.<key>: <text>, e.g. `targetGroupArn: !If [CreatesCluster, ..., !Ref TargetGroupArn, ...]`: the first template parameter it refers to.
  const customFeeds: Record<string, string> = {};
  const customAt = lines.findIndex((line) => /^custom:\s*$/.test(line));
  for (let i = customAt + 1; customAt >= 0 && i < lines.length && !/^\S/.test(lines[i] ?? ''); i += 1) {
    const entry = /^ {2}(\w+):\s*(.+)$/.exec(lines[i] ?? '');
    const param = entry ? [...(entry[2] ?? '').matchAll(/!Ref\s+(\w+)/g)].map((m) => templateParams[m[1] ?? '']).find(Boolean) : undefined;
    if (entry && param) customFeeds[entry[1] ?? ''] = param;
  }
  const fed: Record<string, string> = {};
  for (const line of lines) {
    const viaCustom = /^\s+([A-Z][A-Z0-9_]*):\s*\$\{self:custom\.(\w+)\}\s*(#.*)?$/.exec(line);
    if (viaCustom && customFeeds[viaCustom[2] ?? '']) fed[viaCustom[1] ?? ''] = customFeeds[viaCustom[2] ?? ''] ?? '';
    const direct = /^\s+([A-Z][A-Z0-9_]*):\s*\$\{param:(\w+)/.exec(line);
    if (direct) fed[direct[1] ?? ''] = direct[2] ?? '';
    const viaRef = /^\s+([A-Z][A-Z0-9_]*):\s*!Ref\s+(\w+)\s*(#.*)?$/.exec(line);
    if (viaRef && templateParams[viaRef[2] ?? '']) fed[viaRef[1] ?? ''] = templateParams[viaRef[2] ?? ''] ?? '';
  }
  return fed;
}

/** Each function's cold-start parser (the storage one also needs the region the runtime sets). */
const PARSERS: Readonly<Record<string, (env: Env, region: string) => unknown>> = {
  lifecycle: (env) => parseConfig(env),
  alarm: (env) => parseScalingConfig(env),
  status: (env) => parseStatusConfig(env),
  storage: (env, region) => parseStorageFunctionConfig({ AWS_REGION: region, ...env }),
  watch: (env) => parseWatchConfig(env),
};

function text(params: Readonly<Record<string, unknown>>, name: string): string {
  const value = params[name];
  return value === undefined || value === null ? '' : String(value).trim();
}

/** What a function's parser says about its packaged environment, as problems of the parameters behind it. */
function parserProblems(stage: PackagedStage, fed: Readonly<Record<string, string>>): StageCheck {
  const problems: StageParamProblem[] = [];
  const notes: string[] = [];
  for (const [name, fn] of Object.entries(stage.functions)) {
    if (fn.condition !== undefined && typeof fn.condition === 'string' && !conditionHolds(stage.template, stage.template.conditions[fn.condition])) continue;
    const parse = PARSERS[name];
    if (!parse) {
      notes.push(`function ${name}: no parser known here, its environment is checked at its cold start only`);
      continue;
    }
    try {
      parse(deployedEnvironment(stage.template, fn.environment ?? {}), stage.template.region);
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      // The variables the message names, in its order: the first is the one to change.
      const at = (variable: string) => error.message.search(new RegExp(`\\b${variable}\\b`));
      const variables = Object.keys(fed).filter((variable) => at(variable) >= 0).sort((a, b) => at(a) - at(b));
      if (variables.length === 0) {
        notes.push(`function ${name}: ${error.message} (no stage parameter sets it: left to the cold start)`);
        continue;
      }
      let message = error.message;
      for (const variable of variables) message = message.replace(new RegExp(`\\b${variable}\\b`, 'g'), `${fed[variable]} (${variable})`);
      problems.push({ param: fed[variables[0] ?? ''] ?? '', message });
    }
  }
  return { problems, notes };
}

// --- rules of what only the template uses ---------------------------------------------------

/** PutLifecycleHook HeartbeatTimeout: "The range is from 30 to 7200 seconds." */
export const HEARTBEAT_TIMEOUT_RANGE = [30, 7200] as const;

/** The hooks' timeout parameters; the storage ones only matter where the storage tier is deployed. */
const COMPUTE_HOOK_TIMEOUTS = ['launchHeartbeatTimeout', 'terminateHeartbeatTimeout'] as const;
const STORAGE_HOOK_TIMEOUTS = ['storageLaunchHeartbeatTimeout', 'storageTerminateHeartbeatTimeout'] as const;

/** Powertools' log levels (@aws-lambda-powertools/logger LogLevelThreshold): another value is ignored without a word. */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;

/**
 * The cookies each app profile's app sets (catalogue pydio-app-and-alb.yml):
 * the one an ALB can stick sessions on, and the others, which would stick a
 * user only while in the settings UI or on one public link.
 */
export const APP_COOKIES: Readonly<Record<AppProfile, { readonly others: ReadonlyArray<{ readonly name: string; readonly prefix?: boolean; readonly what: string }> }>> = {
  pydio8: {
    others: [
      { name: 'Pydio_Settings', what: "the settings UI's session (PYDIO_SESSION_NAME_SETTINGS)" },
      { name: 'AjaXplorer_Shared', prefix: true, what: "a public link's session (AjaXplorer_Shared<hash>, one per link)" },
    ],
  },
};

function integerIn(params: Readonly<Record<string, unknown>>, name: string, min: number, max: number, why: string): StageParamProblem | number {
  const raw = text(params, name);
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) return { param: name, message: `${name} must be a whole number from ${min} to ${max} (${why}), got ${JSON.stringify(raw)}` };
  return Number(raw);
}

function hookRules(params: Readonly<Record<string, unknown>>, hasStorage: boolean, retryMaxValid: boolean): StageParamProblem[] {
  const problems: StageParamProblem[] = [];
  const [min, max] = HEARTBEAT_TIMEOUT_RANGE;
  // An invalid retryMaxSeconds is its parser's to name; compare only a valid one.
  const retryMax = retryMaxValid ? Number(text(params, 'retryMaxSeconds')) : Number.NaN;
  for (const name of [...COMPUTE_HOOK_TIMEOUTS, ...(hasStorage ? STORAGE_HOOK_TIMEOUTS : [])]) {
    const timeout = integerIn(params, name, min, max, 'the lifecycle hook\'s HeartbeatTimeout: "The range is from 30 to 7200 seconds"');
    if (typeof timeout !== 'number') {
      problems.push(timeout);
    } else if (Number.isFinite(retryMax) && heartbeatWarning(timeout, retryMax) !== undefined) {
      problems.push({ param: name, message: `${name} (${timeout}) must be more than twice retryMaxSeconds (${retryMax}): a heartbeat is recorded when the next delivery could come after half the timeout, so a longer wait lets the hook expire` });
    }
  }
  return problems;
}

/** PutMetricAlarm Period: "Valid values are 10, 20, 30, and any multiple of 60." */
function isAlarmPeriod(period: number): boolean {
  return [10, 20, 30].includes(period) || (period >= 60 && period % 60 === 0);
}

function alarmRules(params: Readonly<Record<string, unknown>>, hasStorage: boolean): StageParamProblem[] {
  const problems: StageParamProblem[] = [];
  const alarms = ['cpuHigh', 'cpuLow', ...(hasStorage ? ['diskHigh'] : [])];
  const thresholds: Record<string, number> = {};
  for (const alarm of alarms) {
    const threshold = Number(text(params, `${alarm}Threshold`));
    if (!/^\d+(\.\d+)?$/.test(text(params, `${alarm}Threshold`)) || threshold > 100) {
      problems.push({ param: `${alarm}Threshold`, message: `${alarm}Threshold must be a percentage from 0 to 100 (the alarm's metric is a percentage), got ${JSON.stringify(text(params, `${alarm}Threshold`))}` });
    } else {
      thresholds[alarm] = threshold;
    }
    const period = Number(text(params, `${alarm}Period`));
    if (!/^\d+$/.test(text(params, `${alarm}Period`)) || !isAlarmPeriod(period)) {
      problems.push({ param: `${alarm}Period`, message: `${alarm}Period must be 10, 20, 30 or a multiple of 60 seconds (PutMetricAlarm Period), got ${JSON.stringify(text(params, `${alarm}Period`))}` });
      continue;
    }
    const evaluations = Number(text(params, `${alarm}EvaluationPeriods`));
    if (!/^\d+$/.test(text(params, `${alarm}EvaluationPeriods`)) || evaluations < 1) {
      problems.push({ param: `${alarm}EvaluationPeriods`, message: `${alarm}EvaluationPeriods must be a whole number of at least 1, got ${JSON.stringify(text(params, `${alarm}EvaluationPeriods`))}` });
      continue;
    }
    // "Period multiplied by EvaluationPeriods can't be more than 604,800 seconds. For alarms with a period of less than one hour (3,600 seconds), the total evaluation period can't be longer than one day (86,400 seconds)."
    const limit = period < 3600 ? 86_400 : 604_800;
    if (period * evaluations > limit) {
      problems.push({ param: `${alarm}EvaluationPeriods`, message: `${alarm}EvaluationPeriods (${evaluations}) x ${alarm}Period (${period}) must be at most ${limit} seconds (PutMetricAlarm: the total evaluation period), got ${period * evaluations}` });
    }
  }
  // The Gluster health alarms watch standard-resolution EMF gauges, one datapoint per watch period: a period under a
  // minute would see one at most every few periods ("a regular alarm with a period of any multiple of 60 seconds").
  if (hasStorage) {
    const raw = text(params, 'glusterAlarmPeriod');
    const period = Number(raw);
    if (!/^\d+$/.test(raw) || period < 60 || period % 60 !== 0 || period > 86_400) {
      problems.push({ param: 'glusterAlarmPeriod', message: `glusterAlarmPeriod must be a multiple of 60 seconds up to 86400 (the Gluster gauges are standard-resolution metrics, one per watch period), got ${JSON.stringify(raw)}` });
    }
  }
  if (thresholds.cpuLow !== undefined && thresholds.cpuHigh !== undefined && thresholds.cpuLow >= thresholds.cpuHigh) {
    problems.push({ param: 'cpuLowThreshold', message: `cpuLowThreshold (${thresholds.cpuLow}) must be below cpuHighThreshold (${thresholds.cpuHigh}), or the group scales out and in on the same load` });
  }
  return problems;
}

function cookieRule(params: Readonly<Record<string, unknown>>): StageParamProblem[] {
  const cookie = text(params, 'appSessionCookie');
  const profile = text(params, 'appProfile') || 'pydio8';
  if (cookie === '' || !Object.hasOwn(APP_PROFILES, profile)) return []; // an unknown profile is the parser's to name
  const session = APP_PROFILES[profile as AppProfile].sessionCookie;
  if (cookie === session) return [];
  const other = APP_COOKIES[profile as AppProfile].others.find((c) => (c.prefix ? cookie.startsWith(c.name) : cookie === c.name));
  const message = other
    ? `appSessionCookie ${JSON.stringify(cookie)} is ${other.what}, not the session every request carries: the load balancer would not keep users on one node. The ${profile} app's session cookie is ${session} (leave appSessionCookie empty)`
    : `appSessionCookie ${JSON.stringify(cookie)} is not a cookie the ${profile} app sets: an ALB sticks only on a cookie the target sets, so sessions would not stick. The ${profile} app's session cookie is ${session} (leave appSessionCookie empty)`;
  return [{ param: 'appSessionCookie', message }];
}

function otherRules(params: Readonly<Record<string, unknown>>, hasStorage: boolean): StageParamProblem[] {
  const problems: StageParamProblem[] = [];
  const email = text(params, 'opsEmail');
  if (email !== '' && !/^[^@\s]+@[^@\s]+$/.test(email)) problems.push({ param: 'opsEmail', message: `opsEmail must be empty or an e-mail address (the OpsEmail template parameter's AllowedPattern), got ${JSON.stringify(email)}` });
  const level = text(params, 'logLevel');
  if (!(LOG_LEVELS as readonly string[]).includes(level)) problems.push({ param: 'logLevel', message: `logLevel must be one of ${LOG_LEVELS.join(', ')} (Powertools ignores any other value, lower case too), got ${JSON.stringify(level)}` });
  const grow = text(params, 'storageGrowInPlace');
  if (!['off', 'allowed', 'preferred'].includes(grow)) problems.push({ param: 'storageGrowInPlace', message: `storageGrowInPlace must be off, allowed or preferred (the StorageGrowInPlace template parameter's AllowedValues), got ${JSON.stringify(grow)}` });
  if (hasStorage && !DOCUMENT_PATTERNS.path.test(text(params, 'brickMount'))) {
    problems.push({ param: 'brickMount', message: `brickMount must be an absolute path of [A-Za-z0-9._-] segments (the path the CloudWatch agent reports for the bricks), got ${JSON.stringify(text(params, 'brickMount'))}` });
  }
  try {
    parseOpsSubscriptions(params[OPS_SUBSCRIPTIONS_PARAM]);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    problems.push({ param: OPS_SUBSCRIPTIONS_PARAM, message: error.message });
  }
  return problems;
}

/**
 * The reference cluster's parameters (createCluster, README "Reference cluster"): read only by
 * resources under the CreatesCluster condition, so checked only on a stage that creates it
 * (createCluster itself always). The patterns are the template parameters' own where there is one.
 */
function clusterRules(params: Readonly<Record<string, unknown>>): StageParamProblem[] {
  const problems: StageParamProblem[] = [];
  const create = text(params, 'createCluster');
  if (!['true', 'false'].includes(create)) return [{ param: 'createCluster', message: `createCluster must be 'true' or 'false' (the CreateCluster template parameter's AllowedValues), got ${JSON.stringify(create)}` }];
  if (create === 'false') return [];
  const check = (name: string, ok: (value: string) => boolean, what: string) => {
    const value = text(params, name);
    if (!ok(value)) problems.push({ param: name, message: `${name} must be ${what}, got ${JSON.stringify(value)}` });
  };
  const cidr = (value: string, prefix?: number) => {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
    return m !== null && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32 && (prefix === undefined || Number(m[5]) === prefix);
  };
  // The compute image and the storage group are what the CreatesCluster condition needs: without either nothing of
  // the cluster is created and the deploy fails attaching the compute hooks to a group that does not exist.
  check('computeImageId', (v) => /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/.test(v), 'an AMI id (ami-...) with Apache, PHP and Pydio 8 installed when createCluster is true (the ComputeImageId template parameter)');
  if (text(params, 'storageGroupName') === '') problems.push({ param: 'storageGroupName', message: "storageGroupName must name the storage group the stack creates when createCluster is true (the volumes are bootstrapped by the storage tier)" });
  check('clusterZones', (v) => v === '2' || v === '3', "'2' or '3' (the ClusterZones template parameter's AllowedValues)");
  check('clusterVpcCidr', (v) => cidr(v, 16), 'an IPv4 /16 (cut into six /20 subnets by Fn::Cidr)');
  check('clusterAllowedCidr', (v) => cidr(v), 'an IPv4 CIDR (the load balancer security group rule\'s CidrIp)');
  check('clusterCertificateArn', (v) => /^$|^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate\/[A-Za-z0-9-]+$/.test(v), 'empty or an ACM certificate ARN (the ClusterCertificateArn template parameter)');
  for (const name of ['computeInstanceType', 'storageInstanceType']) check(name, (v) => /^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(v), 'an EC2 instance type (family.size, e.g. t3.medium)');
  check('storageImageParameter', (v) => /^\/?[A-Za-z0-9_.\-/]{1,2048}$/.test(v), 'the name of an SSM parameter holding the storage AMI (a {{resolve:ssm:...}} reference)');
  check('databaseInstanceClass', (v) => /^db\.[a-z0-9-]+\.[a-z0-9]+$/.test(v), 'an RDS instance class (db.family.size)');
  check('databaseMultiAz', (v) => v === 'true' || v === 'false', "'true' or 'false' (MultiAZ)");
  check('databaseEngineVersion', (v) => /^\d+\.\d+(\.\d+)?$/.test(v), 'a MySQL engine version (e.g. 8.4.9)');
  // RDS MySQL gp3: "20-65,536 GiB" allocated storage.
  const storageGib = integerIn(params, 'databaseStorageGib', 20, 65_536, 'RDS MySQL gp3 allocated storage in GiB');
  if (typeof storageGib !== 'number') problems.push(storageGib);
  const min = integerIn(params, 'computeMinSize', 1, 1000, 'the compute group\'s MinSize: at least one node serves the app');
  const max = integerIn(params, 'computeMaxSize', 1, 1000, 'the compute group\'s MaxSize');
  if (typeof min !== 'number') problems.push(min);
  if (typeof max !== 'number') problems.push(max);
  else if (typeof min === 'number' && max < min) problems.push({ param: 'computeMaxSize', message: `computeMaxSize (${max}) must not be below computeMinSize (${min}) (CreateAutoScalingGroup refuses it)` });
  const zones = Number(text(params, 'clusterZones')) || 2;
  const storageMax = integerIn(params, 'storageMaxSize', zones, 1000, `the storage group's MaxSize: at least its MinSize, one member per zone (${zones})`);
  if (typeof storageMax !== 'number') problems.push(storageMax);
  return problems;
}

/** Every problem of a stage's parameters (none: it can be packaged), and what was left to the cold start. */
export function checkStage(stage: PackagedStage): StageCheck {
  const fed = variablesFedByParams(stage.serverlessYml);
  const fromParsers = parserProblems(stage, fed);
  const hasStorage = text(stage.params, 'storageGroupName') !== '';
  const retryMaxValid = !fromParsers.problems.some((p) => p.param === 'retryMaxSeconds' || p.param === 'retryBaseSeconds');
  const problems = [...fromParsers.problems, ...hookRules(stage.params, hasStorage, retryMaxValid), ...alarmRules(stage.params, hasStorage), ...cookieRule(stage.params), ...otherRules(stage.params, hasStorage), ...clusterRules(stage.params)];
  // One problem per parameter: the function's parser first (it names the variable too).
  const unique = problems.filter((p, i) => problems.findIndex((q) => q.param === p.param) === i);
  return { problems: unique, notes: fromParsers.notes };
}

/** The message `sls package` stops with. */
export function formatProblems(stageName: string, problems: readonly StageParamProblem[]): string {
  return [
    `Stage "${stageName}": ${problems.length} stage parameter${problems.length === 1 ? '' : 's'} cannot work (set them under params.${stageName} in serverless.yml or with --param="name=value"):`,
    ...problems.map((p) => `  - ${p.message}`),
  ].join('\n');
}
