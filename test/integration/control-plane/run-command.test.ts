import { createSsmPort } from '../../../lib/aws/ssm';
import { AutoScalingClient, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateDocumentCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { createStageEnvironment } from '../../sandbox/control-plane/aws-setup';
import type { MotoServer } from '../../sandbox/control-plane/moto';
import { eventually, startHarness, startMoto, type Harness } from './harness';

jest.setTimeout(60_000);

let moto: MotoServer;
let h: Harness;
let ssm: SSMClient;
let instanceId: string;
let otherId: string;

const DOC = 'h4-mount-volumes';
const content = {
  schemaVersion: '2.2',
  description: 'two steps',
  parameters: {
    Volume: { type: 'String', allowedPattern: '^[a-z][a-z0-9-]{0,63}$', interpolationType: 'ENV_VAR' },
    Server: { type: 'String', default: '10.71.1.10', allowedPattern: '^[0-9.]+$', interpolationType: 'ENV_VAR' },
    Mode: { type: 'String', default: 'rw', allowedValues: ['rw', 'ro'] },
  },
  mainSteps: [
    { action: 'aws:runShellScript', name: 'prepare', inputs: { runCommand: ['set -eu', 'mkdir -p "/mnt/$SSM_Volume"'], timeoutSeconds: 30 } },
    { action: 'aws:runShellScript', name: 'mount', inputs: { runCommand: ['mount -o {{ Mode }} "$SSM_Server:/$SSM_Volume" "/mnt/$SSM_Volume"'], timeoutSeconds: 1 } },
  ],
};

beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

beforeEach(async () => {
  h = await startHarness(moto);
  const env = await createStageEnvironment(h.cp.url, { prefix: 'h4r' });
  await new AutoScalingClient(h.config).send(new SetDesiredCapacityCommand({ AutoScalingGroupName: env.groupName, DesiredCapacity: 2 }));
  [instanceId, otherId] = h.hosts.launched.map((l) => l.instanceId) as [string, string];
  ssm = new SSMClient(h.config);
  await ssm.send(new CreateDocumentCommand({ Name: DOC, DocumentType: 'Command', DocumentFormat: 'JSON', Content: JSON.stringify(content) }));
});
afterEach(async () => {
  await h?.cp.stop();
});

/** The invocation on a node, as AWS says to read it: ListCommandInvocations (GetCommandInvocation only reads one step). */
async function finished(commandId: string, id = instanceId): Promise<Record<string, unknown>> {
  return eventually(async () => {
    const out = await ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId, InstanceId: id, Details: true }));
    const inv = out.CommandInvocations?.[0];
    return inv === undefined || inv.Status === 'Pending' || inv.Status === 'InProgress' ? undefined : (inv as unknown as Record<string, unknown>);
  }, `command ${commandId} to finish`);
}

/** One step's full result (stdout up to 24,000 characters). */
async function stepResult(commandId: string, pluginName: string, id = instanceId): Promise<Record<string, unknown>> {
  return (await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: id, PluginName: pluginName }))) as unknown as Record<string, unknown>;
}

test('a bad parameter value is refused with InvalidParameters and nothing runs', async () => {
  await expect(
    ssm.send(new SendCommandCommand({ DocumentName: DOC, InstanceIds: [instanceId], Parameters: { Volume: ['x; rm -rf /'] } })),
  ).rejects.toMatchObject({ name: 'InvalidParameters', message: expect.stringContaining('Volume') });
  await expect(ssm.send(new SendCommandCommand({ DocumentName: DOC, InstanceIds: [instanceId], Parameters: { Volume: ['data'], Nope: ['1'] } }))).rejects.toMatchObject({
    name: 'InvalidParameters',
  });
  await expect(ssm.send(new SendCommandCommand({ DocumentName: DOC, InstanceIds: [instanceId], Parameters: {} }))).rejects.toMatchObject({ name: 'InvalidParameters' });
  await expect(ssm.send(new SendCommandCommand({ DocumentName: DOC, InstanceIds: [instanceId], Parameters: { Volume: ['data'], Mode: ['rwx'] } }))).rejects.toMatchObject({
    name: 'InvalidParameters',
  });
  expect(h.executor.runs).toEqual([]);
});

