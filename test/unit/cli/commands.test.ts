import { parseArgs, type Command } from '../../../lib/cli/args';
import { EXIT, MAX_EVENTS_PER_SEARCH, runCommand, type CliDeps } from '../../../lib/cli/commands';
import type { Clock } from '../../../lib/cli/progress';
import { planExpansion, type ExpansionPlan } from '../../../lib/core/storage/expand';
import type { ClusterSnapshot, StorageMember } from '../../../lib/core/storage/snapshot';
import { OperatorError } from '../../../lib/errors';
import type { FunctionInvokerPort, InvokeOutcome } from '../../../lib/ports/lambda';
import type { LogReaderPort, LogSearch, LogSearchResult } from '../../../lib/ports/logs';
import type { ClusterStatus } from '../../../lib/usecases/status';

const GiB = 1024 ** 3;
const member = (n: number, zone: string): StorageMember => ({ instanceId: `i-${n}`, host: `10.99.${n}.5`, zone, lifecycleState: 'InService', peerState: 'connected', protected: true });
const snapshot: ClusterSnapshot = {
  group: { name: 'pydio-storage', min: 2, max: 6, desired: 2, zones: ['eu-west-1a', 'eu-west-1b'] },
  members: [member(1, 'eu-west-1a'), member(2, 'eu-west-1b')],
  volumes: [{ name: 'pydio-data', replicaCount: 2, rebalance: 'none', healPending: 0, bricks: [1, 2].map((n) => ({ host: `10.99.${n}.5`, path: '/bricks/pydio-data/brick', online: true, sizeTotal: 100 * GiB, sizeFree: 50 * GiB })) }],
};
const plan = planExpansion(snapshot, { volume: 'pydio-data', sets: 1 }, { brickRoot: '/bricks', newBrickBytes: 100 * GiB, maxSetsPerRequest: 2 }) as ExpansionPlan;

