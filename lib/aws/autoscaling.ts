// PORT (interface) — implementation below is filled in by the adapter work.
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
}

export interface LifecycleActionRef {
  readonly groupName: string;
  readonly hookName: string;
  readonly instanceId: string;
  readonly token?: string;
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