test('steps run in order with SSM_ variables and substitution; success reported', async () => {
  const sent = await ssm.send(new SendCommandCommand({ DocumentName: DOC, InstanceIds: [instanceId], Parameters: { Volume: ['pydio-data'] }, Comment: 'mount' }));
  const commandId = sent.Command?.CommandId ?? '';
  expect(sent.Command?.Status).toBe('Pending');
  const inv = await finished(commandId);
  expect(inv).toMatchObject({ Status: 'Success' });
  expect(await stepResult(commandId, 'mount')).toMatchObject({ Status: 'Success', ResponseCode: 0 });
  expect(h.executor.runs.map((r) => r.script)).toEqual(['set -eu\nmkdir -p "/mnt/$SSM_Volume"', 'mount -o rw "$SSM_Server:/$SSM_Volume" "/mnt/$SSM_Volume"']);
  expect(h.executor.runs[0]?.env).toEqual({ SSM_Volume: 'pydio-data', SSM_Server: '10.71.1.10' });
  expect(h.executor.runs.every((r) => r.instanceId === instanceId)).toBe(true);
  const listed = await ssm.send(new ListCommandsCommand({ CommandId: commandId }));
  expect(listed.Commands?.[0]).toMatchObject({ Status: 'Success', CompletedCount: 1, ErrorCount: 0 });
});

test('a failing step does not stop the next one (no onFailure): the invocation is Failed, each step has its own result', async () => {
  h.executor.failStep('mount-volumes', 'prepare', { exitCode: 3, stdout: 'creating /mnt/pydio-data\n', stderr: 'mkdir: permission denied\n' });
  const sent = await ssm.send(new SendCommandCommand({ DocumentName: DOC, InstanceIds: [instanceId], Parameters: { Volume: ['pydio-data'] } }));
  const commandId = sent.Command?.CommandId ?? '';
  const inv = await finished(commandId);
  expect(inv).toMatchObject({ Status: 'Failed' });
  expect(h.executor.runs).toHaveLength(2);
  expect(await stepResult(commandId, 'prepare')).toMatchObject({ Status: 'Failed', ResponseCode: 3, StandardOutputContent: 'creating /mnt/pydio-data\n', StandardErrorContent: 'mkdir: permission denied\n' });
  expect(await stepResult(commandId, 'mount')).toMatchObject({ Status: 'Success', ResponseCode: 0 });
  expect((inv.CommandPlugins as Array<{ Name: string; Status: string; ResponseCode: number }>).map((p) => [p.Name, p.Status, p.ResponseCode])).toEqual([
    ['prepare', 'Failed', 3],
    ['mount', 'Success', 0],
  ]);
});

test('a failing step with onFailure: exit skips the rest', async () => {
  const name = 'h4-exit-on-failure';
  const steps = content.mainSteps.map((step, index) => (index === 0 ? { ...step, inputs: { ...step.inputs, onFailure: 'exit' } } : step));
  await ssm.send(new CreateDocumentCommand({ Name: name, DocumentType: 'Command', DocumentFormat: 'JSON', Content: JSON.stringify({ ...content, mainSteps: steps }) }));
  h.executor.failStep(name, 'prepare', { exitCode: 3, stderr: 'no disk\n' });
  const sent = await ssm.send(new SendCommandCommand({ DocumentName: name, InstanceIds: [instanceId], Parameters: { Volume: ['pydio-data'] } }));
  const inv = await finished(sent.Command?.CommandId ?? '');
  expect(inv).toMatchObject({ Status: 'Failed' });
  expect(h.executor.runs).toHaveLength(1);
  // The agent's words (runpluginutil.go), added to the step's output.
  expect(await stepResult(sent.Command?.CommandId ?? '', 'prepare')).toMatchObject({
    StandardErrorContent: 'no disk\n\nStep was found to have onFailure property. Further document steps will be skipped.',
  });
  expect((inv.CommandPlugins as Array<{ Name: string; Status: string }>).map((p) => [p.Name, p.Status])).toEqual([
    ['prepare', 'Failed'],
    ['mount', 'Cancelled'],
  ]);
});

