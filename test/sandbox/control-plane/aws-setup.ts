/**
 * Create in moto (through the control plane or directly) the AWS environment a
 * stage expects: network, launch template, compute Auto Scaling group, sticky
 * target group, and an SNS topic whose messages land in an SQS queue we can read.
 */
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  PutLifecycleHookCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Agent } from 'node:http';
import { APP_PROFILES } from '../../../lib/config/compute';
import type { TargetGroupHealthCheck } from './types';

export const REGION = 'eu-west-1';
export const ACCOUNT_ID = '123456789012';

/**
 * Client settings for any SDK v3 client pointed at the emulator.
 *
 * One attempt, so a test sees every refusal and throttle as the caller would
 * before retrying. With one attempt a reused keep-alive connection is a race:
 * the emulator's server closes a socket idle for its keep-alive timeout (5 s),
 * and a request written at that instant is answered with a TCP reset
 * (`read ECONNRESET`), which the SDK's default three attempts would retry and
 * ours cannot. So each request opens its own loopback connection.
 */
export function clientConfig(endpoint: string): {
  region: string;
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  maxAttempts: number;
  requestHandler: { httpAgent: Agent };
} {
  return {
    region: REGION,
    endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
    requestHandler: { httpAgent: new Agent({ keepAlive: false }) },
  };
}

export interface NetworkSetup {
  readonly vpcId: string;
  readonly subnets: readonly { readonly subnetId: string; readonly availabilityZone: string; readonly cidr: string }[];
}

/** VPC 10.<octet>.0.0/16 with one subnet per zone: 10.<octet>.1.0/24 in eu-west-1a, 10.<octet>.2.0/24 in eu-west-1b. */
export async function createNetwork(endpoint: string, octet = 71): Promise<NetworkSetup> {
  const ec2 = new EC2Client(clientConfig(endpoint));
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: `10.${octet}.0.0/16` }));
  const vpcId = required(vpc.Vpc?.VpcId, 'CreateVpc returned no VpcId');
  const wanted = [
    { availabilityZone: 'eu-west-1a', cidr: `10.${octet}.1.0/24` },
    { availabilityZone: 'eu-west-1b', cidr: `10.${octet}.2.0/24` },
  ];
  const subnets = [];
  for (const w of wanted) {
    const s = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: w.cidr, AvailabilityZone: w.availabilityZone }));
    subnets.push({ ...w, subnetId: required(s.Subnet?.SubnetId, 'CreateSubnet returned no SubnetId') });
  }
  return { vpcId, subnets };
}

/** dataVolume: an extra EBS volume per instance (moto creates and attaches it at launch), as a storage launch template maps the brick disk. */
export async function createLaunchTemplate(endpoint: string, name: string, dataVolume?: { device: string; sizeGiB: number }): Promise<string> {
  const ec2 = new EC2Client(clientConfig(endpoint));
  const lt = await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: name,
      LaunchTemplateData: {
        ImageId: 'ami-12c6146b',
        InstanceType: 't3.small',
        ...(dataVolume ? { BlockDeviceMappings: [{ DeviceName: dataVolume.device, Ebs: { VolumeSize: dataVolume.sizeGiB, VolumeType: 'gp3', DeleteOnTermination: true } }] } : {}),
      },
    }),
  );
  return required(lt.LaunchTemplate?.LaunchTemplateId, 'CreateLaunchTemplate returned no id');
}

export interface TargetGroupOptions {
  readonly name: string;
  readonly vpcId: string;
  readonly deregistrationDelaySeconds?: number;
  /** Default TARGET_GROUP_STICKINESS. */
  readonly stickiness?: { readonly cookieName: string; readonly durationSeconds: number };
}

/**
 * The sandbox target group's stickiness: app_cookie on the app's real session
 * cookie (Pydio 8: AjaXplorer, lib/config/compute.ts APP_PROFILES), as the deployment
 * needs. The HAProxy data plane is configured from the same value.
 */
export const TARGET_GROUP_STICKINESS = { cookieName: APP_PROFILES.pydio8.sessionCookie, durationSeconds: 86400 } as const;

/**
 * The sandbox target group's health check: the path the deployment's nodes answer (check.txt,
 * run by PHP: install-health-check.sh), ELB's default matcher, and the quickest rhythm ELB
 * accepts (interval 5 s, its minimum; the timeout must be shorter, and above the check's own
 * 3 s bound on the volumes' probes). The HAProxy data plane checks with exactly these values
 * (boot/hosts.ts) and refuses a registration into a target group whose settings differ.
 */
export const TARGET_GROUP_HEALTH_CHECK: TargetGroupHealthCheck = {
  path: '/check.txt',
  intervalSeconds: 5,
  timeoutSeconds: 4,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
  matcher: '200',
};

