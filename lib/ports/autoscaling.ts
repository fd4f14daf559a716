/**
 * Auto Scaling as the use cases see it: groups, lifecycle actions, capacity and termination.
 * Implemented by lib/aws/autoscaling.ts.
 */
export type LifecycleResult = 'CONTINUE' | 'ABANDON';

export interface GroupInstance {
  readonly instanceId: string;
  readonly availabilityZone: string;
  /** e.g. Pending:Wait, InService, Terminating:Wait, Terminated */
  readonly lifecycleState: string;
  readonly healthStatus: string;
  readonly protectedFromScaleIn: boolean;
}

export interface GroupDescription {
  readonly name: string;
  readonly minSize: number;
  readonly maxSize: number;
  readonly desiredCapacity: number;
  readonly instances: readonly GroupInstance[];
  readonly targetGroupArns: readonly string[];
  readonly availabilityZones: readonly string[];
  /** AutoScalingGroupARN (the adapter always sets it; fakes may leave it out). */
  readonly arn?: string;
  /** HealthCheckGracePeriod in seconds (AWS's default is 0; the adapter always sets it). */
  readonly healthCheckGracePeriodSeconds?: number;
}

export interface LifecycleActionRef {
  readonly groupName: string;
  readonly hookName: string;
  readonly instanceId: string;
  readonly token?: string;
}

export interface ScalingActivity {
  readonly activityId: string;
  /** Pending, InProgress, Successful, Failed, Cancelled, WaitingForELBConnectionDraining ... */
  readonly statusCode: string;
  readonly startTime: Date;
  /** Absent while the activity runs. */
  readonly endTime?: Date;
  readonly description: string;
}

export interface AutoScalingPort {
  describeGroup(groupName: string): Promise<GroupDescription | undefined>;
  /** The instance as its group sees it, or undefined when no group knows it. */
  describeInstance(instanceId: string): Promise<(GroupInstance & { groupName: string }) | undefined>;
  /** The hook's settings (DescribeLifecycleHooks), or undefined when it does not exist. */
  describeLifecycleHook(groupName: string, hookName: string): Promise<{ heartbeatTimeoutSeconds: number; defaultResult: string } | undefined>;
  /** 'already-completed' when AWS says no such active lifecycle action exists. */
  completeLifecycleAction(ref: LifecycleActionRef, result: LifecycleResult): Promise<'completed' | 'already-completed'>;
  recordHeartbeat(ref: LifecycleActionRef): Promise<'recorded' | 'already-completed'>;
}

/**
 * Capacity control for the scaling and storage issues. Kept apart from
 * AutoScalingPort so lifecycle code and its fakes do not need it;
 * createAutoScalingPort returns both.
 */
export interface ScalingPort {
  /**
   * SetDesiredCapacity. 'in-progress' when AWS refuses because a scaling
   * activity is running or (honorCooldown) the group is cooling down.
   */
  setDesiredCapacity(groupName: string, desired: number, honorCooldown: boolean): Promise<'set' | 'in-progress'>;
  /** SetInstanceProtection (scale-in protection), in batches of 50. */
  setInstanceProtection(groupName: string, instanceIds: readonly string[], protect: boolean): Promise<void>;
  /** The most recent activities first, at most `max`. */
  describeScalingActivities(groupName: string, max: number): Promise<ScalingActivity[]>;
}

/**
 * Letting a member go (storage shrink). Kept apart from ScalingPort, like
 * ScalingPort from AutoScalingPort, so existing fakes need not grow.
 */
export interface TerminationPort {
  /**
   * TerminateInstanceInAutoScalingGroup. 'not-found' when the group no longer
   * knows the instance (already terminated).
   */
  terminateInstance(instanceId: string, decrementDesiredCapacity: boolean): Promise<'terminating' | 'not-found'>;
}

/** A lifecycle hook of a group, as DescribeLifecycleHooks lists it. */
export interface LifecycleHookDescription {
  readonly name: string;
  readonly transition: 'launch' | 'terminate';
  readonly heartbeatTimeoutSeconds: number;
  readonly defaultResult: string;
  readonly metadata?: string;
}

/**
 * What the watch needs besides describeGroup: a group's hooks (to re-drive a
 * lost event to the hook it belongs to) and SetInstanceHealth. Kept apart
 * like ScalingPort; createAutoScalingPort returns it too.
 */
export interface GroupHealthPort {
  /** Every hook of the group (DescribeLifecycleHooks); [] when the group does not exist. */
  listLifecycleHooks(groupName: string): Promise<LifecycleHookDescription[]>;
  /**
   * SetInstanceHealth. 'in-grace-period' when AWS refuses because the
   * instance is younger than the group's health check grace period (with
   * respectGracePeriod); 'not-found' when no group manages the instance.
   */
  setInstanceHealth(instanceId: string, status: 'Healthy' | 'Unhealthy', respectGracePeriod: boolean): Promise<'set' | 'in-grace-period' | 'not-found'>;
}
