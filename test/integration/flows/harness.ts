/**
 * End-to-end fixture for the lifecycle flows: moto + the control-plane front
 * with SIMULATED seams, the packaged stack deployed into it, and the REAL
 * bundled handlers run by the Lambda runner behind a request recorder.
 *
 * Used by test/integration/flows/*.test.ts and test/bench/flows.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  type Instance as AsgInstance,
} from '@aws-sdk/client-auto-scaling';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  clientConfig,
  createComputeGroup,
  createLaunchTemplate,
  createNetwork,
  createQueue,
  createTargetGroup,
  putLifecycleHook,
  type NetworkSetup,
} from '../../sandbox/control-plane/aws-setup';
import { startControlPlane, type ControlPlane, type Logger } from '../../sandbox/control-plane/front';
import type { ThrottleSettings } from '../../sandbox/control-plane/throttle';
import { startMoto, type MotoServer } from '../../sandbox/control-plane/moto';
import { SimulatedDataPlane, SimulatedExecutor, SimulatedHosts } from '../../sandbox/control-plane/simulated';
import { LambdaRunner, type Invocation } from '../../sandbox/lambda/runner';
import { startRecorder, type Recorder } from '../../sandbox/lambda/recorder';
import { readOpsMessage } from '../../sandbox/ops-message';
import { identitiesOf } from '../../sandbox/iam/enforcer';
import { deployStack, type DeployedStack } from '../../sandbox/stack/deploy';
import { packageStack, type PackagedStack } from '../../sandbox/stack/package';

export const STAGE = 'h6it';
export const GROUP = 'h6-compute';
export const OTHER_GROUP = 'h6-other';
export const GLUSTER_SERVERS = '10.71.1.10,10.71.2.10';
/** Baked into the package; replaced by moto's real target group ARN at deploy time. */
export const TARGET_GROUP_PLACEHOLDER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/h6-placeholder/0000000000000000';

/** Stage params of the test stage: small retry delays so flows take seconds. */
export const STAGE_PARAMS: Readonly<Record<string, string>> = {
  computeGroupName: GROUP,
  targetGroupArn: TARGET_GROUP_PLACEHOLDER,
  glusterServers: GLUSTER_SERVERS,
  retryBaseSeconds: '1',
  retryMaxSeconds: '2',
  healthyTimeoutSeconds: '60',
  drainMaxSeconds: '30',
};

