/**
 * The operator CLI's command line, parsed into one Command (pure: no I/O).
 * Bad input is an OperatorError naming the option and what it needs.
 */
import type { StorageRequest } from '../core/storage/flow-state';
import { MalformedEventError, OperatorError } from '../errors';
import { parseStorageRequest } from '../usecases/storage/requests';
import { checkStage } from './names';

export const USAGE = `usage: pydio-autoscaler <command> --stage <stage> [options]

commands:
  status                       the cluster as the deployed functions see it (groups, instances, targets, Gluster volumes)
  storage plan                 what an expansion would do (a dry run: reads the volumes, changes nothing)
  storage expand [--yes]       add replica sets to a volume (a dry run unless --yes)
  storage shrink [--yes]       remove a volume's last replica set (a dry run unless --yes)
  decisions                    recent scaling decisions and every notice the functions sent ops (CloudWatch Logs)

storage options:  --volume <name> (default pydio-data)  --sets <n> (expand, default 1)
                  --strategy add-bricks|grow-in-place  --allow-same-zone  --yes
decisions options: --since <n><s|m|h|d> (default 24h, at most 30d)  --limit <n> (default 20)
common options:   --stage <stage> (required)  --region <region>  --profile <profile>
                  --endpoint-url <url> (another endpoint than AWS's, e.g. the sandbox's)  --json  --help

AWS credentials and region come from the usual places (environment, ~/.aws, instance role), as for the AWS CLI.`;

export interface Common {
  readonly stage: string;
  readonly region?: string;
  readonly profile?: string;
  readonly endpoint?: string;
  readonly json: boolean;
}

export type StorageAction = 'plan' | 'expand' | 'shrink';

export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'status'; readonly common: Common }
  | {
      readonly kind: 'storage';
      readonly action: StorageAction;
      /** The storage function's payload, validated by the function's own parser. */
      readonly request: StorageRequest;
      /** Whether to act (--yes); plan never acts. */
      readonly act: boolean;
      readonly common: Common;
    }
  | { readonly kind: 'decisions'; readonly sinceMs: number; readonly limit: number; readonly common: Common };

const VALUE_OPTIONS = ['--stage', '--region', '--profile', '--endpoint-url', '--volume', '--sets', '--strategy', '--since', '--limit'] as const;
const FLAG_OPTIONS = ['--json', '--yes', '--allow-same-zone', '--help'] as const;
type ValueOption = (typeof VALUE_OPTIONS)[number];
type FlagOption = (typeof FLAG_OPTIONS)[number];

/** Which options each command takes besides the common ones. */
const OWN_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  status: [],
  'storage plan': ['--volume', '--sets', '--strategy', '--allow-same-zone'],
  'storage expand': ['--volume', '--sets', '--strategy', '--allow-same-zone', '--yes'],
  'storage shrink': ['--volume', '--yes'],
  decisions: ['--since', '--limit'],
};
const COMMON_OPTIONS = ['--stage', '--region', '--profile', '--endpoint-url', '--json', '--help'];

const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const DURATION = /^(\d+)([smhd])$/;
const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** The stack keeps function logs 30 days (serverless.yml logRetentionInDays). */
export const MAX_SINCE_MS = 30 * UNIT_MS.d!;
export const MAX_LIMIT = 500;

function split(argv: readonly string[]): { words: string[]; values: Map<ValueOption, string>; flags: Set<FlagOption> } {
  const words: string[] = [];
  const values = new Map<ValueOption, string>();
  const flags = new Set<FlagOption>();
  for (let i = 0; i < argv.length; i += 1) {
    const raw = argv[i] ?? '';
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const name = eq > 0 ? raw.slice(0, eq) : raw;
    if ((VALUE_OPTIONS as readonly string[]).includes(name)) {
      const value = eq > 0 ? raw.slice(eq + 1) : argv[(i += 1)];
      if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) throw new OperatorError(`${name} needs a value`);
      if (values.has(name as ValueOption)) throw new OperatorError(`${name} is given twice`);
      values.set(name as ValueOption, value);
    } else if ((FLAG_OPTIONS as readonly string[]).includes(name)) {
      if (eq > 0) throw new OperatorError(`${name} takes no value`);
      flags.add(name as FlagOption);
    } else if (raw.startsWith('-')) {
      throw new OperatorError(`unknown option ${raw}; see --help`);
    } else {
      words.push(raw);
    }
  }
  return { words, values, flags };
}