test("exit 168 marks the step succeeded and skips the rest (its stderr dropped); exit 169 marks it failed and skips the rest: the agent's reserved codes", async () => {
  h.executor.failStep('mount-volumes', 'prepare', { exitCode: 168, stdout: 'done early\n', stderr: 'noise\n' });
  const early = await ssm.send(new SendCommandCommand({ DocumentName: DOC, InstanceIds: [instanceId], Parameters: { Volume: ['pydio-data'] } }));
  const done = await finished(early.Command?.CommandId ?? '');
  expect(done).toMatchObject({ Status: 'Success' });
  expect((done.CommandPlugins as Array<{ Name: string; Status: string }>).map((p) => [p.Name, p.Status])).toEqual([['prepare', 'Success'], ['mount', 'Cancelled']]);
  expect(await stepResult(early.Command?.CommandId ?? '', 'prepare')).toMatchObject({
    Status: 'Success',
    StandardOutputContent: 'done early\n\nStep exited with code 168. Therefore, marking step as succeeded. Further document steps will be skipped.',
    StandardErrorContent: '',
  });
  h.executor.failStep('mount-volumes', 'prepare', { exitCode: 169 });
  const stop = await ssm.send(new SendCommandCommand({ DocumentName: DOC, InstanceIds: [instanceId], Parameters: { Volume: ['pydio-data'] } }));
  const failed = await finished(stop.Command?.CommandId ?? '');
  expect(failed).toMatchObject({ Status: 'Failed' });
  expect((failed.CommandPlugins as Array<{ Name: string; Status: string }>).map((p) => [p.Name, p.Status])).toEqual([['prepare', 'Failed'], ['mount', 'Cancelled']]);
});

test('GetCommandInvocation without PluginName on a two-step document is refused with InvalidPluginName, as AWS does', async () => {
  const sent = await ssm.send(new SendCommandCommand({ DocumentName: DOC, InstanceIds: [instanceId], Parameters: { Volume: ['pydio-data'] } }));
  const commandId = sent.Command?.CommandId ?? '';
  await finished(commandId);
  await expect(ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }))).rejects.toMatchObject({ name: 'InvalidPluginName' });
  await expect(ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId, PluginName: 'aws:runShellScript' }))).rejects.toMatchObject({ name: 'InvalidPluginName' });
});

test('a step that outlives its timeoutSeconds is TimedOut; long output is truncated at 24000', async () => {
  h.executor.setStepResult('mount-volumes', 'prepare', { stdout: 'x'.repeat(30000) });
  h.executor.setStepResult('mount-volumes', 'mount', { delayMs: 5000 });
  const sent = await ssm.send(new SendCommandCommand({ DocumentName: DOC, InstanceIds: [instanceId], Parameters: { Volume: ['pydio-data'] } }));
  const commandId = sent.Command?.CommandId ?? '';
  const inv = await finished(commandId);
  expect(inv.Status).toBe('TimedOut');
  const prepare = await stepResult(commandId, 'prepare');
  expect(prepare.Status).toBe('Success');
  expect(prepare.StandardOutputContent).toHaveLength(24000);
});

test('a new command is not readable at once (eventually consistent): InvocationDoesNotExist, nothing listed, then its status', async () => {
  const sent = await ssm.send(new SendCommandCommand({ DocumentName: DOC, InstanceIds: [instanceId], Parameters: { Volume: ['pydio-data'] } }));
  const commandId = sent.Command?.CommandId ?? '';
  await expect(ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId, PluginName: 'prepare' }))).rejects.toMatchObject({ name: 'InvocationDoesNotExist' });
  expect((await ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId, InstanceId: instanceId }))).CommandInvocations).toEqual([]);
  await expect(finished(commandId)).resolves.toMatchObject({ Status: 'Success' });
});

test('SendCommand refuses a Comment over 100 characters and a TimeoutSeconds outside 30..2592000 (ValidationException)', async () => {
  const base = { DocumentName: DOC, InstanceIds: [instanceId], Parameters: { Volume: ['pydio-data'] } };
  await expect(ssm.send(new SendCommandCommand({ ...base, Comment: 'c'.repeat(101) }))).rejects.toMatchObject({ name: 'ValidationException' });
  await expect(ssm.send(new SendCommandCommand({ ...base, TimeoutSeconds: 29 }))).rejects.toMatchObject({ name: 'ValidationException' });
  await expect(ssm.send(new SendCommandCommand({ ...base, TimeoutSeconds: 2_592_001 }))).rejects.toMatchObject({ name: 'ValidationException' });
  expect(h.executor.runs).toEqual([]);
  await expect(ssm.send(new SendCommandCommand({ ...base, Comment: 'c'.repeat(100), TimeoutSeconds: 30 }))).resolves.toBeDefined();
});

