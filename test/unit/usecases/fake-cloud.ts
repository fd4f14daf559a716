/**
 * An in-memory cloud behind the ports, for use-case tests: canned, stateful
 * answers in the spirit of aws-node-termination-handler's mocks. It records
 * every mutating call so tests assert effects, not implementation details.
 */
import type { AutoScalingPort, GroupDescription, LifecycleActionRef, LifecycleResult } from '../../../lib/ports/autoscaling';
import type { HealthCheckRhythm, TargetGroupPort, TargetGroupSettings, TargetHealth } from '../../../lib/ports/elbv2';
import type { NotifierPort } from '../../../lib/ports/sns';
import type { QueuePort } from '../../../lib/ports/sqs';
import type { CommandInvocation, ManagedInstance, SendCommandInput, SsmPort } from '../../../lib/ports/ssm';
import { parseConfig, type Config } from '../../../lib/config/compute';
import type { Notification } from '../../../lib/core/notification';
import type { Log } from '../../../lib/logger';
import type { LifecycleDeps } from '../../../lib/usecases/compute/common';
import { FakeCoordination } from './fake-coordination';

export const ENV = {
  STAGE: 'test',
  COMPUTE_ASG_NAME: 'pydio-compute',
  TARGET_GROUP_ARN: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pydio/0123456789abcdef',
  TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:ops',
  LIFECYCLE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/lifecycle',
  GLUSTER_SERVERS: '10.0.1.10,10.0.2.10',
  DOC_MOUNT_VOLUMES: 'doc-mount',
  DOC_CONFIGURE_APP: 'doc-configure',
  DOC_DRAIN_NODE: 'doc-drain',
  COORDINATION_TABLE: 'pydio-autoscaler-test-coordination',
  RETRY_BASE_SECONDS: '5',
  RETRY_MAX_SECONDS: '60',
};

export const INSTANCE = 'i-0123456789abcdef0';

export interface Call { readonly op: string; readonly args: unknown }

export class FakeCloud {
  public now = new Date('2026-11-21T10:00:00Z');
  public readonly calls: Call[] = [];
  public readonly notifications: Notification[] = [];
  public readonly queued: Array<{ body: string; delaySeconds: number; id: string }> = [];
  public lifecycleState = 'Pending:Wait';
  public completed: LifecycleResult | undefined;
  public heartbeatTimeout = 900;
  /** Deliveries until the agent reports Online (0 = at once); undefined = never. */
  public agentOnlineAfter: number | undefined = 0;
  public agentPolls = 0;
  /** Per document: polls before the command ends, and how it ends. */
  public commandScript: Record<string, { polls: number; result: CommandInvocation }> = {};
  public readonly commands = new Map<string, { input: SendCommandInput; polls: number }>();
  public targetState: TargetHealth['state'] = 'absent';
  /** Health reads before a registered target turns healthy (undefined = never). */
  public healthyAfter: number | undefined = 1;
  public healthReads = 0;
  /** Health reads while draining before it is gone. */
  public drainReads = 2;
  public settings: TargetGroupSettings = { stickinessEnabled: true, stickinessType: 'app_cookie', cookieName: 'AjaXplorer', deregistrationDelaySeconds: 30 };
  public healthCheck: HealthCheckRhythm = { intervalSeconds: 30, healthyThreshold: 5 };
  /** The coordination table (claims), on this cloud's clock. */
  public readonly coordination = new FakeCoordination(() => this.now);
  public storageGroup: GroupDescription | undefined;
  public computeGroup: GroupDescription = {
    name: 'pydio-compute', minSize: 0, maxSize: 4, desiredCapacity: 1, targetGroupArns: [], availabilityZones: ['eu-west-1a', 'eu-west-1b'], instances: [],
  };
  public storageAgents: ManagedInstance[] = [];
  /** What the compute instance's agent reports (absent: not reported). */
  public agentVersion: string | undefined;
  private nextId = 0;

  public readonly autoScaling: AutoScalingPort = {
    describeGroup: async (name) => (name === this.storageGroup?.name ? this.storageGroup : name === 'pydio-compute' ? this.computeGroup : undefined),
    describeInstance: async (id) =>
      id === INSTANCE && this.lifecycleState !== 'Gone'
        ? { instanceId: id, groupName: 'pydio-compute', availabilityZone: 'eu-west-1a', lifecycleState: this.lifecycleState, healthStatus: 'Healthy', protectedFromScaleIn: false }
        : undefined,
    describeLifecycleHook: async () => ({ heartbeatTimeoutSeconds: this.heartbeatTimeout, defaultResult: 'ABANDON' }),
    completeLifecycleAction: async (ref: LifecycleActionRef, result: LifecycleResult) => {
      this.calls.push({ op: 'completeLifecycleAction', args: { ...ref, result } });
      if (!this.lifecycleState.endsWith(':Wait')) return 'already-completed';
      this.completed = result;
      this.lifecycleState = result === 'CONTINUE' && this.lifecycleState === 'Pending:Wait' ? 'InService' : 'Terminating:Proceed';
      return 'completed';
    },
    recordHeartbeat: async (ref) => {
      this.calls.push({ op: 'recordHeartbeat', args: ref });
      return 'recorded';
    },
  } as AutoScalingPort;

