import {
  DeleteParameterCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  ListCommandInvocationsCommand,
  ParameterNotFound,
  PutParameterCommand,
  SendCommandCommand,
  SSMClient,
  type CommandPlugin,
  type CommandPluginStatus,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { createSsmClient, createSsmPort } from '../../../lib/aws/ssm';
import type { InvocationStatus } from '../../../lib/ports/ssm';
import { AwsCallError } from '../../../lib/errors';
import { awsError, recordingLog } from './helpers';

const ssmMock = mockClient(SSMClient);

function port(dryRun = false) {
  const log = recordingLog();
  return { log, ssm: createSsmPort(new SSMClient({ region: 'eu-west-1' }), { dryRun, log }) };
}

const command = {
  documentName: 'pydio-mount-volumes',
  instanceId: 'i-0abc',
  parameters: { ConfigVolume: 'pydio-config', DataVolume: 'pydio-data' },
  timeoutSeconds: 600,
  comment: 'mount volumes on i-0abc for launch hook',
};

beforeEach(() => ssmMock.reset());

describe('describeManagedInstances', () => {
  it('filters on the instance ids, follows NextToken and maps PingStatus', async () => {
    // Prepare
    ssmMock.on(DescribeInstanceInformationCommand)
      .resolvesOnce({ InstanceInformationList: [{ InstanceId: 'i-1', PingStatus: 'Online', IPAddress: '10.0.0.11' }], NextToken: 'p2' })
      .resolvesOnce({ InstanceInformationList: [{ InstanceId: 'i-2', PingStatus: 'ConnectionLost' }, { InstanceId: 'i-3', PingStatus: 'Inactive' }] });
    const { ssm } = port();
    // Act
    const instances = await ssm.describeManagedInstances(['i-1', 'i-2', 'i-3']);
    // Assess
    const inputs = ssmMock.commandCalls(DescribeInstanceInformationCommand).map((call) => call.args[0].input);
    expect(inputs).toEqual([
      { InstanceInformationFilterList: [{ key: 'InstanceIds', valueSet: ['i-1', 'i-2', 'i-3'] }], MaxResults: 50 },
      { InstanceInformationFilterList: [{ key: 'InstanceIds', valueSet: ['i-1', 'i-2', 'i-3'] }], MaxResults: 50, NextToken: 'p2' },
    ]);
    expect(instances).toEqual([
      { instanceId: 'i-1', online: true, ipAddress: '10.0.0.11' },
      { instanceId: 'i-2', online: false },
      { instanceId: 'i-3', online: false },
    ]);
  });

  it('asks nothing for no instances', async () => {
    await expect(port().ssm.describeManagedInstances([])).resolves.toEqual([]);
    expect(ssmMock.calls()).toHaveLength(0);
  });

  it('splits more than 50 ids over several filters', async () => {
    ssmMock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    await port().ssm.describeManagedInstances(Array.from({ length: 51 }, (_, i) => `i-${i}`));
    const sets = ssmMock.commandCalls(DescribeInstanceInformationCommand).map((call) => call.args[0].input.InstanceInformationFilterList?.[0].valueSet?.length);
    expect(sets).toEqual([50, 1]);
  });
});

describe('sendCommand', () => {
  it('sends one instance, string-array parameters, timeout and comment', async () => {
    ssmMock.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-123' } });
    await expect(port().ssm.sendCommand(command)).resolves.toBe('cmd-123');
    expect(ssmMock.commandCalls(SendCommandCommand)[0].args[0].input).toEqual({
      DocumentName: 'pydio-mount-volumes',
      InstanceIds: ['i-0abc'],
      Parameters: { ConfigVolume: ['pydio-config'], DataVolume: ['pydio-data'] },
      TimeoutSeconds: 600,
      Comment: 'mount volumes on i-0abc for launch hook',
    });
  });

  it.each([
    ['a long comment is cut to 100 characters', { comment: 'x'.repeat(150) }, { Comment: 'x'.repeat(100) }],
    ['a timeout under 30 s is raised to the API minimum', { timeoutSeconds: 5 }, { TimeoutSeconds: 30 }],
    ['a fractional timeout is rounded up', { timeoutSeconds: 90.2 }, { TimeoutSeconds: 91 }],
  ])('%s', async (_case, override, expected) => {
    ssmMock.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    await port().ssm.sendCommand({ ...command, ...override });
    expect(ssmMock.commandCalls(SendCommandCommand)[0].args[0].input).toMatchObject(expected);
  });

  it('refuses a non-positive timeout', async () => {
    await expect(port().ssm.sendCommand({ ...command, timeoutSeconds: 0 })).rejects.toThrow(/timeoutSeconds/);
    expect(ssmMock.calls()).toHaveLength(0);
  });

  it('fails clearly when AWS returns no command id', async () => {
    ssmMock.on(SendCommandCommand).resolves({});
    await expect(port().ssm.sendCommand(command)).rejects.toThrow(/SendCommand: no CommandId returned for pydio-mount-volumes on i-0abc/);
  });

  it('wraps an unknown document error', async () => {
    ssmMock.on(SendCommandCommand).rejects(awsError('InvalidDocument', 'Document pydio-mount-volumes does not exist'));
    await expect(port().ssm.sendCommand(command)).rejects.toThrow(AwsCallError);
  });

  it('in dry run returns a dry-run id, logs and sends nothing', async () => {
    const { ssm, log } = port(true);
    const commandId = await ssm.sendCommand(command);
    expect(commandId).toMatch(/^dry-run-[0-9a-f-]{36}$/);
    expect(ssmMock.calls()).toHaveLength(0);
    expect(log.infos[0]).toEqual(['dry run: would SendCommand', expect.objectContaining({ dryRun: true, DocumentName: 'pydio-mount-volumes', commandId })]);
  });

  it('in dry run still sends a read-only document (a dry run plans from the real cluster), and only that one', async () => {
    ssmMock.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-status' } });
    const log = recordingLog();
    const ssm = createSsmPort(new SSMClient({ region: 'eu-west-1' }), { dryRun: true, log }, ['pydio-storage-gluster-status', '']);
    await expect(ssm.sendCommand({ ...command, documentName: 'pydio-storage-gluster-status' })).resolves.toBe('cmd-status');
    expect(ssmMock.commandCalls(SendCommandCommand).map((c) => c.args[0].input.DocumentName)).toEqual(['pydio-storage-gluster-status']);
    await expect(ssm.sendCommand(command)).resolves.toMatch(/^dry-run-/);
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(1);
  });
});

describe('getInvocation', () => {
  const statuses: InvocationStatus[] = ['Success', 'Cancelled', 'TimedOut', 'Failed'];
  const twoSteps = (first: CommandPluginStatus, second: CommandPluginStatus, codes: [number, number] = [0, 0]): CommandPlugin[] => [
    { Name: 'configure', Status: first, ResponseCode: codes[0] },
    { Name: 'checkHealth', Status: second, ResponseCode: codes[1] },
  ];

  it.each(statuses)('a finished invocation (%s): the status from ListCommandInvocations, the output of the step that decided it', async (status) => {
    const plugins = status === 'Success' ? twoSteps('Success', 'Success') : twoSteps('Success', status as CommandPluginStatus, [0, 2]);
    ssmMock.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [{ CommandId: 'cmd-1', InstanceId: 'i-0abc', Status: status, CommandPlugins: plugins }] });
    ssmMock.on(GetCommandInvocationCommand).resolves({ Status: status, ResponseCode: status === 'Success' ? 0 : 2, StandardOutputContent: 'out', StandardErrorContent: 'err' });
    await expect(port().ssm.getInvocation('cmd-1', 'i-0abc')).resolves.toEqual({
      status, exitCode: status === 'Success' ? 0 : 2, stdout: 'out', stderr: 'err', step: 'checkHealth',
    });
    expect(ssmMock.commandCalls(ListCommandInvocationsCommand)[0].args[0].input).toEqual({ CommandId: 'cmd-1', InstanceId: 'i-0abc', Details: true });
    expect(ssmMock.commandCalls(GetCommandInvocationCommand)[0].args[0].input).toEqual({ CommandId: 'cmd-1', InstanceId: 'i-0abc', PluginName: 'checkHealth' });
  });

  it('outputOnSuccess false: a success is read in one call (no GetCommandInvocation); a failure still with its output', async () => {
    ssmMock.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [{ CommandId: 'cmd-1', InstanceId: 'i-0abc', Status: 'Success', CommandPlugins: twoSteps('Success', 'Success') }] });
    await expect(port().ssm.getInvocation('cmd-1', 'i-0abc', undefined, false)).resolves.toEqual({ status: 'Success', exitCode: 0, stdout: '', stderr: '', step: 'checkHealth' });
    expect(ssmMock.commandCalls(GetCommandInvocationCommand)).toHaveLength(0);
    ssmMock.reset();
    ssmMock.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [{ CommandId: 'cmd-1', InstanceId: 'i-0abc', Status: 'Failed', CommandPlugins: twoSteps('Success', 'Failed', [0, 2]) }] });
    ssmMock.on(GetCommandInvocationCommand).resolves({ Status: 'Failed', ResponseCode: 2, StandardErrorContent: 'no mount' });
    await expect(port().ssm.getInvocation('cmd-1', 'i-0abc', undefined, false)).resolves.toMatchObject({ status: 'Failed', exitCode: 2, stderr: 'no mount' });
    expect(ssmMock.commandCalls(GetCommandInvocationCommand)).toHaveLength(1);
  });

  it('names the step in every GetCommandInvocation: a document with two steps is refused without it (InvalidPluginName)', async () => {
    ssmMock.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [{ InstanceId: 'i-0abc', Status: 'Failed', CommandPlugins: twoSteps('Failed', 'Success', [1, 0]) }] });
    ssmMock.on(GetCommandInvocationCommand).rejects(awsError('InvalidPluginName', 'PluginName is required for a document with more than one step'));
    ssmMock.on(GetCommandInvocationCommand, { CommandId: 'cmd-1', InstanceId: 'i-0abc', PluginName: 'configure' }).resolves({ Status: 'Failed', ResponseCode: 1, StandardErrorContent: 'no config volume' });
    await expect(port().ssm.getInvocation('cmd-1', 'i-0abc')).resolves.toEqual({ status: 'Failed', exitCode: 1, stdout: '', stderr: 'no config volume', step: 'configure' });
  });

  it.each(['Pending', 'InProgress', 'Delayed', 'Cancelling'] as InvocationStatus[])('an unfinished invocation (%s) costs one call and reads -1 with no output', async (status) => {
    ssmMock.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [{ InstanceId: 'i-0abc', Status: status, CommandPlugins: twoSteps('Success', 'InProgress') }] });
    await expect(port().ssm.getInvocation('cmd-1', 'i-0abc')).resolves.toEqual({ status, exitCode: -1, stdout: '', stderr: '' });
    expect(ssmMock.commandCalls(GetCommandInvocationCommand)).toHaveLength(0);
  });

  it('reads an invocation not listed yet as Pending', async () => {
    ssmMock.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [] });
    await expect(port().ssm.getInvocation('cmd-1', 'i-0abc')).resolves.toEqual({ status: 'Pending', exitCode: -1, stdout: '', stderr: '' });
  });

  it('fails on a status it does not know', async () => {
    ssmMock.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [{ InstanceId: 'i-0abc', Status: 'Exploded' as InvocationStatus }] });
    await expect(port().ssm.getInvocation('cmd-1', 'i-0abc')).rejects.toThrow(/unknown invocation status "Exploded"/);
  });

  it('a command that never reached the agent (no step listed) reads as its status, saying no step ran', async () => {
    ssmMock.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [{ InstanceId: 'i-0abc', Status: 'TimedOut', StatusDetails: 'DeliveryTimedOut', CommandPlugins: [] }] });
    await expect(port().ssm.getInvocation('cmd-1', 'i-0abc')).resolves.toEqual({ status: 'TimedOut', exitCode: -1, stdout: '', stderr: 'no step ran (DeliveryTimedOut)' });
    expect(ssmMock.commandCalls(GetCommandInvocationCommand)).toHaveLength(0);
  });

  it('a finished step whose result is gone (InvocationDoesNotExist) reads as the command\'s status', async () => {
    ssmMock.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [{ InstanceId: 'i-0abc', Status: 'Cancelled', StatusDetails: 'Cancelled', CommandPlugins: twoSteps('Cancelled', 'Cancelled') }] });
    ssmMock.on(GetCommandInvocationCommand).rejects(awsError('InvocationDoesNotExist', ''));
    await expect(port().ssm.getInvocation('cmd-1', 'i-0abc')).resolves.toEqual({ status: 'Cancelled', exitCode: -1, stdout: '', stderr: 'no step ran (Cancelled)', step: 'configure' });
  });

  it('a step skipped by its precondition never decides: the failed step is reported (AmazonCloudWatch-ManageAgent on Linux)', async () => {
    const plugins: CommandPlugin[] = [
      { Name: 'ControlCloudWatchAgentWindows', Status: 'Success', ResponseCode: 0, Output: 'Step execution skipped due to unsatisfied preconditions' },
      { Name: 'ControlCloudWatchAgentLinux', Status: 'Failed', ResponseCode: 1 },
      { Name: 'ControlCloudWatchAgentMacOS', Status: 'Success', ResponseCode: 0 },
    ];
    ssmMock.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [{ InstanceId: 'i-0abc', Status: 'Failed', CommandPlugins: plugins }] });
    ssmMock.on(GetCommandInvocationCommand).resolves({ Status: 'Failed', ResponseCode: 1, StandardErrorContent: 'CloudWatch Agent not installed.' });
    await expect(port().ssm.getInvocation('cmd-1', 'i-0abc')).resolves.toMatchObject({ status: 'Failed', exitCode: 1, step: 'ControlCloudWatchAgentLinux' });
    expect(ssmMock.commandCalls(GetCommandInvocationCommand)[0].args[0].input.PluginName).toBe('ControlCloudWatchAgentLinux');
  });

  it('reports the step asked for when every step succeeded (the status document\'s first part), and the failed step otherwise', async () => {
    ssmMock.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [{ InstanceId: 'i-0abc', Status: 'Success', CommandPlugins: twoSteps('Success', 'Success') }] });
    ssmMock.on(GetCommandInvocationCommand, { CommandId: 'cmd-1', InstanceId: 'i-0abc', PluginName: 'configure' }).resolves({ Status: 'Success', ResponseCode: 0, StandardOutputContent: 'first part' });
    await expect(port().ssm.getInvocation('cmd-1', 'i-0abc', 'configure')).resolves.toMatchObject({ status: 'Success', stdout: 'first part', step: 'configure' });
    ssmMock.reset();
    ssmMock.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [{ InstanceId: 'i-0abc', Status: 'Failed', CommandPlugins: twoSteps('Success', 'Failed', [0, 1]) }] });
    ssmMock.on(GetCommandInvocationCommand).resolves({ Status: 'Failed', ResponseCode: 1, StandardErrorContent: 'no file' });
    await expect(port().ssm.getInvocation('cmd-1', 'i-0abc', 'configure')).resolves.toMatchObject({ status: 'Failed', step: 'checkHealth' });
  });

  it('getStepOutput reads one named step of a finished command', async () => {
    ssmMock.on(GetCommandInvocationCommand, { CommandId: 'cmd-1', InstanceId: 'i-0abc', PluginName: 'part1' }).resolves({ Status: 'Success', ResponseCode: 0, StandardOutputContent: 'second part' });
    await expect(port().ssm.getStepOutput('cmd-1', 'i-0abc', 'part1')).resolves.toBe('second part');
    expect(ssmMock.commandCalls(GetCommandInvocationCommand)[0].args[0].input).toEqual({ CommandId: 'cmd-1', InstanceId: 'i-0abc', PluginName: 'part1' });
  });

  it('answers a dry-run command id as Success without AWS, even outside dry run', async () => {
    await expect(port().ssm.getInvocation('dry-run-1234', 'i-0abc')).resolves.toEqual({ status: 'Success', exitCode: 0, stdout: '', stderr: '' });
    expect(ssmMock.calls()).toHaveLength(0);
  });
});

