import {
  DeregisterTargetsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { AwsCallError } from '../errors';
import { MAX_ATTEMPTS, callAws, isAwsError, logDryRun, type AdapterOptions } from './call';
import type { HealthCheckRhythm, RegisteredTarget, TargetGroupPort, TargetGroupSettings, TargetHealth, TargetListPort, TargetState } from '../ports/elbv2';


/** Builds the client once per cold start: region and AWS_ENDPOINT_URL come from the standard environment. */
export function createElbv2Client(): ElasticLoadBalancingV2Client {
  return new ElasticLoadBalancingV2Client({ maxAttempts: MAX_ATTEMPTS });
}

/** AWS's default deregistration delay when the attribute is not reported. */
export const DEFAULT_DEREGISTRATION_DELAY_SECONDS = 300;

/**
 * ELB's defaults for an instance target group over HTTP, when DescribeTargetGroups leaves a field out
 * (CreateTargetGroup: HealthCheckIntervalSeconds "If the target group protocol is TCP, TLS, UDP, TCP_UDP,
 * HTTP or HTTPS, the default is 30 seconds"; HealthyThresholdCount "the default is 5").
 */
export const DEFAULT_HEALTH_CHECK_INTERVAL_SECONDS = 30;
export const DEFAULT_HEALTHY_THRESHOLD_COUNT = 5;

/** The wire code is InvalidTarget; the SDK names the exception InvalidTargetException. */
const INVALID_TARGET = ['InvalidTargetException', 'InvalidTarget'];

/** AWS states to ours; 'unhealthy.draining' (unhealthy target being drained) waits like a drain. */
const STATES: Readonly<Record<string, TargetState>> = {
  initial: 'initial',
  healthy: 'healthy',
  unhealthy: 'unhealthy',
  unused: 'unused',
  draining: 'draining',
  'unhealthy.draining': 'draining',
  unavailable: 'unavailable',
};

/** An instance AWS does not know as a target of this group answers `unused` with this reason. */
const NOT_REGISTERED = 'Target.NotRegistered';

function parseBoolean(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === 'true';
}

export function createTargetGroupPort(client: ElasticLoadBalancingV2Client, opts: AdapterOptions): TargetGroupPort & TargetListPort {
  const { dryRun, log } = opts;

  async function registerTarget(targetGroupArn: string, instanceId: string, port: number): Promise<void> {
    const operation = 'RegisterTargets';
    const input = { TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId, Port: port }] };
    if (dryRun) {
      logDryRun(log, operation, { ...input, instanceId });
      return;
    }
    await callAws(operation, () => client.send(new RegisterTargetsCommand(input)));
  }

  async function deregisterTarget(targetGroupArn: string, instanceId: string, port: number): Promise<void> {
    const operation = 'DeregisterTargets';
    const input = { TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId, Port: port }] };
    if (dryRun) {
      logDryRun(log, operation, { ...input, instanceId });
      return;
    }
    await callAws(
      operation,
      async () => {
        await client.send(new DeregisterTargetsCommand(input));
      },
      // A target that is not a valid instance any more (terminated) is already out of the group.
      (error) => {
        if (!isAwsError(error, ...INVALID_TARGET)) return undefined;
        log.warn('deregister: AWS no longer knows the target; nothing to deregister', { instanceId, targetGroupArn });
        return { value: undefined };
      },
    );
  }

  async function describeTargetHealth(targetGroupArn: string, instanceId: string, port: number): Promise<TargetHealth> {
    const operation = 'DescribeTargetHealth';
    const descriptions = await callAws(
      operation,
      async () =>
        (await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId, Port: port }] })))
          .TargetHealthDescriptions ?? [],
      (error) => (isAwsError(error, ...INVALID_TARGET) ? { value: [] } : undefined),
    );
    const description = descriptions.find((candidate) => candidate.Target?.Id === instanceId && (candidate.Target?.Port ?? port) === port);
    if (!description?.TargetHealth?.State) return { state: 'absent' };
    const health = description.TargetHealth;
    const state = STATES[health.State as string];
    if (!state) {
      throw new AwsCallError(operation, `unknown target state ${JSON.stringify(health.State)} for ${instanceId}:${port}`);
    }
    return {
      state: state === 'unused' && health.Reason === NOT_REGISTERED ? 'absent' : state,
      ...(health.Reason ? { reason: health.Reason } : {}),
      ...(health.Description ? { description: health.Description } : {}),
    };
  }

  async function describeSettings(targetGroupArn: string): Promise<TargetGroupSettings> {
    const operation = 'DescribeTargetGroupAttributes';
    const output = await callAws(operation, () => client.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: targetGroupArn })));
    const attributes = new Map<string, string>();
    for (const attribute of output.Attributes ?? []) {
      if (attribute.Key !== undefined && attribute.Value !== undefined) attributes.set(attribute.Key, attribute.Value);
    }
    const delayText = attributes.get('deregistration_delay.timeout_seconds');
    let deregistrationDelaySeconds = DEFAULT_DEREGISTRATION_DELAY_SECONDS;
    if (delayText !== undefined && delayText.trim() !== '') {
      deregistrationDelaySeconds = Number(delayText);
      if (!Number.isInteger(deregistrationDelaySeconds) || deregistrationDelaySeconds < 0) {
        throw new AwsCallError(operation, `deregistration_delay.timeout_seconds is not a whole number of seconds: ${JSON.stringify(delayText)}`);
      }
    }
    return {
      stickinessEnabled: parseBoolean(attributes.get('stickiness.enabled')),
      stickinessType: attributes.get('stickiness.type') ?? 'lb_cookie',
      cookieName: attributes.get('stickiness.app_cookie.cookie_name') ?? '',
      deregistrationDelaySeconds,
    };
  }

  async function describeHealthCheck(targetGroupArn: string): Promise<HealthCheckRhythm> {
    const operation = 'DescribeTargetGroups';
    const output = await callAws(operation, () => client.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [targetGroupArn] })));
    const group = output.TargetGroups?.find((candidate) => candidate.TargetGroupArn === targetGroupArn) ?? output.TargetGroups?.[0];
    if (!group) throw new AwsCallError(operation, `target group ${targetGroupArn} is not in the answer`);
    const whole = (name: string, value: number | undefined, fallback: number): number => {
      if (value === undefined) return fallback;
      if (!Number.isInteger(value) || value < 1) throw new AwsCallError(operation, `${name} of ${targetGroupArn} is not a positive whole number: ${JSON.stringify(value)}`);
      return value;
    };
    return {
      intervalSeconds: whole('HealthCheckIntervalSeconds', group.HealthCheckIntervalSeconds, DEFAULT_HEALTH_CHECK_INTERVAL_SECONDS),
      healthyThreshold: whole('HealthyThresholdCount', group.HealthyThresholdCount, DEFAULT_HEALTHY_THRESHOLD_COUNT),
    };
  }

  async function describeTargets(targetGroupArn: string): Promise<RegisteredTarget[]> {
    const operation = 'DescribeTargetHealth';
    const output = await callAws(operation, () => client.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn })));
    return (output.TargetHealthDescriptions ?? []).map((description) => {
      const id = description.Target?.Id;
      const port = description.Target?.Port;
      if (!id || typeof port !== 'number') throw new AwsCallError(operation, 'a target in the answer has no Id or Port');
      const health = description.TargetHealth;
      const state = health?.State ? STATES[health.State as string] : undefined;
      if (!state) throw new AwsCallError(operation, `unknown target state ${JSON.stringify(health?.State)} for ${id}:${port}`);
      return {
        instanceId: id,
        port,
        state,
        ...(health?.Reason ? { reason: health.Reason } : {}),
        ...(health?.Description ? { description: health.Description } : {}),
      };
    });
  }

  return { registerTarget, deregisterTarget, describeTargetHealth, describeSettings, describeHealthCheck, describeTargets };
}
