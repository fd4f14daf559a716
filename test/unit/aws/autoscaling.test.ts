import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  DescribeScalingActivitiesCommand,
  RecordLifecycleActionHeartbeatCommand,
  SetDesiredCapacityCommand,
  SetInstanceHealthCommand,
  SetInstanceProtectionCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { createAutoScalingClient, createAutoScalingPort } from '../../../lib/aws/autoscaling';
import { AwsCallError } from '../../../lib/errors';
import { awsError, recordingLog } from './helpers';

const asMock = mockClient(AutoScalingClient);
const ref = { groupName: 'pydio-compute', hookName: 'launch-hook', instanceId: 'i-0abc', token: 'tok-1' };

function port(dryRun = false) {
  const log = recordingLog();
  return { log, asg: createAutoScalingPort(new AutoScalingClient({ region: 'eu-west-1' }), { dryRun, log }) };
}

beforeEach(() => asMock.reset());

describe('describeGroup', () => {
  it('maps the group and its instances', async () => {
    // Prepare
    asMock.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [{
        AutoScalingGroupName: 'pydio-compute', MinSize: 1, MaxSize: 6, DesiredCapacity: 2,
        DefaultCooldown: 300, CreatedTime: new Date(), HealthCheckType: 'ELB', LaunchConfigurationName: 'lc', HealthCheckGracePeriod: 120,
        AutoScalingGroupARN: 'arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:0f0e0d0c-0000-4000-8000-000000000000:autoScalingGroupName/pydio-compute',
        AvailabilityZones: ['eu-west-1a', 'eu-west-1b'],
        TargetGroupARNs: ['arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pydio/abc'],
        Instances: [
          { InstanceId: 'i-1', AvailabilityZone: 'eu-west-1a', LifecycleState: 'InService', HealthStatus: 'Healthy', ProtectedFromScaleIn: true },
          { InstanceId: 'i-2', AvailabilityZone: 'eu-west-1b', LifecycleState: 'Pending:Wait', HealthStatus: 'Healthy', ProtectedFromScaleIn: false },
        ],
      }],
    });
    const { asg } = port();
    // Act
    const group = await asg.describeGroup('pydio-compute');
    // Assess
    expect(asMock.commandCalls(DescribeAutoScalingGroupsCommand)[0].args[0].input).toEqual({ AutoScalingGroupNames: ['pydio-compute'] });
    expect(group).toEqual({
      name: 'pydio-compute', minSize: 1, maxSize: 6, desiredCapacity: 2,
      arn: 'arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:0f0e0d0c-0000-4000-8000-000000000000:autoScalingGroupName/pydio-compute',
      healthCheckGracePeriodSeconds: 120,
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      targetGroupArns: ['arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pydio/abc'],
      instances: [
        { instanceId: 'i-1', availabilityZone: 'eu-west-1a', lifecycleState: 'InService', healthStatus: 'Healthy', protectedFromScaleIn: true },
        { instanceId: 'i-2', availabilityZone: 'eu-west-1b', lifecycleState: 'Pending:Wait', healthStatus: 'Healthy', protectedFromScaleIn: false },
      ],
    });
  });

  it('is undefined when the group does not exist', async () => {
    asMock.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
    await expect(port().asg.describeGroup('nope')).resolves.toBeUndefined();
  });

  it('wraps an SDK failure in AwsCallError with the operation and the cause', async () => {
    const cause = awsError('AccessDenied', 'not allowed');
    asMock.on(DescribeAutoScalingGroupsCommand).rejects(cause);
    const error = await port().asg.describeGroup('pydio-compute').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsCallError);
    expect((error as AwsCallError).operation).toBe('DescribeAutoScalingGroups');
    expect((error as AwsCallError).message).toContain('AccessDenied: not allowed');
    expect((error as AwsCallError).cause).toBe(cause);
  });
});

