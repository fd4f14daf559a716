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
  type Instance,
} from '@aws-sdk/client-auto-scaling';
import { AwsCallError, errorMessage } from '../errors';
import { MAX_ATTEMPTS, MAX_PAGES, callAws, chunk, isAwsError, logDryRun, type AdapterOptions } from './call';
import type { AutoScalingPort, GroupDescription, GroupHealthPort, GroupInstance, LifecycleActionRef, LifecycleHookDescription, LifecycleResult, ScalingActivity, ScalingPort, TerminationPort } from '../ports/autoscaling';


/** Builds the client once per cold start: region and AWS_ENDPOINT_URL come from the standard environment. */
export function createAutoScalingClient(): AutoScalingClient {
  return new AutoScalingClient({ maxAttempts: MAX_ATTEMPTS });
}

/** AWS answers a finished, expired or unknown lifecycle action with this ValidationError. */
const NO_ACTIVE_ACTION = /No active Lifecycle Action found/i;

/**
 * SetInstanceHealth with ShouldRespectGracePeriod on an instance younger than the grace period:
 * "The age of the instance (986 seconds) is less than the configured grace period of 1500 seconds".
 */
const IN_GRACE_PERIOD = /less than the configured grace period/i;

const TRANSITIONS: Readonly<Record<string, LifecycleHookDescription['transition']>> = {
  'autoscaling:EC2_INSTANCE_LAUNCHING': 'launch',
  'autoscaling:EC2_INSTANCE_TERMINATING': 'terminate',
};

function isNoActiveAction(error: unknown): boolean {
  return isAwsError(error, 'ValidationError') && NO_ACTIVE_ACTION.test(errorMessage(error));
}

function toGroupInstance(instance: Instance, operation: string): GroupInstance {
  if (!instance.InstanceId) throw new AwsCallError(operation, 'an instance in the answer has no InstanceId');
  return {
    instanceId: instance.InstanceId,
    availabilityZone: instance.AvailabilityZone ?? '',
    lifecycleState: instance.LifecycleState ?? '',
    healthStatus: instance.HealthStatus ?? '',
    protectedFromScaleIn: instance.ProtectedFromScaleIn ?? false,
  };
}

function lifecycleInput(ref: LifecycleActionRef) {
  return {
    AutoScalingGroupName: ref.groupName,
    LifecycleHookName: ref.hookName,
    InstanceId: ref.instanceId,
    ...(ref.token ? { LifecycleActionToken: ref.token } : {}),
  };
}