describe('getParameter / deleteParameter (plain records)', () => {
  it.each([
    ['the value', () => ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: '/c/i', Value: '{"healthy":true}' } }), '{"healthy":true}'],
    ['undefined when there is no such parameter', () => ssmMock.on(GetParameterCommand).rejects(new ParameterNotFound({ message: '', $metadata: {} })), undefined],
  ])('getParameter returns %s', async (_case, prepare, expected) => {
    prepare();
    await expect(port().ssm.getParameter('/c/i')).resolves.toBe(expected);
    expect(ssmMock.commandCalls(GetParameterCommand)[0].args[0].input).toEqual({ Name: '/c/i' });
  });

  it('deleteParameter deletes the parameter and ignores one already gone', async () => {
    ssmMock.on(DeleteParameterCommand).resolvesOnce({}).rejectsOnce(new ParameterNotFound({ message: '', $metadata: {} }));
    await port().ssm.deleteParameter('/c/i');
    await port().ssm.deleteParameter('/c/i');
    expect(ssmMock.commandCalls(DeleteParameterCommand).map((call) => call.args[0].input)).toEqual([{ Name: '/c/i' }, { Name: '/c/i' }]);
  });

  it('deleteParameter wraps other failures', async () => {
    ssmMock.on(DeleteParameterCommand).rejects(awsError('AccessDeniedException', 'no'));
    await expect(port().ssm.deleteParameter('/c/i')).rejects.toThrow(AwsCallError);
  });

  it('in dry run deleteParameter sends nothing, getParameter still reads', async () => {
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: 'msg-9' } });
    const { ssm, log } = port(true);
    await ssm.deleteParameter('/c/i');
    await expect(ssm.getParameter('/c/i')).resolves.toBe('msg-9');
    expect(ssmMock.commandCalls(DeleteParameterCommand)).toHaveLength(0);
    expect(log.infos.map(([message]) => message)).toEqual(['dry run: would DeleteParameter']);
  });
});

