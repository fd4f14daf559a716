/**
 * The operator CLI's commands, through the ports only: each calls the stage's
 * deployed functions with Lambda's Invoke API (or reads their logs), shows the
 * answer as tables or JSON, and returns the exit code. Errors an operator can
 * act on are OperatorErrors worded for them; lib/cli/main.ts prints them.
 */
import type { ExpansionPlan } from '../core/storage/expand';
import type { ShrinkPlan } from '../core/storage/shrink';
import { OperatorError } from '../errors';
import type { FunctionInvokerPort } from '../ports/lambda';
import type { LogReaderPort } from '../ports/logs';
import type { ClusterStatus } from '../usecases/status';
import type { InvokeAnswer } from '../usecases/storage/invoke';
import { storagePayload, type Command, type Common } from './args';
import { DECISION_PATTERN, decisionOf, newest, NOTICE_PATTERN, noticeOf, type DecisionEntry, type Entry, type NoticeEntry } from './decisions';
import { functionName, logGroupName, type FunctionKey } from './names';
import { startPhase, type Clock, type ProgressSink } from './progress';
import { renderEntries, renderPlan, renderStatus } from './render';

export const EXIT = { ok: 0, error: 1, usage: 2, refused: 3 } as const;

export interface CliDeps {
  readonly invoker: FunctionInvokerPort;
  readonly logs: LogReaderPort;
  /** stdout: the answer. */
  readonly out: (text: string) => void;
  /** stderr: progress. */
  readonly progress: ProgressSink;
  readonly clock: Clock;
  /** Where the calls go, for messages: the Region, or the endpoint URL. */
  readonly where: string;
}

function notDeployed(common: Common, key: FunctionKey, where: string, awsMessage: string): OperatorError {
  const name = functionName(common.stage, key);
  const storage = key === 'storage' ? `, or stage ${common.stage} has no storage tier (its storageGroupName parameter is empty)` : '';
  return new OperatorError(
    `function ${name} is not deployed in ${where}: check --stage and --region (deploy with npx sls deploy --stage ${common.stage})${storage} [Lambda: ResourceNotFoundException: ${awsMessage}]`,
  );
}

function errorDocument(payload: unknown): string {
  if (typeof payload !== 'object' || payload === null) return JSON.stringify(payload) ?? 'no error document';
  const { errorType, errorMessage } = payload as { errorType?: unknown; errorMessage?: unknown };
  return `${typeof errorType === 'string' ? `${errorType}: ` : ''}${typeof errorMessage === 'string' ? errorMessage : JSON.stringify(payload)}`;
}

