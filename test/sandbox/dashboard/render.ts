/**
 * Renders the stack's ClusterDashboard as an SVG from a running sandbox.
 *
 * From code (the demo, the e2e tests):
 *   await renderSandboxDashboard(sb, { out: 'dashboard.svg', start, periodOverride: 10 })
 *
 * From a shell, against a sandbox started with `cli.ts up`:
 *   npx tsx test/sandbox/dashboard/render.ts --from .sandbox \
 *     --template /tmp/h6-sls-cache/pasbox-<hash>/cloudformation-template-update-stack.json \
 *     --out dashboard.svg [--minutes 15] [--period 10]
 * `--from` is a state dir holding cli-state.json (endpoint, target group,
 * start time) or the emulator URL itself.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
// The target group ARN the sandbox packages with and replaces at deploy: the packaged dashboard still names it.
import { TARGET_GROUP_PLACEHOLDER } from '../boot/settings';
import { DashboardError, parseDashboardBody, resolveDashboardBody, type Dashboard } from './body';
import { fetchDashboardData, type DashboardData } from './data';
import { readEmfFile } from './emf';
import { renderDashboardSvg } from './svg';

export interface SandboxLike {
  readonly endpoint: string;
  readonly targetGroupArn: string;
  readonly template: unknown;
  /** The functions' log (their EMF lines feed the PydioAutoscaler widgets). */
  readonly logFile: string;
  readonly stack: { readonly region: string; readonly accountId: string };
}

export interface RenderRequest {
  readonly out: string;
  readonly start: Date;
  /** Default now. */
  readonly end?: Date;
  /** Period for every metric instead of the widgets' 60-300 s (a short run at 300 s is one point). */
  readonly periodOverride?: number;
  readonly name?: string;
  /** The functions' log file: EMF lines there stand in for CloudWatch Logs' metric extraction. */
  readonly emfLogFile?: string;
}

export interface RenderResult {
  readonly out: string;
  readonly dashboard: Dashboard;
  readonly data: DashboardData;
  /** Per widget title: how many datapoints it drew. */
  readonly pointsPerWidget: Readonly<Record<string, number>>;
}

function cloudWatch(endpoint: string, region: string): CloudWatchClient {
  return new CloudWatchClient({ endpoint, region, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 2 });
}

export async function renderFromEndpoint(endpoint: string, body: string, req: RenderRequest, region = 'eu-west-1'): Promise<RenderResult> {
  const dashboard = parseDashboardBody(body);
  const end = req.end ?? new Date();
  const window = {
    start: req.start,
    end,
    ...(req.periodOverride !== undefined ? { periodOverride: req.periodOverride } : {}),
    ...(req.emfLogFile !== undefined ? { emf: readEmfFile(req.emfLogFile) } : {}),
  };
  const data = await fetchDashboardData(cloudWatch(endpoint, region), dashboard, window);
  const subtitle = req.periodOverride !== undefined ? `period ${req.periodOverride} s for every metric (the dashboard's own: ${[...new Set(dashboard.widgets.flatMap((w) => (w.type === 'metric' ? [w.period] : [])))].join('/')} s)` : 'periods as in the dashboard';
  const svg = renderDashboardSvg(dashboard, data, { name: req.name ?? 'ClusterDashboard', start: req.start, end, subtitle });
  fs.mkdirSync(path.dirname(path.resolve(req.out)), { recursive: true });
  fs.writeFileSync(req.out, svg);
  const pointsPerWidget: Record<string, number> = {};
  dashboard.widgets.forEach((w, i) => {
    if (w.type === 'metric') pointsPerWidget[w.title] = (data[i] ?? []).reduce((n, s) => n + s.points.length, 0);
  });
  return { out: req.out, dashboard, data, pointsPerWidget };
}

/** The sandbox's deployed dashboard (its packaged template, Sub resolved with the deployed names) over [start, end]. */
export async function renderSandboxDashboard(sb: SandboxLike, req: RenderRequest): Promise<RenderResult> {
  const body = resolveDashboardBody(sb.template, { region: sb.stack.region, accountId: sb.stack.accountId, replace: { [TARGET_GROUP_PLACEHOLDER]: sb.targetGroupArn } });
  return renderFromEndpoint(sb.endpoint, body, { name: 'pydio-autoscaler-pasbox (sandbox)', emfLogFile: sb.logFile, ...req }, sb.stack.region);
}

// ---------------------------------------------------------------- CLI

export interface CliArgs {
  from: string;
  template: string;
  out: string;
  minutes: number;
  period?: number;
}

export function parseArgs(argv: readonly string[]): CliArgs {
  const args: Partial<CliArgs> = { minutes: 15 };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new DashboardError(`${flag ?? ''} needs a value`);
    i += 1;
    switch (flag) {
      case '--from':
        args.from = value;
        break;
      case '--template':
        args.template = value;
        break;
      case '--out':
        args.out = value;
        break;
      case '--minutes':
        args.minutes = Number(value);
        if (!(Number.isFinite(args.minutes) && args.minutes > 0 && args.minutes <= 1440)) throw new DashboardError(`--minutes must be 0-1440, got '${value}'`);
        break;
      case '--period':
        args.period = Number(value);
        if (!(Number.isInteger(args.period) && args.period >= 1)) throw new DashboardError(`--period must be a positive integer of seconds, got '${value}'`);
        break;
      default:
        throw new DashboardError(`unknown option '${flag ?? ''}' (use --from, --template, --out, --minutes, --period)`);
    }
  }
  for (const key of ['from', 'template', 'out'] as const) if (args[key] === undefined) throw new DashboardError(`--${key} is required`);
  return args as CliArgs;
}

async function main(argv: readonly string[]): Promise<void> {
  const args = parseArgs(argv);
  let endpoint = args.from;
  let targetGroupArn: string | undefined;
  let logFile: string | undefined;
  if (!/^https?:\/\//.test(args.from)) {
    const stateFile = path.join(args.from, 'cli-state.json');
    if (!fs.existsSync(stateFile)) throw new DashboardError(`--from '${args.from}' is neither a URL nor a state dir with cli-state.json (is the sandbox up?)`);
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { endpoint?: unknown; targetGroupArn?: unknown; logFile?: unknown };
    if (typeof state.logFile === 'string') logFile = state.logFile;
    if (typeof state.endpoint !== 'string') throw new DashboardError(`${stateFile} has no endpoint`);
    endpoint = state.endpoint;
    if (typeof state.targetGroupArn === 'string') targetGroupArn = state.targetGroupArn;
  }
  if (!fs.existsSync(args.template)) throw new DashboardError(`--template '${args.template}' does not exist`);
  const template = JSON.parse(fs.readFileSync(args.template, 'utf8')) as unknown;
  const body = resolveDashboardBody(template, { region: 'eu-west-1', ...(targetGroupArn !== undefined ? { replace: { [TARGET_GROUP_PLACEHOLDER]: targetGroupArn } } : {}) });
  const end = new Date();
  const result = await renderFromEndpoint(endpoint, body, {
    out: args.out,
    start: new Date(end.getTime() - args.minutes * 60_000),
    end,
    ...(args.period !== undefined ? { periodOverride: args.period } : {}),
    ...(logFile !== undefined ? { emfLogFile: logFile } : {}),
  });
  process.stdout.write(`${result.out}\n`);
  for (const [title, n] of Object.entries(result.pointsPerWidget)) process.stderr.write(`  ${title}: ${n} datapoints\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`render: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