describe('describeInstance', () => {
  it('maps the instance with its group', async () => {
    asMock.on(DescribeAutoScalingInstancesCommand).resolves({
      AutoScalingInstances: [{
        InstanceId: 'i-0abc', AutoScalingGroupName: 'pydio-compute', AvailabilityZone: 'eu-west-1a',
        LifecycleState: 'Terminating:Wait', HealthStatus: 'HEALTHY', ProtectedFromScaleIn: false,
      }],
    });
    const found = await port().asg.describeInstance('i-0abc');
    expect(asMock.commandCalls(DescribeAutoScalingInstancesCommand)[0].args[0].input).toEqual({ InstanceIds: ['i-0abc'] });
    expect(found).toEqual({
      instanceId: 'i-0abc', groupName: 'pydio-compute', availabilityZone: 'eu-west-1a',
      lifecycleState: 'Terminating:Wait', healthStatus: 'HEALTHY', protectedFromScaleIn: false,
    });
  });

  it('is undefined when no group knows the instance', async () => {
    asMock.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [] });
    await expect(port().asg.describeInstance('i-gone')).resolves.toBeUndefined();
  });
});

describe('describeLifecycleHook', () => {
  it('reads heartbeat timeout and default result', async () => {
    asMock.on(DescribeLifecycleHooksCommand).resolves({
      LifecycleHooks: [{ LifecycleHookName: 'launch-hook', AutoScalingGroupName: 'pydio-compute', HeartbeatTimeout: 1800, DefaultResult: 'ABANDON' }],
    });
    const hook = await port().asg.describeLifecycleHook('pydio-compute', 'launch-hook');
    expect(asMock.commandCalls(DescribeLifecycleHooksCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: 'pydio-compute', LifecycleHookNames: ['launch-hook'],
    });
    expect(hook).toEqual({ heartbeatTimeoutSeconds: 1800, defaultResult: 'ABANDON' });
  });

  it.each([
    ['no such hook', () => asMock.on(DescribeLifecycleHooksCommand).resolves({ LifecycleHooks: [] })],
    ['no such group', () => asMock.on(DescribeLifecycleHooksCommand).rejects(awsError('ValidationError', 'Group pydio-compute not found'))],
  ])('is undefined for %s', async (_case, prepare) => {
    prepare();
    await expect(port().asg.describeLifecycleHook('pydio-compute', 'launch-hook')).resolves.toBeUndefined();
  });
});