/** HTTP:80 target group, health check TARGET_GROUP_HEALTH_CHECK, app_cookie stickiness per TARGET_GROUP_STICKINESS. */
export async function createTargetGroup(endpoint: string, opts: TargetGroupOptions): Promise<string> {
  const elb = new ElasticLoadBalancingV2Client(clientConfig(endpoint));
  const tg = await elb.send(
    new CreateTargetGroupCommand({
      Name: opts.name,
      Protocol: 'HTTP',
      Port: 80,
      VpcId: opts.vpcId,
      TargetType: 'instance',
      HealthCheckProtocol: 'HTTP',
      HealthCheckPath: TARGET_GROUP_HEALTH_CHECK.path,
      HealthCheckIntervalSeconds: TARGET_GROUP_HEALTH_CHECK.intervalSeconds,
      HealthCheckTimeoutSeconds: TARGET_GROUP_HEALTH_CHECK.timeoutSeconds,
      HealthyThresholdCount: TARGET_GROUP_HEALTH_CHECK.healthyThreshold,
      UnhealthyThresholdCount: TARGET_GROUP_HEALTH_CHECK.unhealthyThreshold,
      Matcher: { HttpCode: TARGET_GROUP_HEALTH_CHECK.matcher },
    }),
  );
  const arn = required(tg.TargetGroups?.[0]?.TargetGroupArn, 'CreateTargetGroup returned no ARN');
  await elb.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: arn,
      Attributes: [
        { Key: 'stickiness.enabled', Value: 'true' },
        { Key: 'stickiness.type', Value: 'app_cookie' },
        { Key: 'stickiness.app_cookie.cookie_name', Value: (opts.stickiness ?? TARGET_GROUP_STICKINESS).cookieName },
        { Key: 'stickiness.app_cookie.duration_seconds', Value: String((opts.stickiness ?? TARGET_GROUP_STICKINESS).durationSeconds) },
        { Key: 'deregistration_delay.timeout_seconds', Value: String(opts.deregistrationDelaySeconds ?? 300) },
      ],
    }),
  );
  return arn;
}

export interface GroupOptions {
  readonly name: string;
  readonly launchTemplateId: string;
  readonly subnetIds: readonly string[];
  readonly min: number;
  readonly max: number;
  readonly desired: number;
  readonly targetGroupArns?: readonly string[];
}

export async function createComputeGroup(endpoint: string, opts: GroupOptions): Promise<void> {
  const asg = new AutoScalingClient(clientConfig(endpoint));
  await asg.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: opts.name,
      LaunchTemplate: { LaunchTemplateId: opts.launchTemplateId, Version: '$Latest' },
      MinSize: opts.min,
      MaxSize: opts.max,
      DesiredCapacity: opts.desired,
      VPCZoneIdentifier: opts.subnetIds.join(','),
      ...(opts.targetGroupArns !== undefined ? { TargetGroupARNs: [...opts.targetGroupArns] } : {}),
    }),
  );
}

export interface HookOptions {
  readonly groupName: string;
  readonly hookName: string;
  readonly transition: 'autoscaling:EC2_INSTANCE_LAUNCHING' | 'autoscaling:EC2_INSTANCE_TERMINATING';
  readonly heartbeatTimeoutSeconds?: number;
  readonly defaultResult?: 'CONTINUE' | 'ABANDON';
  readonly metadata?: string;
}

export async function putLifecycleHook(endpoint: string, opts: HookOptions): Promise<void> {
  const asg = new AutoScalingClient(clientConfig(endpoint));
  await asg.send(
    new PutLifecycleHookCommand({
      AutoScalingGroupName: opts.groupName,
      LifecycleHookName: opts.hookName,
      LifecycleTransition: opts.transition,
      HeartbeatTimeout: opts.heartbeatTimeoutSeconds ?? 600,
      DefaultResult: opts.defaultResult ?? 'ABANDON',
      ...(opts.metadata !== undefined ? { NotificationMetadata: opts.metadata } : {}),
    }),
  );
}

export async function createQueue(endpoint: string, name: string): Promise<{ queueUrl: string; queueArn: string }> {
  const sqs = new SQSClient(clientConfig(endpoint));
  const q = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const queueUrl = required(q.QueueUrl, 'CreateQueue returned no QueueUrl');
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  return { queueUrl, queueArn: required(attrs.Attributes?.QueueArn, 'GetQueueAttributes returned no QueueArn') };
}

/** The EventBridge rule the stage deploys: lifecycle actions of one group -> the lifecycle queue. */
export const lifecycleEventPattern = (groupName: string): Record<string, unknown> => ({
  source: ['aws.autoscaling'],
  'detail-type': ['EC2 Instance-launch Lifecycle Action', 'EC2 Instance-terminate Lifecycle Action'],
  detail: { AutoScalingGroupName: [groupName] },
});

export async function routeLifecycleEventsToQueue(
  endpoint: string,
  opts: { ruleName: string; groupName: string; queueArn: string },
): Promise<void> {
  await routeEventsToQueue(endpoint, { ruleName: opts.ruleName, pattern: lifecycleEventPattern(opts.groupName), queueArn: opts.queueArn, targetId: 'lifecycle-queue' });
}