describe('createSsmClient', () => {
  it('retries up to 5 attempts', async () => {
    await expect(createSsmClient().config.maxAttempts()).resolves.toBe(5);
  });
});

describe('putParameter', () => {
  it('overwrites a String parameter', async () => {
    ssmMock.on(PutParameterCommand).resolves({});
    await port().ssm.putParameter('/pydio-autoscaler/test/storage/health', '{"healthy":true}');
    expect(ssmMock.commandCalls(PutParameterCommand)[0]?.args[0].input).toEqual({
      Name: '/pydio-autoscaler/test/storage/health', Value: '{"healthy":true}', Type: 'String', Overwrite: true,
    });
  });

  it('writes nothing in dry run', async () => {
    await port(true).ssm.putParameter('/x', 'y');
    expect(ssmMock.calls()).toHaveLength(0);
  });
});

describe('listParameters', () => {
  it('reads the path recursively, page by page', async () => {
    ssmMock.on(GetParametersByPathCommand)
      .resolvesOnce({ Parameters: [{ Name: '/p/members/i-1', Value: 'a' }], NextToken: 't2' })
      .resolvesOnce({ Parameters: [{ Name: '/p/members/i-2', Value: 'b' }, { Name: undefined, Value: 'x' }] });
    await expect(port().ssm.listParameters('/p/members')).resolves.toEqual([
      { name: '/p/members/i-1', value: 'a' },
      { name: '/p/members/i-2', value: 'b' },
    ]);
    const inputs = ssmMock.commandCalls(GetParametersByPathCommand).map((call) => call.args[0].input);
    expect(inputs).toEqual([
      { Path: '/p/members', Recursive: true, MaxResults: 10 },
      { Path: '/p/members', Recursive: true, MaxResults: 10, NextToken: 't2' },
    ]);
  });

  it('wraps errors', async () => {
    ssmMock.on(GetParametersByPathCommand).rejects(awsError('AccessDeniedException', 'no'));
    await expect(port().ssm.listParameters('/p')).rejects.toThrow(AwsCallError);
  });
});