describe('listLifecycleHooks', () => {
  it('lists every launch and terminate hook of the group, with its metadata', async () => {
    asMock.on(DescribeLifecycleHooksCommand).resolves({
      LifecycleHooks: [
        { LifecycleHookName: 'launch-hook', AutoScalingGroupName: 'pydio-compute', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: 900, DefaultResult: 'ABANDON', NotificationMetadata: 'm' },
        { LifecycleHookName: 'terminate-hook', AutoScalingGroupName: 'pydio-compute', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 600, DefaultResult: 'CONTINUE' },
        { LifecycleHookName: 'warm-pool-hook', AutoScalingGroupName: 'pydio-compute', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCH_ERROR' as string, HeartbeatTimeout: 600 },
      ],
    });
    const hooks = await port().asg.listLifecycleHooks('pydio-compute');
    expect(asMock.commandCalls(DescribeLifecycleHooksCommand)[0].args[0].input).toEqual({ AutoScalingGroupName: 'pydio-compute' });
    expect(hooks).toEqual([
      { name: 'launch-hook', transition: 'launch', heartbeatTimeoutSeconds: 900, defaultResult: 'ABANDON', metadata: 'm' },
      { name: 'terminate-hook', transition: 'terminate', heartbeatTimeoutSeconds: 600, defaultResult: 'CONTINUE' },
    ]);
  });

  it('is empty for a group that does not exist', async () => {
    asMock.on(DescribeLifecycleHooksCommand).rejects(awsError('ValidationError', 'Group pydio-compute not found'));
    await expect(port().asg.listLifecycleHooks('pydio-compute')).resolves.toEqual([]);
  });
});

describe('setInstanceHealth', () => {
  it('sends the instance, the status and ShouldRespectGracePeriod', async () => {
    asMock.on(SetInstanceHealthCommand).resolves({});
    await expect(port().asg.setInstanceHealth('i-0abc', 'Unhealthy', true)).resolves.toBe('set');
    expect(asMock.commandCalls(SetInstanceHealthCommand)[0].args[0].input).toEqual({ InstanceId: 'i-0abc', HealthStatus: 'Unhealthy', ShouldRespectGracePeriod: true });
  });

  it('reads the grace period refusal as in-grace-period', async () => {
    asMock.on(SetInstanceHealthCommand).rejects(awsError('ValidationError', 'The age of the instance (986 seconds) is less than the configured grace period of 1500 seconds'));
    await expect(port().asg.setInstanceHealth('i-0abc', 'Unhealthy', true)).resolves.toBe('in-grace-period');
  });

  it('reads an instance no group manages as not-found', async () => {
    asMock.on(SetInstanceHealthCommand).rejects(awsError('ValidationError', 'Instance Id not found - No managed instance found for instance ID: i-0abc'));
    await expect(port().asg.setInstanceHealth('i-0abc', 'Unhealthy', true)).resolves.toBe('not-found');
  });

  it('does not hide other errors', async () => {
    asMock.on(SetInstanceHealthCommand).rejects(awsError('AccessDenied', 'not allowed'));
    await expect(port().asg.setInstanceHealth('i-0abc', 'Unhealthy', true)).rejects.toThrow('SetInstanceHealth: AccessDenied: not allowed');
  });

  it('dry run: logged, not sent', async () => {
    const { asg, log } = port(true);
    await expect(asg.setInstanceHealth('i-0abc', 'Unhealthy', true)).resolves.toBe('set');
    expect(asMock.commandCalls(SetInstanceHealthCommand)).toHaveLength(0);
    expect(log.infos[0]).toEqual(['dry run: would SetInstanceHealth', expect.objectContaining({ InstanceId: 'i-0abc', HealthStatus: 'Unhealthy' })]);
  });
});

describe('completeLifecycleAction', () => {
  it('sends hook, group, instance, token and result', async () => {
    asMock.on(CompleteLifecycleActionCommand).resolves({});
    await expect(port().asg.completeLifecycleAction(ref, 'CONTINUE')).resolves.toBe('completed');
    expect(asMock.commandCalls(CompleteLifecycleActionCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: 'pydio-compute', LifecycleHookName: 'launch-hook', InstanceId: 'i-0abc',
      LifecycleActionToken: 'tok-1', LifecycleActionResult: 'CONTINUE',
    });
  });

  it('omits the token when the reference has none', async () => {
    asMock.on(CompleteLifecycleActionCommand).resolves({});
    await port().asg.completeLifecycleAction({ ...ref, token: undefined }, 'ABANDON');
    const input = asMock.commandCalls(CompleteLifecycleActionCommand)[0].args[0].input;
    expect(input).not.toHaveProperty('LifecycleActionToken');
    expect(input.LifecycleActionResult).toBe('ABANDON');
  });

  it.each([
    ['instance id', 'No active Lifecycle Action found with instance ID i-0abc'],
    ['token', 'No active Lifecycle Action found with token tok-1'],
  ])('maps the ValidationError naming the %s to already-completed', async (_case, message) => {
    asMock.on(CompleteLifecycleActionCommand).rejects(awsError('ValidationError', message));
    await expect(port().asg.completeLifecycleAction(ref, 'CONTINUE')).resolves.toBe('already-completed');
  });

  it('does not hide other ValidationErrors', async () => {
    asMock.on(CompleteLifecycleActionCommand).rejects(awsError('ValidationError', 'Invalid LifecycleActionResult'));
    await expect(port().asg.completeLifecycleAction(ref, 'CONTINUE')).rejects.toThrow(AwsCallError);
  });

  it('in dry run logs the call and sends nothing', async () => {
    const { asg, log } = port(true);
    await expect(asg.completeLifecycleAction(ref, 'CONTINUE')).resolves.toBe('completed');
    expect(asMock.calls()).toHaveLength(0);
    expect(log.infos).toEqual([[
      'dry run: would CompleteLifecycleAction',
      expect.objectContaining({ dryRun: true, operation: 'CompleteLifecycleAction', InstanceId: 'i-0abc', LifecycleActionResult: 'CONTINUE' }),
    ]]);
  });
});

describe('recordHeartbeat', () => {
  it.each([
    ['accepted', undefined, 'recorded'],
    ['no active action', awsError('ValidationError', 'No active Lifecycle Action found with instance ID i-0abc'), 'already-completed'],
  ] as const)('%s', async (_case, failure, expected) => {
    if (failure) asMock.on(RecordLifecycleActionHeartbeatCommand).rejects(failure);
    else asMock.on(RecordLifecycleActionHeartbeatCommand).resolves({});
    await expect(port().asg.recordHeartbeat(ref)).resolves.toBe(expected);
    expect(asMock.commandCalls(RecordLifecycleActionHeartbeatCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: 'pydio-compute', LifecycleHookName: 'launch-hook', InstanceId: 'i-0abc', LifecycleActionToken: 'tok-1',
    });
  });

  it('in dry run sends nothing', async () => {
    await expect(port(true).asg.recordHeartbeat(ref)).resolves.toBe('recorded');
    expect(asMock.calls()).toHaveLength(0);
  });
});

describe('setDesiredCapacity', () => {
  it('sends the capacity and the cooldown flag', async () => {
    asMock.on(SetDesiredCapacityCommand).resolves({});
    await expect(port().asg.setDesiredCapacity('pydio-compute', 3, true)).resolves.toBe('set');
    expect(asMock.commandCalls(SetDesiredCapacityCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: 'pydio-compute', DesiredCapacity: 3, HonorCooldown: true,
    });
  });

  it.each(['ScalingActivityInProgressFault', 'ScalingActivityInProgress'])('maps %s to in-progress', async (name) => {
    asMock.on(SetDesiredCapacityCommand).rejects(awsError(name, 'Scaling activity is in progress'));
    await expect(port().asg.setDesiredCapacity('pydio-compute', 3, true)).resolves.toBe('in-progress');
  });

  it.each([-1, 1.5, Number.NaN])('refuses desired capacity %p before calling AWS', async (desired) => {
    await expect(port().asg.setDesiredCapacity('pydio-compute', desired, false)).rejects.toThrow(/non-negative integer/);
    expect(asMock.calls()).toHaveLength(0);
  });

  it('in dry run sends nothing', async () => {
    const { asg, log } = port(true);
    await expect(asg.setDesiredCapacity('pydio-compute', 0, false)).resolves.toBe('set');
    expect(asMock.calls()).toHaveLength(0);
    expect(log.infos[0][1]).toMatchObject({ dryRun: true, operation: 'SetDesiredCapacity', DesiredCapacity: 0 });
  });
});

describe('setInstanceProtection', () => {
  it('batches instance ids by 50', async () => {
    asMock.on(SetInstanceProtectionCommand).resolves({});
    const ids = Array.from({ length: 120 }, (_, i) => `i-${i}`);
    await port().asg.setInstanceProtection('pydio-storage', ids, true);
    const calls = asMock.commandCalls(SetInstanceProtectionCommand).map((call) => call.args[0].input);
    expect(calls.map((input) => input.InstanceIds?.length)).toEqual([50, 50, 20]);
    expect(calls.flatMap((input) => input.InstanceIds)).toEqual(ids);
    expect(calls.every((input) => input.ProtectedFromScaleIn === true && input.AutoScalingGroupName === 'pydio-storage')).toBe(true);
  });

  it('does nothing for no instances, and nothing in dry run', async () => {
    await port().asg.setInstanceProtection('pydio-storage', [], false);
    await port(true).asg.setInstanceProtection('pydio-storage', ['i-1'], false);
    expect(asMock.calls()).toHaveLength(0);
  });
});

describe('describeScalingActivities', () => {
  const activity = (id: string, end?: Date) => ({
    ActivityId: id, AutoScalingGroupName: 'pydio-compute', Cause: 'c', StartTime: new Date('2024-01-01T00:00:00Z'),
    StatusCode: end ? 'Successful' as const : 'InProgress' as const, Description: `Launching ${id}`, ...(end ? { EndTime: end } : {}),
  });

  it('follows NextToken until max activities are read', async () => {
    asMock.on(DescribeScalingActivitiesCommand)
      .resolvesOnce({ Activities: [activity('a1', new Date('2024-01-01T00:05:00Z')), activity('a2')], NextToken: 'n1' })
      .resolvesOnce({ Activities: [activity('a3'), activity('a4')], NextToken: 'n2' });
    const activities = await port().asg.describeScalingActivities('pydio-compute', 3);
    const inputs = asMock.commandCalls(DescribeScalingActivitiesCommand).map((call) => call.args[0].input);
    expect(inputs).toEqual([
      { AutoScalingGroupName: 'pydio-compute', MaxRecords: 3 },
      { AutoScalingGroupName: 'pydio-compute', MaxRecords: 1, NextToken: 'n1' },
    ]);
    expect(activities.map((a) => a.activityId)).toEqual(['a1', 'a2', 'a3']);
    expect(activities[0]).toEqual({
      activityId: 'a1', statusCode: 'Successful', description: 'Launching a1',
      startTime: new Date('2024-01-01T00:00:00Z'), endTime: new Date('2024-01-01T00:05:00Z'),
    });
    expect(activities[1]).not.toHaveProperty('endTime');
  });

  it('stops when there is no NextToken', async () => {
    asMock.on(DescribeScalingActivitiesCommand).resolves({ Activities: [activity('a1')] });
    await expect(port().asg.describeScalingActivities('pydio-compute', 10)).resolves.toHaveLength(1);
    expect(asMock.commandCalls(DescribeScalingActivitiesCommand)).toHaveLength(1);
  });

  it('refuses a max below 1', async () => {
    await expect(port().asg.describeScalingActivities('pydio-compute', 0)).rejects.toThrow(/positive integer/);
  });
});

describe('createAutoScalingClient', () => {
  it('retries up to 5 attempts', async () => {
    const client = createAutoScalingClient();
    await expect(client.config.maxAttempts()).resolves.toBe(5);
  });
});

describe('terminateInstance', () => {
  it('terminates with or without decrementing the desired capacity', async () => {
    asMock.on(TerminateInstanceInAutoScalingGroupCommand).resolves({});
    await expect(port().asg.terminateInstance('i-1', true)).resolves.toBe('terminating');
    await port().asg.terminateInstance('i-2', false);
    expect(asMock.commandCalls(TerminateInstanceInAutoScalingGroupCommand).map((call) => call.args[0].input)).toEqual([
      { InstanceId: 'i-1', ShouldDecrementDesiredCapacity: true },
      { InstanceId: 'i-2', ShouldDecrementDesiredCapacity: false },
    ]);
  });

  it('answers not-found for an instance no group knows, and wraps other errors', async () => {
    asMock.on(TerminateInstanceInAutoScalingGroupCommand)
      .rejectsOnce(awsError('ValidationError', 'Instance Id not found - No managed instance found for instance ID: i-9'))
      .rejectsOnce(awsError('ResourceContentionFault', 'busy'));
    await expect(port().asg.terminateInstance('i-9', true)).resolves.toBe('not-found');
    await expect(port().asg.terminateInstance('i-9', true)).rejects.toThrow(AwsCallError);
  });

  it('sends nothing in dry run', async () => {
    await expect(port(true).asg.terminateInstance('i-1', true)).resolves.toBe('terminating');
    expect(asMock.calls()).toHaveLength(0);
  });
});