/** RequestResponse invoke of one of the stage's functions, its phase on stderr; the payload of a successful answer. */
async function invoke(deps: CliDeps, common: Common, key: FunctionKey, payload: unknown, what: string): Promise<unknown> {
  const name = functionName(common.stage, key);
  const phase = startPhase(deps.progress, `invoking ${name} (${what})`, deps.clock);
  let outcome;
  try {
    outcome = await deps.invoker.invoke(name, payload);
  } catch (error) {
    phase.end('failed');
    throw error;
  }
  if (outcome.kind === 'not-found') {
    phase.end('not deployed');
    throw notDeployed(common, key, deps.where, outcome.message);
  }
  if (outcome.functionError !== undefined) {
    phase.end('function failed');
    throw new OperatorError(`${name} failed (${outcome.functionError}): ${errorDocument(outcome.payload)}; its log: npx sls logs --stage ${common.stage} -f ${key}`);
  }
  phase.end('answered');
  return outcome.payload;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function isClusterStatus(v: unknown): v is ClusterStatus {
  return typeof v === 'object' && v !== null && typeof (v as ClusterStatus).stage === 'string' && typeof (v as ClusterStatus).groups === 'object' && typeof (v as ClusterStatus).storage === 'object';
}

function isInvokeAnswer(v: unknown): v is InvokeAnswer {
  const outcome = (v as { outcome?: unknown } | null)?.outcome;
  return typeof v === 'object' && v !== null && (outcome === 'planned' || outcome === 'accepted' || outcome === 'refused' || outcome === 'rejected');
}

function unreadable(name: string, payload: unknown): OperatorError {
  return new OperatorError(`${name} answered something this CLI cannot read (is the deployed code older or newer than this checkout?): ${(JSON.stringify(payload) ?? String(payload)).slice(0, 200)}`);
}

async function status(deps: CliDeps, common: Common): Promise<number> {
  const answer = await invoke(deps, common, 'status', {}, 'reads the groups, targets and Gluster status');
  if (!isClusterStatus(answer)) throw unreadable(functionName(common.stage, 'status'), answer);
  deps.out(common.json ? json(answer) : `${renderStatus(answer)}\n`);
  return EXIT.ok;
}

async function storage(deps: CliDeps, cmd: Extract<Command, { kind: 'storage' }>): Promise<number> {
  const { common, request, action } = cmd;
  const verb = request.action === 'shrink' ? 'shrink' : 'expand';
  const what = request.dryRun ? `dry run of ${verb} ${request.volume}: reads the Gluster status on a member, up to ~25s` : `${verb} ${request.volume}: queues the request`;
  const answer = await invoke(deps, common, 'storage', storagePayload(request), what);
  if (!isInvokeAnswer(answer)) throw unreadable(functionName(common.stage, 'storage'), answer);
  if (answer.outcome === 'rejected') throw new OperatorError(`the storage function rejected the request: ${answer.error}`);
  if (common.json) {
    deps.out(json(answer));
    return answer.outcome === 'refused' ? EXIT.refused : EXIT.ok;
  }
  if (answer.outcome === 'refused') {
    deps.out(`Refused: ${answer.reason}\n`);
    return EXIT.refused;
  }
  if (answer.outcome === 'accepted') {
    deps.out(
      [
        `Accepted: ${verb} of ${request.volume} queued. The storage function plans it again from a fresh Gluster status; the plan, its progress and the result reach ops as notifications.`,
        `Follow it: pydio-autoscaler status --stage ${common.stage}   pydio-autoscaler decisions --stage ${common.stage} --since 1h`,
      ].join('\n') + '\n',
    );
    return EXIT.ok;
  }
  const lines = [renderPlan(common.stage, answer.plan as ExpansionPlan | ShrinkPlan, true)];
  if (cmd.act) lines.push(`The stage runs in dry run (its dryRun parameter is true): the request was planned and nothing changed.`);
  else if (action !== 'plan') lines.push(`Nothing changed: run again with --yes to ${verb}.`);
  deps.out(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

const SEARCHES: readonly { key: FunctionKey; pattern: string }[] = [
  { key: 'alarm', pattern: DECISION_PATTERN },
  { key: 'alarm', pattern: NOTICE_PATTERN },
  { key: 'lifecycle', pattern: NOTICE_PATTERN },
  { key: 'storage', pattern: NOTICE_PATTERN },
];

/** At most this many matching lines are read per search; more makes the answer say so. */
export const MAX_EVENTS_PER_SEARCH = 2000;

function windowText(ms: number): string {
  const units: [number, string][] = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'm']];
  for (const [size, unit] of units) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${Math.round(ms / 1000)}s`;
}

async function decisions(deps: CliDeps, cmd: Extract<Command, { kind: 'decisions' }>): Promise<number> {
  const { common } = cmd;
  const startTime = deps.clock.now() - cmd.sinceMs;
  const phase = startPhase(deps.progress, `reading the CloudWatch Logs of ${functionName(common.stage, 'alarm')}, -lifecycle and -storage`, deps.clock);
  const decided: DecisionEntry[] = [];
  const told: NoticeEntry[] = [];
  const missing = new Set<string>();
  let truncated = false;
  try {
    for (const { key, pattern } of SEARCHES) {
      const group = logGroupName(common.stage, key);
      const found = await deps.logs.search({ logGroupName: group, startTime, filterPattern: pattern, maxEvents: MAX_EVENTS_PER_SEARCH });
      if (!found.found) {
        missing.add(group);
        continue;
      }
      truncated ||= found.truncated;
      for (const event of found.events) {
        if (pattern === DECISION_PATTERN) {
          const d = decisionOf(event);
          if (d) decided.push(d);
        } else {
          const n = noticeOf(event, key);
          if (n) told.push(n);
        }
      }
    }
  } catch (error) {
    phase.end('failed');
    throw error;
  }
  phase.end(`${decided.length} decision(s), ${told.length} notice(s)`);
  if (missing.has(logGroupName(common.stage, 'alarm')) && missing.has(logGroupName(common.stage, 'lifecycle'))) {
    throw new OperatorError(`no log group of stage ${common.stage} in ${deps.where} (${[...missing].join(', ')}): check --stage and --region; a function that has never run has no log group yet`);
  }
  const entries: Entry[] = newest([...decided, ...told], cmd.limit);
  const window = windowText(cmd.sinceMs);
  if (common.json) {
    deps.out(json({ stage: common.stage, since: new Date(startTime).toISOString(), truncated, missingLogGroups: [...missing], entries }));
  } else {
    const notes = [...missing].filter((g) => g !== logGroupName(common.stage, 'alarm')).map((g) => `(no log group ${g}: that function has not run, or is not deployed)`);
    deps.out(`${[renderEntries(entries, window, truncated), ...notes].join('\n')}\n`);
  }
  return EXIT.ok;
}

export async function runCommand(cmd: Exclude<Command, { kind: 'help' }>, deps: CliDeps): Promise<number> {
  switch (cmd.kind) {
    case 'status':
      return status(deps, cmd.common);
    case 'storage':
      return storage(deps, cmd);
    case 'decisions':
      return decisions(deps, cmd);
  }
}
