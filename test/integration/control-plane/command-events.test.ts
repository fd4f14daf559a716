/**
 * Run Command's status-change events (issue 11): a command sent to two instances, one step failing on
 * one of them, read from queues that EventBridge rules stored in moto route them to.
 */
import { AutoScalingClient, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { CreateDocumentCommand, ListCommandsCommand, SendCommandCommand, SSMClient, type Command } from '@aws-sdk/client-ssm';
import { createQueue, createStageEnvironment, routeEventsToQueue } from '../../sandbox/control-plane/aws-setup';
import { COMMAND_STATUS_CHANGE, INVOCATION_STATUS_CHANGE } from '../../sandbox/control-plane/command-events';
import type { AwsEvent } from '../../sandbox/control-plane/event-bus';
import type { MotoServer } from '../../sandbox/control-plane/moto';
import { drainQueue, eventually, startHarness, startMoto, type Harness } from './harness';

jest.setTimeout(60_000);

let moto: MotoServer;
let h: Harness;
let ssm: SSMClient;
let ok: string;
let failing: string;
let allQueue: string;
let terminalQueue: string;

const DOC = 'h11-configure';
const content = {
  schemaVersion: '2.2',
  description: 'two steps',
  parameters: {
    Volume: { type: 'String', allowedPattern: '^[a-z][a-z0-9-]{0,63}$', interpolationType: 'ENV_VAR' },
    Mode: { type: 'String', default: 'rw', allowedValues: ['rw', 'ro'] },
  },
  mainSteps: [
    { action: 'aws:runShellScript', name: 'prepare', inputs: { runCommand: ['mkdir -p "/mnt/$SSM_Volume"'] } },
    { action: 'aws:runShellScript', name: 'mount', inputs: { runCommand: ['mount -o {{ Mode }} "/mnt/$SSM_Volume"'] } },
  ],
};
const TERMINAL = ['Success', 'Failed', 'TimedOut', 'Cancelled'];

beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

beforeEach(async () => {
  h = await startHarness(moto);
  const env = await createStageEnvironment(h.cp.url, { prefix: 'h11e' });
  await new AutoScalingClient(h.config).send(new SetDesiredCapacityCommand({ AutoScalingGroupName: env.groupName, DesiredCapacity: 2 }));
  [ok, failing] = h.hosts.launched.map((l) => l.instanceId) as [string, string];
  ssm = new SSMClient(h.config);
  await ssm.send(new CreateDocumentCommand({ Name: DOC, DocumentType: 'Command', DocumentFormat: 'JSON', Content: JSON.stringify(content) }));
  const all = await createQueue(h.cp.url, 'h11e-commands');
  await routeEventsToQueue(h.cp.url, { ruleName: 'h11e-commands', pattern: { source: ['aws.ssm'], 'detail-type': [COMMAND_STATUS_CHANGE, INVOCATION_STATUS_CHANGE] }, queueArn: all.queueArn });
  const terminal = await createQueue(h.cp.url, 'h11e-terminal');
  await routeEventsToQueue(h.cp.url, { ruleName: 'h11e-terminal', pattern: { source: ['aws.ssm'], detail: { status: TERMINAL } }, queueArn: terminal.queueArn });
  allQueue = all.queueUrl;
  terminalQueue = terminal.queueUrl;
});
afterEach(async () => {
  await h?.cp.stop();
});

/** Run Command's events the front emitted for `commandId`, in emission order (the journal also holds lifecycle events). */
const journalOf = (commandId: string) => h.cp.journal.filter((e) => e.event.source === 'aws.ssm' && e.event.detail['command-id'] === commandId);
const label = (e: AwsEvent): string => `${e['detail-type'] === COMMAND_STATUS_CHANGE ? 'command' : String(e.detail['instance-id'])} ${String(e.detail.status)}`;

/** Sends the command with `prepare` failing (exit 3) on `failing` only, and waits for its last event. */
async function sendWithOneFailure(): Promise<{ commandId: string; command: Command }> {
  h.executor.failStep(DOC, 'prepare', { exitCode: 3, stderr: 'mkdir: permission denied\n', instanceId: failing });
  const sent = await ssm.send(new SendCommandCommand({ DocumentName: DOC, InstanceIds: [ok, failing], Parameters: { Volume: ['pydio-data'] } }));
  const commandId = sent.Command?.CommandId ?? '';
  await eventually(async () => (journalOf(commandId).some((e) => e.event['detail-type'] === COMMAND_STATUS_CHANGE && TERMINAL.includes(String(e.event.detail.status))) ? true : undefined), 'the command terminal event');
  const listed = await ssm.send(new ListCommandsCommand({ CommandId: commandId }));
  return { commandId, command: listed.Commands?.[0] ?? {} };
}

test('two instances, one step failing on one: each invocation InProgress then its terminal status, the command InProgress then Failed after both, exactly as documented', async () => {
  const { commandId, command } = await sendWithOneFailure();
  expect(command).toMatchObject({ Status: 'Failed', CompletedCount: 2, ErrorCount: 1 });

  // The order of the changes: nothing for Pending; the command's InProgress follows the first invocation's, its Failed both terminals.
  const emitted = journalOf(commandId).map((e) => e.event);
  const order = emitted.map(label);
  expect(order).toHaveLength(6);
  expect(order.filter((l) => l.startsWith(ok))).toEqual([`${ok} InProgress`, `${ok} Success`]);
  expect(order.filter((l) => l.startsWith(failing))).toEqual([`${failing} InProgress`, `${failing} Failed`]);
  expect(order.filter((l) => l.startsWith('command'))).toEqual(['command InProgress', 'command Failed']);
  expect(order.indexOf('command InProgress')).toBe(1);
  expect(order[5]).toBe('command Failed');

  // Each event as the Systems Manager examples show it, with the values the API reports for the command.
  const requested = (command.RequestedDateTime ?? new Date(0)).toISOString();
  const expires = (command.ExpiresAfter ?? new Date(0)).toISOString();
  const arn = (id: string) => `arn:aws:ec2:eu-west-1:123456789012:instance/${id}`;
  for (const e of emitted) {
    expect(e).toMatchObject({ version: '0', source: 'aws.ssm', account: '123456789012', region: 'eu-west-1' });
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    if (e['detail-type'] === COMMAND_STATUS_CHANGE) {
      expect(e.resources).toEqual([arn(ok), arn(failing)]);
      expect(e.detail).toEqual({ 'command-id': commandId, 'document-name': DOC, 'expire-after': expires, parameters: { Volume: ['pydio-data'], Mode: ['rw'] }, 'requested-date-time': requested, status: e.detail.status });
    } else {
      const id = String(e.detail['instance-id']);
      expect(e.resources).toEqual([arn(id)]);
      expect(e.detail).toEqual({ 'command-id': commandId, 'document-name': DOC, 'instance-id': id, 'requested-date-time': requested, status: e.detail.status });
    }
  }
  expect(requested).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

  // The rule on source and detail-type routed every one of them, as emitted, to its queue; the rule on detail.status only the three terminal ones.
  const delivered = (await drainQueue(h.cp.url, allQueue, 6, 5000)) as AwsEvent[];
  expect(delivered.map((e) => e.id).sort()).toEqual(emitted.map((e) => e.id).sort());
  expect(delivered.map((d) => emitted.find((e) => e.id === d.id))).toEqual(delivered);
  const terminal = (await drainQueue(h.cp.url, terminalQueue, 4, 3000)) as AwsEvent[];
  expect(terminal.map(label).sort()).toEqual(['command Failed', `${failing} Failed`, `${ok} Success`].sort());
  expect(journalOf(commandId).every((e) => e.deliveries.every((d) => d.ok))).toBe(true);
});

test("best effort: a dropped invocation event reaches no queue and the journal says so; the others still arrive", async () => {
  h.cp.dropNextEvent('the next Success of an invocation', (e) => e['detail-type'] === INVOCATION_STATUS_CHANGE && e.detail.status === 'Success');
  const { commandId } = await sendWithOneFailure();
  const dropped = journalOf(commandId).filter((e) => e.dropped !== undefined);
  expect(dropped.map((e) => [label(e.event), e.dropped, e.deliveries.length])).toEqual([[`${ok} Success`, 'the next Success of an invocation', 0]]);
  const delivered = (await drainQueue(h.cp.url, allQueue, 6, 3000)) as AwsEvent[];
  expect(delivered.map(label).sort()).toEqual(['command InProgress', 'command Failed', `${ok} InProgress`, `${failing} InProgress`, `${failing} Failed`].sort());
});

test('a command no agent receives: its invocation and the command end TimedOut, each with its event, and nothing InProgress', async () => {
  h.executor.setOffline(failing);
  // 30 s is the least TimeoutSeconds SendCommand accepts.
  const sent = await ssm.send(new SendCommandCommand({ DocumentName: DOC, InstanceIds: [failing], Parameters: { Volume: ['pydio-data'] }, TimeoutSeconds: 30 }));
  const commandId = sent.Command?.CommandId ?? '';
  await eventually(async () => (journalOf(commandId).length >= 2 ? true : undefined), 'the delivery timeout events', 40_000);
  expect(journalOf(commandId).map((e) => label(e.event))).toEqual([`${failing} TimedOut`, 'command TimedOut']);
});

test('the emulator stopping is no status change: a command still waiting for its agent sends nothing on the way out', async () => {
  h.executor.setOffline(failing);
  const sent = await ssm.send(new SendCommandCommand({ DocumentName: DOC, InstanceIds: [failing], Parameters: { Volume: ['pydio-data'] } }));
  await h.cp.stop();
  expect(journalOf(sent.Command?.CommandId ?? '')).toEqual([]);
});