export interface Notification {
  readonly subject: string;
  readonly message: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface FlowsEnvironment {
  readonly moto: MotoServer;
  readonly cp: ControlPlane;
  readonly executor: SimulatedExecutor;
  readonly dataPlane: SimulatedDataPlane;
  readonly hosts: SimulatedHosts;
  readonly recorder: Recorder;
  readonly runner: LambdaRunner;
  readonly packaged: PackagedStack;
  readonly stack: DeployedStack;
  readonly network: NetworkSetup;
  readonly targetGroupArn: string;
  readonly lifecycleQueueUrl: string;
  readonly opsQueueUrl: string;
  readonly logFile: string;
  readonly asg: AutoScalingClient;
  readonly elb: ElasticLoadBalancingV2Client;
  readonly sqs: SQSClient;
  setDesired(groupName: string, desired: number): Promise<void>;
  instances(groupName: string): Promise<AsgInstance[]>;
  targetHealth(instanceId: string): Promise<{ state: string; reason?: string }>;
  /** Put a raw body on the lifecycle queue (as EventBridge, or anyone, would). */
  sendToLifecycleQueue(body: string): Promise<string>;
  /** Notifications received so far (each read once, in arrival order). */
  readNotifications(waitMs?: number): Promise<Notification[]>;
  /** The runner's invocation that processed this message, once it finished. */
  invocationFor(messageId: string, timeoutMs?: number): Promise<Invocation>;
  stop(): Promise<void>;
}

export interface FlowsOptions {
  /** Healthy this long after registration (default 300 ms). */
  readonly healthyAfterMs?: number;
  /** Target group deregistration delay (default 1 s). */
  readonly deregistrationDelaySeconds?: number;
  /** Where the functions' logs go (default: a temp file). */
  readonly logFile?: string;
  /** Stage params replacing STAGE_PARAMS' (e.g. the production retry delays); packaged as a stage of its own. */
  readonly stageParams?: Readonly<Record<string, string>>;
  /** The compute group's MaxSize (default 3). */
  readonly groupMax?: number;
  /** Request rates the front throttles at, beside the documented EC2 and ELB ones (throttle.ts). */
  readonly throttle?: ThrottleSettings;
  /** The seams, when the caller times them (default: plain simulated ones; agentDelayMs 0, healthyAfterMs as above). */
  readonly executor?: SimulatedExecutor;
  readonly dataPlane?: SimulatedDataPlane;
  /** The front's log (e.g. to count lifecycle completions by result). */
  readonly frontLog?: Logger;
  /** Batches each queue's function runs at once (LambdaRunner concurrentBatches; default 1). */
  readonly concurrentBatches?: number;
}

/** Poll `probe` until it returns something other than undefined (bounded). */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function startFlowsEnvironment(opts: FlowsOptions = {}): Promise<FlowsEnvironment> {
  const packaged = await packageStack({ stage: STAGE, params: { ...STAGE_PARAMS, ...opts.stageParams } });
  const logFile = opts.logFile ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'h6-flows-')), 'functions.log');
  const moto = await startMoto();
  const stoppers: (() => Promise<void>)[] = [() => moto.stop()];
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
  };
  try {
    const executor = opts.executor ?? new SimulatedExecutor({ agentDelayMs: 0 });
    const dataPlane = opts.dataPlane ?? new SimulatedDataPlane({ healthyAfterMs: opts.healthyAfterMs ?? 300 });
    const hosts = new SimulatedHosts(executor);
    const cp = await startControlPlane({
      motoUrl: moto.url,
      executor,
      dataPlane,
      hosts,
      agentPollMs: 50,
      ...(opts.throttle ? { throttle: opts.throttle } : {}),
      ...(opts.frontLog ? { log: opts.frontLog } : {}),
    });
    stoppers.push(() => cp.stop());
    cp.events.on('step', (s: { instanceId: string; script: string; documentName: string; stepName: string }) => executor.noteStep(s));
    const endpoint = cp.url;
    const config = clientConfig(endpoint);

    // What exists before the stack: network, the compute group (empty), the sticky target group.
    const network = await createNetwork(endpoint);
    const launchTemplateId = await createLaunchTemplate(endpoint, 'h6-lt');
    const targetGroupArn = await createTargetGroup(endpoint, { name: 'h6-tg', vpcId: network.vpcId, deregistrationDelaySeconds: opts.deregistrationDelaySeconds ?? 1 });
    const subnetIds = network.subnets.map((s) => s.subnetId);
    await createComputeGroup(endpoint, { name: GROUP, launchTemplateId, subnetIds, min: 0, max: opts.groupMax ?? 3, desired: 0 });
    // Another group in the same account, with its own launch hook nobody of ours answers.
    await createComputeGroup(endpoint, { name: OTHER_GROUP, launchTemplateId, subnetIds, min: 0, max: 2, desired: 0 });
    await putLifecycleHook(endpoint, { groupName: OTHER_GROUP, hookName: 'h6-other-launch', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING', heartbeatTimeoutSeconds: 600 });

    // Deployed through the recorder: queue URLs then carry its address, and the
    // SQS client sends to the QueueUrl's host, so the functions' SQS calls are seen too.
    const recorder = await startRecorder(endpoint);
    stoppers.push(() => recorder.stop());
    const stack = await deployStack({ endpoint: recorder.url, template: packaged.template, replace: { [TARGET_GROUP_PLACEHOLDER]: targetGroupArn } });
    // The functions' calls are checked against their roles as packaged from here on.
    cp.enforceIam(identitiesOf(stack));

    // Ops read the topic through an SQS subscription.
    const ops = await createQueue(endpoint, 'h6-ops-reader');
    await new SNSClient(config).send(new SubscribeCommand({ TopicArn: stack.physicalId('NotificationsTopic'), Protocol: 'sqs', Endpoint: ops.queueArn }));

    const runner = await LambdaRunner.start({
      packageDir: packaged.dir,
      stack,
      functionEndpoint: recorder.url,
      pollEndpoint: endpoint,
      logFile,
      ...(opts.concurrentBatches !== undefined ? { concurrentBatches: opts.concurrentBatches } : {}),
    });
    stoppers.push(() => runner.stop());

    const asg = new AutoScalingClient(config);
    const elb = new ElasticLoadBalancingV2Client(config);
    // Our own reads and writes go straight to the front, never through the recorder.
    const sqs = new SQSClient({ ...config, useQueueUrlAsEndpoint: false });
    const lifecycleQueueUrl = stack.physicalId('LifecycleQueue');

    return {
      moto,
      cp,
      executor,
      dataPlane,
      hosts,
      recorder,
      runner,
      packaged,
      stack,
      network,
      targetGroupArn,
      lifecycleQueueUrl,
      opsQueueUrl: ops.queueUrl,
      logFile,
      asg,
      elb,
      sqs,
      async setDesired(groupName, desired) {
        await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: groupName, DesiredCapacity: desired }));
      },
      async instances(groupName) {
        const out = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }));
        return out.AutoScalingGroups?.[0]?.Instances ?? [];
      },
      async targetHealth(instanceId) {
        const out = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId, Port: 80 }] }));
        const d = out.TargetHealthDescriptions?.[0]?.TargetHealth;
        return { state: d?.State ?? 'absent', ...(d?.Reason ? { reason: d.Reason } : {}) };
      },
      async sendToLifecycleQueue(body) {
        const out = await sqs.send(new SendMessageCommand({ QueueUrl: lifecycleQueueUrl, MessageBody: body }));
        if (out.MessageId === undefined) throw new Error('SendMessage returned no MessageId');
        return out.MessageId;
      },
      async readNotifications(waitMs = 1500) {
        const found: Notification[] = [];
        const deadline = Date.now() + waitMs;
        for (let round = 0; round < 100 && Date.now() <= deadline; round += 1) {
          const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: ops.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
          for (const m of out.Messages ?? []) {
            const { subject, message, attributes } = readOpsMessage(m.Body ?? '{}');
            found.push({ subject, message, attributes });
            await sqs.send(new DeleteMessageCommand({ QueueUrl: ops.queueUrl, ReceiptHandle: m.ReceiptHandle }));
          }
        }
        return found;
      },
      async invocationFor(messageId, timeoutMs = 30_000) {
        return eventually(async () => runner.journal.find((i) => i.messageIds?.includes(messageId)), `the invocation that handles message ${messageId}`, timeoutMs, 100);
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
