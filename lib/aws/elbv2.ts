// PORT (interface) — implementation below is filled in by the adapter work.
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

export interface TargetGroupPort {
  registerTarget(targetGroupArn: string, instanceId: string, port: number): Promise<void>;
  deregisterTarget(targetGroupArn: string, instanceId: string, port: number): Promise<void>;
  /** 'absent' when the target is not registered at all. */
  describeTargetHealth(targetGroupArn: string, instanceId: string, port: number): Promise<TargetHealth>;
  describeSettings(targetGroupArn: string): Promise<TargetGroupSettings>;
}
