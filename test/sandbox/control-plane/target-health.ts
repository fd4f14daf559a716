/**
 * ELBv2 target registration applied to the DataPlane seam, and
 * DescribeTargetHealth answered from it (moto has no health checks or draining).
 */
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { DataPlane, TargetGroupHealthCheck } from './types';
import { ApiError, el, memberList, NS, queryReply, requiredParam, type Reply } from './wire';

const REASONS: Record<string, { reason: string; description: string }> = {
  initial: { reason: 'Elb.RegistrationInProgress', description: 'Target registration is in progress' },
  unhealthy: { reason: 'Target.FailedHealthChecks', description: 'Health checks failed' },
  draining: { reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' },
  unused: { reason: 'Target.NotRegistered', description: 'Target is not registered to the target group' },
};

export class TargetHealthService {
  private readonly ec2: EC2Client;
  private readonly elb: ElasticLoadBalancingV2Client;
  /** Targets ever registered through us, per target group: `${id}:${port}`. */
  private readonly known = new Map<string, Set<string>>();

  constructor(
    clientConfig: object,
    private readonly dataPlane: DataPlane,
  ) {
    this.ec2 = new EC2Client(clientConfig);
    this.elb = new ElasticLoadBalancingV2Client(clientConfig);
  }

  private async groupPort(targetGroupArn: string): Promise<number> {
    const out = await this.elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [targetGroupArn] }));
    return out.TargetGroups?.[0]?.Port ?? 80;
  }

  /** The target group's HTTP health check as moto keeps it (the data plane checks with exactly this). */
  private async healthCheckOf(targetGroupArn: string): Promise<TargetGroupHealthCheck> {
    const tg = (await this.elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [targetGroupArn] }))).TargetGroups?.[0];
    if (tg === undefined) throw new ApiError('TargetGroupNotFound', `One or more target groups not found: ${targetGroupArn}`);
    return {
      path: tg.HealthCheckPath ?? '/',
      intervalSeconds: tg.HealthCheckIntervalSeconds ?? 30,
      timeoutSeconds: tg.HealthCheckTimeoutSeconds ?? 6,
      healthyThreshold: tg.HealthyThresholdCount ?? 5,
      unhealthyThreshold: tg.UnhealthyThresholdCount ?? 2,
      matcher: tg.Matcher?.HttpCode ?? '200',
    };
  }

  private async privateIp(instanceId: string): Promise<string> {
    const out = await this.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const ip = out.Reservations?.[0]?.Instances?.[0]?.PrivateIpAddress;
    if (ip === undefined) throw new ApiError('InvalidTarget', `The following targets are not in a running state and cannot be registered: '${instanceId}'`);
    return ip;
  }

  private async targetsOf(form: URLSearchParams): Promise<{ arn: string; targets: { id: string; port: number }[] }> {
    const arn = requiredParam(form, 'TargetGroupArn');
    const listed = memberList(form, 'Targets');
    const needPort = listed.some((t) => t.Port === undefined);
    const defaultPort = needPort ? await this.groupPort(arn) : 80;
    return { arn, targets: listed.map((t) => ({ id: t.Id ?? '', port: t.Port !== undefined ? Number(t.Port) : defaultPort })) };
  }

  /** Called after moto accepted RegisterTargets. */
  async applyRegister(form: URLSearchParams): Promise<void> {
    const { arn, targets } = await this.targetsOf(form);
    const healthCheck = await this.healthCheckOf(arn);
    for (const t of targets) {
      const ip = await this.privateIp(t.id);
      await this.dataPlane.register(arn, { instanceId: t.id, ip, port: t.port }, healthCheck);
      const set = this.known.get(arn) ?? new Set<string>();
      set.add(`${t.id}:${t.port}`);
      this.known.set(arn, set);
    }
  }

  /** Called after moto accepted DeregisterTargets. */
  async applyDeregister(form: URLSearchParams): Promise<void> {
    const { arn, targets } = await this.targetsOf(form);
    const attrs = await this.elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }));
    const delayAttr = attrs.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value;
    const delay = delayAttr !== undefined && /^\d+$/.test(delayAttr) ? Number(delayAttr) : 300;
    for (const t of targets) {
      const current = await this.dataPlane.health(arn, t.id, t.port);
      if (current === undefined) continue;
      const ip = await this.privateIp(t.id).catch(() => '0.0.0.0');
      await this.dataPlane.deregister(arn, { instanceId: t.id, ip, port: t.port }, delay);
    }
  }

  async describeTargetHealth(form: URLSearchParams): Promise<Reply> {
    const arn = requiredParam(form, 'TargetGroupArn');
    const asked = memberList(form, 'Targets');
    let targets: { id: string; port: number }[];
    if (asked.length > 0) {
      targets = (await this.targetsOf(form)).targets;
    } else {
      targets = [...(this.known.get(arn) ?? [])].map((k) => {
        const [id, port] = k.split(':');
        return { id: id ?? '', port: Number(port) };
      });
    }
    const members: string[] = [];
    for (const t of targets) {
      const health = await this.dataPlane.health(arn, t.id, t.port);
      if (health === undefined && asked.length === 0) {
        this.known.get(arn)?.delete(`${t.id}:${t.port}`);
        continue;
      }
      const state = health?.state ?? 'unused';
      const defaults = REASONS[state];
      const reason = health?.reason ?? defaults?.reason;
      const description = health?.description ?? defaults?.description;
      members.push(
        `<member><Target>${el('Id', t.id)}${el('Port', t.port)}</Target>${el('HealthCheckPort', String(t.port))}` +
          `<TargetHealth>${el('State', state)}${state === 'healthy' ? '' : el('Reason', reason) + el('Description', description)}</TargetHealth></member>`,
      );
    }
    return queryReply('DescribeTargetHealth', NS.elasticloadbalancing, `<TargetHealthDescriptions>${members.join('')}</TargetHealthDescriptions>`);
  }
}