/** An EventBridge rule with `pattern` whose target is the queue, and the queue policy that lets the rule send. */
export async function routeEventsToQueue(
  endpoint: string,
  opts: { ruleName: string; pattern: Record<string, unknown>; queueArn: string; targetId?: string },
): Promise<void> {
  const events = new EventBridgeClient(clientConfig(endpoint));
  const rule = await events.send(new PutRuleCommand({ Name: opts.ruleName, EventPattern: JSON.stringify(opts.pattern), State: 'ENABLED' }));
  await events.send(new PutTargetsCommand({ Rule: opts.ruleName, Targets: [{ Id: opts.targetId ?? 'queue', Arn: opts.queueArn }] }));
  await letRuleSendTo(endpoint, opts.queueArn, required(rule.RuleArn, 'PutRule returned no RuleArn'));
}

/** The queue policy the stack gives a rule's queue (serverless.yml, *QueuePolicy): EventBridge sends only where it may. */
export function eventsMaySend(queueArn: string, ruleArn: string): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: queueArn, Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } } }],
  };
}

export async function letRuleSendTo(endpoint: string, queueArn: string, ruleArn: string): Promise<void> {
  const sqs = new SQSClient(clientConfig(endpoint));
  const name = queueArn.split(':').pop() ?? '';
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: JSON.stringify(eventsMaySend(queueArn, ruleArn)) } }));
}

/** SNS topic (notifications) whose messages are copied to an SQS queue tests can read. */
export async function createNotificationTopic(
  endpoint: string,
  name: string,
): Promise<{ topicArn: string; queueUrl: string; queueArn: string }> {
  const sns = new SNSClient(clientConfig(endpoint));
  const topic = await sns.send(new CreateTopicCommand({ Name: name }));
  const topicArn = required(topic.TopicArn, 'CreateTopic returned no TopicArn');
  const queue = await createQueue(endpoint, `${name}-reader`);
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queue.queueArn, Attributes: { RawMessageDelivery: 'true' } }));
  return { topicArn, ...queue };
}

export interface StageEnvironment {
  readonly network: NetworkSetup;
  readonly launchTemplateId: string;
  readonly targetGroupArn: string;
  readonly groupName: string;
  readonly lifecycleQueue: { queueUrl: string; queueArn: string };
  readonly notifications: { topicArn: string; queueUrl: string; queueArn: string };
}

export interface StageOptions {
  readonly prefix: string;
  readonly min?: number;
  readonly max?: number;
  readonly deregistrationDelaySeconds?: number;
  readonly launchHook?: { name: string; heartbeatTimeoutSeconds?: number; defaultResult?: 'CONTINUE' | 'ABANDON' };
  readonly terminateHook?: { name: string; heartbeatTimeoutSeconds?: number; defaultResult?: 'CONTINUE' | 'ABANDON' };
}

/** Everything at once, names derived from `prefix`. Hooks are put before capacity is raised. */
export async function createStageEnvironment(endpoint: string, opts: StageOptions): Promise<StageEnvironment> {
  const network = await createNetwork(endpoint);
  const launchTemplateId = await createLaunchTemplate(endpoint, `${opts.prefix}-lt`);
  const targetGroupArn = await createTargetGroup(endpoint, {
    name: `${opts.prefix}-tg`,
    vpcId: network.vpcId,
    ...(opts.deregistrationDelaySeconds !== undefined ? { deregistrationDelaySeconds: opts.deregistrationDelaySeconds } : {}),
  });
  const groupName = `${opts.prefix}-compute`;
  await createComputeGroup(endpoint, {
    name: groupName,
    launchTemplateId,
    subnetIds: network.subnets.map((s) => s.subnetId),
    min: opts.min ?? 0,
    max: opts.max ?? 6,
    desired: 0,
  });
  if (opts.launchHook !== undefined) {
    await putLifecycleHook(endpoint, { groupName, hookName: opts.launchHook.name, transition: 'autoscaling:EC2_INSTANCE_LAUNCHING', ...opts.launchHook });
  }
  if (opts.terminateHook !== undefined) {
    await putLifecycleHook(endpoint, { groupName, hookName: opts.terminateHook.name, transition: 'autoscaling:EC2_INSTANCE_TERMINATING', ...opts.terminateHook });
  }
  const lifecycleQueue = await createQueue(endpoint, `${opts.prefix}-lifecycle`);
  await routeLifecycleEventsToQueue(endpoint, { ruleName: `${opts.prefix}-lifecycle`, groupName, queueArn: lifecycleQueue.queueArn });
  const notifications = await createNotificationTopic(endpoint, `${opts.prefix}-notifications`);
  return { network, launchTemplateId, targetGroupArn, groupName, lifecycleQueue, notifications };
}

function required<T>(value: T | undefined | null, message: string): T {
  if (value === undefined || value === null) throw new Error(message);
  return value;
}