function wholeNumber(option: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new OperatorError(`${option} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function duration(raw: string): number {
  const m = DURATION.exec(raw);
  const ms = m ? Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0) : NaN;
  if (!(ms >= UNIT_MS.m! && ms <= MAX_SINCE_MS)) throw new OperatorError(`--since must be a duration from 1m to 30d such as 90m, 24h or 7d, got ${JSON.stringify(raw)}`);
  return ms;
}

function endpointUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OperatorError(`--endpoint-url must be a URL such as http://127.0.0.1:4566, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OperatorError(`--endpoint-url must be an http or https URL, got ${JSON.stringify(raw)}`);
  return raw;
}

/** The storage function's own parser checks the payload, so the CLI and the function cannot disagree on what is valid. */
function storageRequest(payload: Record<string, unknown>): StorageRequest {
  try {
    return parseStorageRequest(payload, 'operator CLI');
  } catch (error) {
    if (!(error instanceof MalformedEventError)) throw error;
    const field = /field (\w+)/.exec(error.message)?.[1];
    const option = field === 'allowSameZone' ? '--allow-same-zone' : field ? `--${field}` : undefined;
    throw new OperatorError(`${error.message}${option ? ` (option ${option})` : ''}`, { cause: error });
  }
}

export function parseArgs(argv: readonly string[]): Command {
  const { words, values, flags } = split(argv);
  if (flags.has('--help') || words.length === 0 || (words.length === 1 && words[0] === 'help')) return { kind: 'help' };

  const name = words[0] === 'storage' ? `storage ${words[1] ?? ''}`.trim() : (words[0] ?? '');
  const own = OWN_OPTIONS[name];
  if (own === undefined) {
    if (words[0] === 'storage') throw new OperatorError(`storage needs one of plan, expand or shrink${words[1] ? `, got ${JSON.stringify(words[1])}` : ''}`);
    throw new OperatorError(`unknown command ${JSON.stringify(words[0])}; the commands are status, storage plan|expand|shrink, decisions (see --help)`);
  }
  const extra = words.slice(name.split(' ').length);
  if (extra.length > 0) throw new OperatorError(`${name} takes no argument ${JSON.stringify(extra[0])}: options start with -- (see --help)`);
  for (const option of [...values.keys(), ...flags]) {
    if (!own.includes(option) && !COMMON_OPTIONS.includes(option)) throw new OperatorError(`${option} does not apply to ${name}`);
  }

  const stage = values.get('--stage');
  if (stage === undefined) throw new OperatorError(`--stage is required: the stage you deployed (sls deploy --stage <stage>), e.g. --stage prod`);
  const region = values.get('--region');
  if (region !== undefined && !REGION.test(region)) throw new OperatorError(`--region must be an AWS Region code such as eu-west-1, got ${JSON.stringify(region)}`);
  const endpoint = values.get('--endpoint-url');
  const profile = values.get('--profile');
  const common: Common = {
    stage: checkStage(stage),
    ...(region !== undefined ? { region } : {}),
    ...(profile !== undefined ? { profile } : {}),
    ...(endpoint !== undefined ? { endpoint: endpointUrl(endpoint) } : {}),
    json: flags.has('--json'),
  };

  if (name === 'status') return { kind: 'status', common };
  if (name === 'decisions') {
    const sinceMs = duration(values.get('--since') ?? '24h');
    const limit = wholeNumber('--limit', values.get('--limit') ?? '20', 1, MAX_LIMIT);
    return { kind: 'decisions', sinceMs, limit, common };
  }

  const action = name.slice('storage '.length) as StorageAction;
  const act = flags.has('--yes');
  const volume = values.get('--volume') ?? 'pydio-data';
  const strategy = values.get('--strategy');
  const payload: Record<string, unknown> =
    action === 'shrink'
      ? { action: 'shrink', volume, dryRun: !act }
      : {
          volume,
          sets: /^\d+$/.test(values.get('--sets') ?? '1') ? Number(values.get('--sets') ?? '1') : values.get('--sets'),
          dryRun: action === 'plan' || !act,
          ...(strategy !== undefined ? { strategy } : {}),
          ...(flags.has('--allow-same-zone') ? { allowSameZone: true } : {}),
        };
  return { kind: 'storage', action, request: storageRequest(payload), act: action !== 'plan' && act, common };
}

/** The payload the storage function receives: the request's own fields, nothing the CLI invented. */
export function storagePayload(request: StorageRequest): Record<string, unknown> {
  if (request.action === 'shrink') return { action: 'shrink', volume: request.volume, dryRun: request.dryRun, reason: request.reason };
  return {
    volume: request.volume,
    sets: request.sets,
    dryRun: request.dryRun,
    reason: request.reason,
    ...(request.strategy ? { strategy: request.strategy } : {}),
    ...(request.allowSameZone ? { allowSameZone: true } : {}),
  };
}