  public readonly ssm: SsmPort = {
    describeManagedInstances: async (ids) => {
      if (ids.includes(INSTANCE)) {
        this.agentPolls += 1;
        const online = this.agentOnlineAfter !== undefined && this.agentPolls > this.agentOnlineAfter;
        return [{ instanceId: INSTANCE, online, ...(this.agentVersion ? { agentVersion: this.agentVersion } : {}) }];
      }
      return this.storageAgents.filter((a) => ids.includes(a.instanceId));
    },
    sendCommand: async (input) => {
      const id = `cmd-${++this.nextId}`;
      this.calls.push({ op: 'sendCommand', args: input });
      this.commands.set(id, { input, polls: 0 });
      return id;
    },
    getInvocation: async (commandId) => {
      const command = this.commands.get(commandId);
      if (!command) return { status: 'Pending', exitCode: -1, stdout: '', stderr: '' };
      command.polls += 1;
      const script = this.commandScript[command.input.documentName] ?? { polls: 1, result: { status: 'Success', exitCode: 0, stdout: 'ok', stderr: '' } };
      return command.polls >= script.polls ? script.result : { status: 'InProgress', exitCode: -1, stdout: '', stderr: '' };
    },
    getStepOutput: async () => '',
  } as SsmPort;

  public readonly targets: TargetGroupPort = {
    registerTarget: async (arn, id, port) => {
      this.calls.push({ op: 'registerTarget', args: { arn, id, port } });
      this.targetState = 'initial';
      this.healthReads = 0;
    },
    deregisterTarget: async (arn, id, port) => {
      this.calls.push({ op: 'deregisterTarget', args: { arn, id, port } });
      this.targetState = 'draining';
      this.healthReads = 0;
    },
    describeTargetHealth: async () => {
      this.healthReads += 1;
      if (this.targetState === 'initial' && this.healthyAfter !== undefined && this.healthReads > this.healthyAfter) this.targetState = 'healthy';
      if (this.targetState === 'draining' && this.healthReads > this.drainReads) this.targetState = 'absent';
      return { state: this.targetState };
    },
    describeSettings: async () => this.settings,
    describeHealthCheck: async () => this.healthCheck,
  };

  public readonly notifier: NotifierPort = {
    publish: async (n) => {
      this.notifications.push(n);
    },
  };

  public readonly queue: QueuePort = {
    send: async (_url, body, delaySeconds) => {
      this.queued.push({ body, delaySeconds, id: `cont-${++this.nextId}` });
    },
  };

  public readonly metrics: Array<[string, number]> = [];

  public readonly log: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Log;

  public deps(env: Record<string, string> = {}): LifecycleDeps {
    const config: Config = parseConfig({ ...ENV, ...env });
    return {
      config,
      autoScaling: this.autoScaling,
      ssm: this.ssm,
      coordination: this.coordination,
      targets: this.targets,
      notifier: this.notifier,
      queue: this.queue,
      metrics: {
        count: (name, value) => void this.metrics.push([name, value]),
        seconds: (name, value) => void this.metrics.push([name, value]),
        gauge: (name, value) => void this.metrics.push([name, value]),
        flush: () => undefined,
      },
      log: this.log,
      now: () => this.now,
    };
  }

  public mutatingCalls(): string[] {
    return this.calls.map((c) => c.op);
  }
}

export function lifecycleEvent(transition: 'launch' | 'terminate', over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    version: '0',
    id: 'evt-1',
    'detail-type': transition === 'launch' ? 'EC2 Instance-launch Lifecycle Action' : 'EC2 Instance-terminate Lifecycle Action',
    source: 'aws.autoscaling',
    account: '123456789012',
    time: '2026-11-21T10:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      LifecycleActionToken: 'b6a3c1f0-0000-4000-8000-000000000001',
      AutoScalingGroupName: 'pydio-compute',
      LifecycleHookName: `pydio-autoscaler-test-compute-${transition}`,
      EC2InstanceId: INSTANCE,
      LifecycleTransition: transition === 'launch' ? 'autoscaling:EC2_INSTANCE_LAUNCHING' : 'autoscaling:EC2_INSTANCE_TERMINATING',
      ...over,
    },
  });
}

/** Run Command's `EC2 Command Status-change Notification` of `commandId` on `instanceId`, as EventBridge delivers it to a flow's queue. */
export function commandEvent(commandId: string, status = 'Success', documentName = 'doc-mount', instanceId = INSTANCE): string {
  return JSON.stringify({
    version: '0',
    id: `evt-${commandId}-${status}`,
    'detail-type': 'EC2 Command Status-change Notification',
    source: 'aws.ssm',
    account: '123456789012',
    time: '2026-11-21T10:00:01Z',
    region: 'eu-west-1',
    resources: [`arn:aws:ec2:eu-west-1:123456789012:instance/${instanceId}`],
    detail: {
      'command-id': commandId,
      'document-name': documentName,
      'expire-after': '2026-11-21T12:00:00.000Z',
      parameters: {},
      'requested-date-time': '2026-11-21T10:00:00.000Z',
      status,
    },
  });
}