test('an agent older than 3.3.2746.0 sets no SSM_ variables (ENV_VAR interpolation) and reports its version', async () => {
  h.cp.setAgentVersion(otherId, '3.3.1142.0');
  const sent = await ssm.send(new SendCommandCommand({ DocumentName: DOC, InstanceIds: [otherId], Parameters: { Volume: ['pydio-data'] } }));
  await finished(sent.Command?.CommandId ?? '', otherId);
  expect(h.executor.runs[0]?.env).toEqual({});
  expect(h.executor.runs[1]?.script).toBe('mount -o rw "$SSM_Server:/$SSM_Volume" "/mnt/$SSM_Volume"');
  const info = await ssm.send(new DescribeInstanceInformationCommand({ InstanceInformationFilterList: [{ key: 'InstanceIds', valueSet: [otherId, instanceId] }] }));
  expect(Object.fromEntries((info.InstanceInformationList ?? []).map((i) => [i.InstanceId, i.AgentVersion]))).toEqual({ [otherId]: '3.3.1142.0', [instanceId]: '3.3.3572.0' });
});

test('GetCommandInvocation says InvocationDoesNotExist for unknown commands', async () => {
  await expect(ssm.send(new GetCommandInvocationCommand({ CommandId: '00000000-0000-0000-0000-000000000000', InstanceId: instanceId }))).rejects.toMatchObject({
    name: 'InvocationDoesNotExist',
  });
});

test('an offline agent: command waits, then TimedOut after the delivery timeout; nothing runs', async () => {
  h.executor.setOffline(instanceId);
  // 30 s is the least TimeoutSeconds SendCommand accepts.
  const sent = await ssm.send(new SendCommandCommand({ DocumentName: DOC, InstanceIds: [instanceId], Parameters: { Volume: ['pydio-data'] }, TimeoutSeconds: 30 }));
  const inv = await eventually(async () => {
    const out = await ssm.send(new ListCommandInvocationsCommand({ CommandId: sent.Command?.CommandId ?? '', InstanceId: instanceId }));
    const found = out.CommandInvocations?.[0];
    return found?.Status === 'Pending' ? undefined : found;
  }, 'the delivery timeout', 40_000);
  expect(inv).toMatchObject({ Status: 'TimedOut', StatusDetails: 'DeliveryTimedOut' });
  expect(h.executor.runs).toEqual([]);
  // No step ran: none is listed, and the product reads the command by its status.
  const listed = await ssm.send(new ListCommandInvocationsCommand({ CommandId: sent.Command?.CommandId ?? '', InstanceId: instanceId, Details: true }));
  expect(listed.CommandInvocations?.[0]?.CommandPlugins).toEqual([]);
  const port = createSsmPort(ssm, { dryRun: false, log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as never });
  await expect(port.getInvocation(sent.Command?.CommandId ?? '', instanceId)).resolves.toEqual({ status: 'TimedOut', exitCode: -1, stdout: '', stderr: 'no step ran (DeliveryTimedOut)' });
});

test('DescribeInstanceInformation reports agents Online / ConnectionLost with their IP', async () => {
  const out = await ssm.send(new DescribeInstanceInformationCommand({ InstanceInformationFilterList: [{ key: 'InstanceIds', valueSet: [instanceId] }] }));
  expect(out.InstanceInformationList).toEqual([expect.objectContaining({ InstanceId: instanceId, PingStatus: 'Online', IPAddress: expect.stringMatching(/^10\.71\./) })]);
  h.executor.setOffline(otherId);
  const all = await ssm.send(new DescribeInstanceInformationCommand({}));
  const byId = Object.fromEntries((all.InstanceInformationList ?? []).map((i) => [i.InstanceId, i.PingStatus]));
  expect(byId).toEqual({ [instanceId]: 'Online' });
  h.executor.setOffline(otherId, false);
  await ssm.send(new DescribeInstanceInformationCommand({}));
  h.executor.setOffline(otherId);
  const again = await ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [otherId] }] }));
  expect(again.InstanceInformationList?.[0]?.PingStatus).toBe('ConnectionLost');
});

test('DescribeInstanceInformation refuses a filter of more than 100 values (ValidationException)', async () => {
  const ids = Array.from({ length: 101 }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`);
  await expect(ssm.send(new DescribeInstanceInformationCommand({ InstanceInformationFilterList: [{ key: 'InstanceIds', valueSet: ids }] }))).rejects.toMatchObject({ name: 'ValidationException' });
  await expect(ssm.send(new DescribeInstanceInformationCommand({ InstanceInformationFilterList: [{ key: 'InstanceIds', valueSet: ids.slice(0, 100) }] }))).resolves.toBeDefined();
});