const STATUS: ClusterStatus = {
  stage: 'prod',
  at: '2026-11-21T10:00:00.000Z',
  dryRun: false,
  groups: {
    compute: {
      available: true,
      name: 'pydio-compute',
      min: 1,
      max: 6,
      desired: 2,
      instances: [
        { instanceId: 'i-0aaa', availabilityZone: 'eu-west-1a', lifecycleState: 'InService', healthStatus: 'Healthy', protectedFromScaleIn: false, lifecyclePending: false },
        { instanceId: 'i-0bbb', availabilityZone: 'eu-west-1b', lifecycleState: 'Pending:Wait', healthStatus: 'Healthy', protectedFromScaleIn: false, lifecyclePending: true },
      ],
      lifecycleStates: { InService: 1, 'Pending:Wait': 1 },
    },
    storage: { available: false, reason: 'group pydio-storage does not exist' },
  },
  targets: { available: true, targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pydio/0123', healthy: 1, targets: [{ instanceId: 'i-0aaa', port: 80, state: 'healthy' }] },
  storage: {
    available: true,
    peers: [{ host: '10.99.2.5', state: 'Peer in Cluster (Connected)' }],
    volumes: [{ name: 'pydio-data', status: 'Started', replicaCount: 2, healthy: true }],
    bricks: [{ volume: 'pydio-data', host: '10.99.1.5', path: '/bricks/pydio-data/brick', online: true }],
    tasks: [],
  },
};

class FakeInvoker implements FunctionInvokerPort {
  readonly calls: { name: string; payload: unknown }[] = [];
  constructor(private readonly answer: (name: string, payload: unknown) => InvokeOutcome) {}
  async invoke(name: string, payload: unknown): Promise<InvokeOutcome> {
    this.calls.push({ name, payload });
    return this.answer(name, payload);
  }
}

class FakeLogs implements LogReaderPort {
  readonly searches: LogSearch[] = [];
  constructor(private readonly answer: (s: LogSearch) => LogSearchResult) {}
  async search(s: LogSearch): Promise<LogSearchResult> {
    this.searches.push(s);
    return this.answer(s);
  }
}

const clock: Clock = { now: () => Date.parse('2026-11-21T12:00:00Z'), every: () => () => undefined };

function harness(invoker: FunctionInvokerPort, logs: LogReaderPort = new FakeLogs(() => ({ found: false, message: 'The specified log group does not exist.' }))) {
  let out = '';
  let err = '';
  const deps: CliDeps = { invoker, logs, out: (t) => void (out += t), progress: { write: (t) => void (err += t), isTTY: false }, clock, where: 'eu-west-1' };
  return { deps, out: () => out, err: () => err };
}
const command = (line: string) => parseArgs(line.split(' ')) as Exclude<Command, { kind: 'help' }>;
const answered = (payload: unknown): InvokeOutcome => ({ kind: 'answered', statusCode: 200, payload });

describe('status', () => {
  it('invokes <service>-<stage>-status with {} and prints readable tables; progress goes to stderr', async () => {
    // Prepare
    const invoker = new FakeInvoker(() => answered(STATUS));
    const h = harness(invoker);
    // Act
    const code = await runCommand(command('status --stage prod'), h.deps);
    // Assess
    expect(code).toBe(EXIT.ok);
    expect(invoker.calls).toEqual([{ name: 'pydio-autoscaler-prod-status', payload: {} }]);
    expect(h.out()).toContain('  pydio-compute: desired 2 (min 1, max 6); 1 InService, 1 Pending:Wait');
    expect(h.out()).toMatch(/^ {2}instance +zone +lifecycle +health +scale-in protected +hook pending$/m);
    expect(h.out()).toMatch(/^ {2}i-0bbb +eu-west-1b +Pending:Wait +Healthy +no +yes$/m);
    expect(h.out()).toContain('Storage group\n  unavailable: group pydio-storage does not exist');
    expect(h.out()).toMatch(/^ {2}pydio-data +Started +2 +yes$/m);
    expect(h.out()).toContain('1 healthy of 1');
    expect(h.err()).toMatch(/^pydio-autoscaler: invoking pydio-autoscaler-prod-status \(.*\) \.\.\.\n.*: answered after 0\.0s\n$/);
  });

  it('--json prints the function\'s answer unchanged', async () => {
    const h = harness(new FakeInvoker(() => answered(STATUS)));
    await runCommand(command('status --stage prod --json'), h.deps);
    expect(JSON.parse(h.out())).toEqual(STATUS);
  });

  it('a function that is not deployed is one sentence naming it, the Region and what to check', async () => {
    const h = harness(new FakeInvoker(() => ({ kind: 'not-found', message: 'Function not found: arn:aws:lambda:eu-west-1:123456789012:function:pydio-autoscaler-qa-status' })));
    const run = runCommand(command('status --stage qa'), h.deps);
    await expect(run).rejects.toThrow(OperatorError);
    await expect(runCommand(command('status --stage qa'), h.deps)).rejects.toThrow(
      'function pydio-autoscaler-qa-status is not deployed in eu-west-1: check --stage and --region (deploy with npx sls deploy --stage qa) [Lambda: ResourceNotFoundException: Function not found: arn:aws:lambda:eu-west-1:123456789012:function:pydio-autoscaler-qa-status]',
    );
    expect(h.err()).toContain(': not deployed after');
  });

  it('a function error names the error document and where its log is', async () => {
    const h = harness(new FakeInvoker(() => ({ kind: 'answered', statusCode: 200, functionError: 'Unhandled', payload: { errorType: 'ConfigurationError', errorMessage: 'TARGET_GROUP_ARN is required but not set' } })));
    await expect(runCommand(command('status --stage prod'), h.deps)).rejects.toThrow(
      'pydio-autoscaler-prod-status failed (Unhandled): ConfigurationError: TARGET_GROUP_ARN is required but not set; its log: npx sls logs --stage prod -f status',
    );
  });

  it('an answer of another shape is refused, not half printed', async () => {
    const h = harness(new FakeInvoker(() => answered({ hello: 'world' })));
    await expect(runCommand(command('status --stage prod'), h.deps)).rejects.toThrow('answered something this CLI cannot read');
    expect(h.out()).toBe('');
  });
});

describe('storage', () => {
  it('plan sends a dry-run request and prints the plan in the words of its notification', async () => {
    const invoker = new FakeInvoker(() => answered({ outcome: 'planned', dryRun: true, plan, commands: plan.commands }));
    const h = harness(invoker);
    expect(await runCommand(command('storage plan --stage prod'), h.deps)).toBe(EXIT.ok);
    expect(invoker.calls).toEqual([{ name: 'pydio-autoscaler-prod-storage', payload: { volume: 'pydio-data', sets: 1, dryRun: true, reason: 'operator CLI' } }]);
    expect(h.out()).toContain('pydio-data grows by 1 replica set (2 bricks, zones eu-west-1a + eu-west-1b): 100 GiB -> 200 GiB usable');
    expect(h.out()).toContain('Dry run: nothing was changed.');
    expect(h.out()).toContain('    gluster --mode=script volume rebalance pydio-data start');
    expect(h.out()).not.toContain('--yes');
    expect(h.err()).toContain('dry run of expand pydio-data: reads the Gluster status on a member');
  });

  it('expand without --yes is the same dry run, and says how to act', async () => {
    const h = harness(new FakeInvoker(() => answered({ outcome: 'planned', dryRun: true, plan, commands: plan.commands })));
    await runCommand(command('storage expand --stage prod'), h.deps);
    expect(h.out()).toContain('Nothing changed: run again with --yes to expand.');
  });

  it('expand --yes is queued: accepted, and says how to follow it', async () => {
    const invoker = new FakeInvoker(() => answered({ outcome: 'accepted', dryRun: false, request: {}, note: 'queued' }));
    const h = harness(invoker);
    expect(await runCommand(command('storage expand --stage prod --yes'), h.deps)).toBe(EXIT.ok);
    expect(invoker.calls[0]?.payload).toEqual({ volume: 'pydio-data', sets: 1, dryRun: false, reason: 'operator CLI' });
    expect(h.out()).toContain('Accepted: expand of pydio-data queued.');
    expect(h.out()).toContain('pydio-autoscaler decisions --stage prod --since 1h');
  });

  it('--yes on a stage that runs in dry run says nothing changed', async () => {
    const h = harness(new FakeInvoker(() => answered({ outcome: 'planned', dryRun: true, plan, commands: plan.commands })));
    await runCommand(command('storage expand --stage prod --yes'), h.deps);
    expect(h.out()).toContain('The stage runs in dry run (its dryRun parameter is true): the request was planned and nothing changed.');
  });

  it('a refusal is printed with its reason and exits 3, in JSON too', async () => {
    const refused = { outcome: 'refused', reason: 'another storage operation holds the cluster lock (op-1 2026-11-21T09:00:00Z): one storage operation at a time' };
    const h = harness(new FakeInvoker(() => answered(refused)));
    expect(await runCommand(command('storage shrink --stage prod'), h.deps)).toBe(EXIT.refused);
    expect(h.out()).toBe(`Refused: ${refused.reason}\n`);
    const j = harness(new FakeInvoker(() => answered(refused)));
    expect(await runCommand(command('storage shrink --stage prod --json'), j.deps)).toBe(EXIT.refused);
    expect(JSON.parse(j.out())).toEqual(refused);
  });

  it('no storage tier: the not-deployed sentence says the stage may have none', async () => {
    const h = harness(new FakeInvoker(() => ({ kind: 'not-found', message: 'Function not found' })));
    await expect(runCommand(command('storage plan --stage prod'), h.deps)).rejects.toThrow(
      'function pydio-autoscaler-prod-storage is not deployed in eu-west-1: check --stage and --region (deploy with npx sls deploy --stage prod), or stage prod has no storage tier (its storageGroupName parameter is empty)',
    );
  });

  it('a request the function rejects is an error with its words', async () => {
    const h = harness(new FakeInvoker(() => answered({ outcome: 'rejected', error: 'storage request: unknown field "x"' })));
    await expect(runCommand(command('storage plan --stage prod'), h.deps)).rejects.toThrow('the storage function rejected the request: storage request: unknown field "x"');
  });
});

describe('decisions', () => {
  const decisionLine = JSON.stringify({
    level: 'INFO',
    message: 'scaling decision',
    timestamp: '2026-11-21T11:30:00.000Z',
    function_request_id: 'r-1',
    alarmName: 'pydio-autoscaler-prod-compute-cpu-high',
    alarmState: 'ALARM',
    asgName: 'pydio-compute',
    decision: 'scale',
    from: 2,
    to: 3,
    outcome: 'acted',
    why: 'CPU high',
    dryRun: false,
    notified: true,
    notice: { subject: 'scale-out pydio-compute 2->3', eventType: 'scaling.decided', severity: 'info' },
  });
  const noticeLine = (subject: string, at: string) => JSON.stringify({ level: 'INFO', message: 'notification published', timestamp: at, function_request_id: 'r-9', subject, eventType: 'lifecycle.succeeded', severity: 'info' });

  it('reads the alarm decisions and every function\'s notices since the window began, and lists them oldest first', async () => {
    // Prepare
    const logs = new FakeLogs((s) => {
      if (s.logGroupName.endsWith('-alarm') && s.filterPattern === '"scaling decision"') return { found: true, truncated: false, events: [{ timestamp: 1, message: decisionLine }] };
      if (s.logGroupName.endsWith('-lifecycle')) return { found: true, truncated: false, events: [{ timestamp: 1, message: noticeLine('scale-out done for i-0ccc', '2026-11-21T11:35:00.000Z') }] };
      if (s.logGroupName.endsWith('-alarm')) return { found: true, truncated: false, events: [] };
      return { found: false, message: 'The specified log group does not exist.' };
    });
    const h = harness(new FakeInvoker(() => answered({})), logs);
    // Act
    const code = await runCommand(command('decisions --stage prod --since 2h'), h.deps);
    // Assess
    expect(code).toBe(EXIT.ok);
    expect(logs.searches.map((s) => [s.logGroupName, s.filterPattern, s.startTime, s.maxEvents])).toEqual([
      ['/aws/lambda/pydio-autoscaler-prod-alarm', '"scaling decision"', Date.parse('2026-11-21T10:00:00Z'), MAX_EVENTS_PER_SEARCH],
      ['/aws/lambda/pydio-autoscaler-prod-alarm', '"notification published"', Date.parse('2026-11-21T10:00:00Z'), MAX_EVENTS_PER_SEARCH],
      ['/aws/lambda/pydio-autoscaler-prod-lifecycle', '"notification published"', Date.parse('2026-11-21T10:00:00Z'), MAX_EVENTS_PER_SEARCH],
      ['/aws/lambda/pydio-autoscaler-prod-storage', '"notification published"', Date.parse('2026-11-21T10:00:00Z'), MAX_EVENTS_PER_SEARCH],
    ]);
    const rows = h.out().split('\n');
    expect(rows[0]).toBe('Decisions and notices of the last 2h');
    expect(rows[2]).toMatch(/^ {2}2026-11-21 11:30:00Z +alarm +scale pydio-compute 2->3 +acted +info scale-out pydio-compute 2->3$/);
    expect(rows[3]).toMatch(/^ {2}2026-11-21 11:35:00Z +lifecycle +notice +lifecycle\.succeeded +info scale-out done for i-0ccc$/);
    expect(h.out()).toContain('(no log group /aws/lambda/pydio-autoscaler-prod-storage: that function has not run, or is not deployed)');
  });

  it('no log group of the stage at all: one sentence naming the groups looked for', async () => {
    const h = harness(new FakeInvoker(() => answered({})));
    await expect(runCommand(command('decisions --stage qa'), h.deps)).rejects.toThrow('no log group of stage qa in eu-west-1 (/aws/lambda/pydio-autoscaler-qa-alarm, /aws/lambda/pydio-autoscaler-qa-lifecycle, /aws/lambda/pydio-autoscaler-qa-storage): check --stage and --region');
  });

  it('an empty window says so, and that logs can lag', async () => {
    const h = harness(new FakeInvoker(() => answered({})), new FakeLogs(() => ({ found: true, truncated: false, events: [] })));
    await runCommand(command('decisions --stage prod --since 15m'), h.deps);
    expect(h.out()).toContain('nothing in the last 15m (CloudWatch Logs may take a few minutes to show new lines)');
  });
});
