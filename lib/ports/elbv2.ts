/**
 * The target group: registration, target health and the settings the flows check.
 * Implemented by lib/aws/elbv2.ts.
 */
export type TargetState = 'initial' | 'healthy' | 'unhealthy' | 'unused' | 'draining' | 'unavailable' | 'absent';

export interface TargetHealth {
  readonly state: TargetState;
  readonly reason?: string;
  readonly description?: string;
}

export interface TargetGroupSettings {
  readonly stickinessEnabled: boolean;
  /** lb_cookie | app_cookie | source_ip ... */
  readonly stickinessType: string;
  readonly cookieName: string;
  readonly deregistrationDelaySeconds: number;
}

/** The target group's health check rhythm (DescribeTargetGroups), what the launch flow times its checks by. */
export interface HealthCheckRhythm {
  /** HealthCheckIntervalSeconds: each load balancer node checks each target this often. */
  readonly intervalSeconds: number;
  /** HealthyThresholdCount: consecutive successes that bring an unhealthy target back. */
  readonly healthyThreshold: number;
}

export interface TargetGroupPort {
  registerTarget(targetGroupArn: string, instanceId: string, port: number): Promise<void>;
  deregisterTarget(targetGroupArn: string, instanceId: string, port: number): Promise<void>;
  /** 'absent' when the target is not registered at all. */
  describeTargetHealth(targetGroupArn: string, instanceId: string, port: number): Promise<TargetHealth>;
  describeSettings(targetGroupArn: string): Promise<TargetGroupSettings>;
  describeHealthCheck(targetGroupArn: string): Promise<HealthCheckRhythm>;
}

export interface RegisteredTarget extends TargetHealth {
  readonly instanceId: string;
  readonly port: number;
}

/**
 * Listing for the status function. Kept apart from TargetGroupPort so the
 * lifecycle code and its fakes do not need it; createTargetGroupPort returns both.
 */
export interface TargetListPort {
  /** Every registered target of the group with its health (DescribeTargetHealth without Targets). */
  describeTargets(targetGroupArn: string): Promise<RegisteredTarget[]>;
}