export function createAutoScalingPort(client: AutoScalingClient, opts: AdapterOptions): AutoScalingPort & ScalingPort & TerminationPort & GroupHealthPort {
  const { dryRun, log } = opts;

  async function describeGroup(groupName: string): Promise<GroupDescription | undefined> {
    const operation = 'DescribeAutoScalingGroups';
    const output = await callAws(operation, () => client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] })));
    const group = output.AutoScalingGroups?.find((candidate) => candidate.AutoScalingGroupName === groupName);
    if (!group) return undefined;
    return {
      name: groupName,
      minSize: group.MinSize ?? 0,
      maxSize: group.MaxSize ?? 0,
      desiredCapacity: group.DesiredCapacity ?? 0,
      instances: (group.Instances ?? []).map((instance) => toGroupInstance(instance, operation)),
      targetGroupArns: group.TargetGroupARNs ?? [],
      availabilityZones: group.AvailabilityZones ?? [],
      ...(group.AutoScalingGroupARN ? { arn: group.AutoScalingGroupARN } : {}),
      healthCheckGracePeriodSeconds: group.HealthCheckGracePeriod ?? 0,
    };
  }

  async function describeInstance(instanceId: string): Promise<(GroupInstance & { groupName: string }) | undefined> {
    const operation = 'DescribeAutoScalingInstances';
    const output = await callAws(operation, () => client.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] })));
    const found = output.AutoScalingInstances?.find((candidate) => candidate.InstanceId === instanceId);
    if (!found) return undefined;
    if (!found.AutoScalingGroupName) throw new AwsCallError(operation, `instance ${instanceId} is listed without a group name`);
    return {
      instanceId,
      groupName: found.AutoScalingGroupName,
      availabilityZone: found.AvailabilityZone ?? '',
      lifecycleState: found.LifecycleState ?? '',
      healthStatus: found.HealthStatus ?? '',
      protectedFromScaleIn: found.ProtectedFromScaleIn ?? false,
    };
  }

  async function describeLifecycleHook(groupName: string, hookName: string) {
    const operation = 'DescribeLifecycleHooks';
    const hooks = await callAws(
      operation,
      async () => (await client.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: groupName, LifecycleHookNames: [hookName] }))).LifecycleHooks,
      // An unknown group is a ValidationError ("... not found"): the hook does not exist either.
      (error) => (isAwsError(error, 'ValidationError') && /not found/i.test(errorMessage(error)) ? { value: [] } : undefined),
    );
    const hook = hooks?.find((candidate) => candidate.LifecycleHookName === hookName);
    if (!hook) return undefined;
    if (typeof hook.HeartbeatTimeout !== 'number') {
      throw new AwsCallError(operation, `hook ${hookName} of ${groupName} has no HeartbeatTimeout`);
    }
    return { heartbeatTimeoutSeconds: hook.HeartbeatTimeout, defaultResult: hook.DefaultResult ?? 'ABANDON' };
  }

  async function completeLifecycleAction(ref: LifecycleActionRef, result: LifecycleResult): Promise<'completed' | 'already-completed'> {
    const operation = 'CompleteLifecycleAction';
    const input = { ...lifecycleInput(ref), LifecycleActionResult: result };
    if (dryRun) {
      logDryRun(log, operation, input);
      return 'completed';
    }
    return callAws<'completed' | 'already-completed'>(
      operation,
      async () => {
        await client.send(new CompleteLifecycleActionCommand(input));
        return 'completed';
      },
      (error) => (isNoActiveAction(error) ? { value: 'already-completed' } : undefined),
    );
  }

  async function recordHeartbeat(ref: LifecycleActionRef): Promise<'recorded' | 'already-completed'> {
    const operation = 'RecordLifecycleActionHeartbeat';
    const input = lifecycleInput(ref);
    if (dryRun) {
      logDryRun(log, operation, input);
      return 'recorded';
    }
    return callAws<'recorded' | 'already-completed'>(
      operation,
      async () => {
        await client.send(new RecordLifecycleActionHeartbeatCommand(input));
        return 'recorded';
      },
      (error) => (isNoActiveAction(error) ? { value: 'already-completed' } : undefined),
    );
  }

  async function setDesiredCapacity(groupName: string, desired: number, honorCooldown: boolean): Promise<'set' | 'in-progress'> {
    const operation = 'SetDesiredCapacity';
    if (!Number.isInteger(desired) || desired < 0) {
      throw new RangeError(`${operation}: desired capacity must be a non-negative integer, got ${desired}`);
    }
    const input = { AutoScalingGroupName: groupName, DesiredCapacity: desired, HonorCooldown: honorCooldown };
    if (dryRun) {
      logDryRun(log, operation, input);
      return 'set';
    }
    return callAws<'set' | 'in-progress'>(
      operation,
      async () => {
        await client.send(new SetDesiredCapacityCommand(input));
        return 'set';
      },
      (error) =>
        isAwsError(error, 'ScalingActivityInProgressFault', 'ScalingActivityInProgress') ? { value: 'in-progress' } : undefined,
    );
  }

  async function setInstanceProtection(groupName: string, instanceIds: readonly string[], protect: boolean): Promise<void> {
    const operation = 'SetInstanceProtection';
    // The API takes at most 50 instance ids per call.
    for (const batch of chunk(instanceIds, 50)) {
      const input = { AutoScalingGroupName: groupName, InstanceIds: batch, ProtectedFromScaleIn: protect };
      if (dryRun) {
        logDryRun(log, operation, input);
        continue;
      }
      await callAws(operation, () => client.send(new SetInstanceProtectionCommand(input)));
    }
  }

  async function describeScalingActivities(groupName: string, max: number): Promise<ScalingActivity[]> {
    const operation = 'DescribeScalingActivities';
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`${operation}: max must be a positive integer, got ${max}`);
    }
    const activities: ScalingActivity[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_PAGES && activities.length < max; page += 1) {
      const output = await callAws(operation, () =>
        client.send(new DescribeScalingActivitiesCommand({
          AutoScalingGroupName: groupName,
          MaxRecords: Math.min(100, max - activities.length),
          ...(nextToken ? { NextToken: nextToken } : {}),
        })),
      );
      for (const activity of output.Activities ?? []) {
        if (!activity.ActivityId || !activity.StartTime) {
          throw new AwsCallError(operation, 'an activity in the answer has no ActivityId or StartTime');
        }
        activities.push({
          activityId: activity.ActivityId,
          statusCode: activity.StatusCode ?? '',
          startTime: activity.StartTime,
          ...(activity.EndTime ? { endTime: activity.EndTime } : {}),
          description: activity.Description ?? '',
        });
      }
      nextToken = output.NextToken;
      if (!nextToken) break;
    }
    return activities.slice(0, max);
  }

  async function terminateInstance(instanceId: string, decrementDesiredCapacity: boolean): Promise<'terminating' | 'not-found'> {
    const operation = 'TerminateInstanceInAutoScalingGroup';
    const input = { InstanceId: instanceId, ShouldDecrementDesiredCapacity: decrementDesiredCapacity };
    if (dryRun) {
      logDryRun(log, operation, input);
      return 'terminating';
    }
    return callAws<'terminating' | 'not-found'>(
      operation,
      async () => {
        await client.send(new TerminateInstanceInAutoScalingGroupCommand(input));
        return 'terminating';
      },
      // An instance no group knows any more: "Instance Id not found".
      (error) => (isAwsError(error, 'ValidationError') && /not found/i.test(errorMessage(error)) ? { value: 'not-found' } : undefined),
    );
  }

  async function listLifecycleHooks(groupName: string): Promise<LifecycleHookDescription[]> {
    const operation = 'DescribeLifecycleHooks';
    const hooks = await callAws(
      operation,
      async () => (await client.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: groupName }))).LifecycleHooks ?? [],
      (error) => (isAwsError(error, 'ValidationError') && /not found/i.test(errorMessage(error)) ? { value: [] } : undefined),
    );
    const described: LifecycleHookDescription[] = [];
    for (const hook of hooks) {
      const transition = TRANSITIONS[hook.LifecycleTransition ?? ''];
      // Hooks of other transitions (a warm pool's) are not ours to re-drive.
      if (!hook.LifecycleHookName || transition === undefined) continue;
      if (typeof hook.HeartbeatTimeout !== 'number') throw new AwsCallError(operation, `hook ${hook.LifecycleHookName} of ${groupName} has no HeartbeatTimeout`);
      described.push({
        name: hook.LifecycleHookName,
        transition,
        heartbeatTimeoutSeconds: hook.HeartbeatTimeout,
        defaultResult: hook.DefaultResult ?? 'ABANDON',
        ...(hook.NotificationMetadata !== undefined ? { metadata: hook.NotificationMetadata } : {}),
      });
    }
    return described;
  }

  async function setInstanceHealth(instanceId: string, status: 'Healthy' | 'Unhealthy', respectGracePeriod: boolean): Promise<'set' | 'in-grace-period' | 'not-found'> {
    const operation = 'SetInstanceHealth';
    const input = { InstanceId: instanceId, HealthStatus: status, ShouldRespectGracePeriod: respectGracePeriod };
    if (dryRun) {
      logDryRun(log, operation, input);
      return 'set';
    }
    return callAws<'set' | 'in-grace-period' | 'not-found'>(
      operation,
      async () => {
        await client.send(new SetInstanceHealthCommand(input));
        return 'set';
      },
      (error) => {
        if (!isAwsError(error, 'ValidationError')) return undefined;
        if (IN_GRACE_PERIOD.test(errorMessage(error))) return { value: 'in-grace-period' };
        return /not found/i.test(errorMessage(error)) ? { value: 'not-found' } : undefined;
      },
    );
  }

  return {
    listLifecycleHooks,
    setInstanceHealth,
    describeGroup,
    describeInstance,
    describeLifecycleHook,
    completeLifecycleAction,
    recordHeartbeat,
    setDesiredCapacity,
    setInstanceProtection,
    describeScalingActivities,
    terminateInstance,
  };
}
