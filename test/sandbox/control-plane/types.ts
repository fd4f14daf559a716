/**
 * The seams of the emulated AWS ("control plane") that sits in front of moto.
 * moto keeps the API state; these three interfaces supply what moto lacks.
 *
 * - In the moto integration tests (test/integration) they are small in-memory
 *   fixtures (`test/sandbox/control-plane/simulated.ts`).
 * - In the sandbox they are real: hosts are Linux network + mount namespaces,
 *   commands run there, and HAProxy is the target group's data plane
 *   (`test/sandbox/hosts/*`).
 */

export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Runs Run Command steps on the instance's host. */
export interface HostExecutor {
  /** Whether the instance's "SSM agent" is online (host exists and answers). */
  isAgentOnline(instanceId: string): Promise<boolean>;
  /** IP the agent reports (DescribeInstanceInformation IPAddress). */
  ipAddressOf(instanceId: string): Promise<string | undefined>;
  /**
   * Run one aws:runShellScript step: `script` is the step's runCommand lines
   * joined with '\n'; `env` holds SSM_<param> variables. Resolves when the
   * script ends or its timeout kills it.
   */
  run(instanceId: string, script: string, env: Readonly<Record<string, string>>, timeoutSeconds: number): Promise<CommandResult>;
}

export interface Target {
  readonly instanceId: string;
  readonly ip: string;
  readonly port: number;
}

export type DataPlaneState = 'initial' | 'healthy' | 'unhealthy' | 'draining';

/**
 * A target group's HTTP health check, as DescribeTargetGroups reports it (HealthCheckPath,
 * HealthCheckIntervalSeconds, HealthCheckTimeoutSeconds, HealthyThresholdCount,
 * UnhealthyThresholdCount, Matcher.HttpCode).
 */
export interface TargetGroupHealthCheck {
  readonly path: string;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  /** HTTP codes: "200", "200,202" or "200-299". */
  readonly matcher: string;
}

/** The target group's data plane: who receives traffic, and their health. */
export interface DataPlane {
  /** `healthCheck`: the target group's own settings, which the data plane must check with (or refuse). */
  register(targetGroupArn: string, target: Target, healthCheck?: TargetGroupHealthCheck): Promise<void>;
  /** Start draining; the target disappears after `delaySeconds`. */
  deregister(targetGroupArn: string, target: Target, delaySeconds: number): Promise<void>;
  /** undefined when the target is not (or no longer) known to the data plane. */
  health(targetGroupArn: string, instanceId: string, port: number): Promise<{ state: DataPlaneState; reason?: string; description?: string } | undefined>;
}

export interface LaunchedInstance {
  readonly instanceId: string;
  readonly privateIp: string;
  readonly availabilityZone: string;
  readonly subnetId: string;
  readonly groupName: string;
}

/** Gives each emulated instance a real (or simulated) host. */
export interface HostProvider {
  onInstanceLaunched(instance: LaunchedInstance): Promise<void>;
  onInstanceTerminated(instanceId: string): Promise<void>;
}
