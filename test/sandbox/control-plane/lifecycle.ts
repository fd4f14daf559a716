/**
 * Auto Scaling lifecycle hooks, emulated on top of moto: an overlay of
 * Pending:Wait / Terminating:Wait per instance, lifecycle-action events,
 * CompleteLifecycleAction / RecordLifecycleActionHeartbeat, heartbeat
 * timeouts applying the hook's DefaultResult, and scale-in that waits for the
 * terminate hook before moto really terminates anything.
 */
import { randomUUID } from 'node:crypto';
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  PutLifecycleHookCommand,
  SetInstanceHealthCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client, type Instance } from '@aws-sdk/client-ec2';
import type { AwsEvent } from './event-bus';
import { gracePeriodRefusal, readHealthRequest } from './instance-health';
import type { LifecycleFact } from './scaling-activities';
import type { HostProvider } from './types';
import { ApiError, awsTime, el, NS, queryReply, requiredParam, type Reply } from './wire';

export type Transition = 'autoscaling:EC2_INSTANCE_LAUNCHING' | 'autoscaling:EC2_INSTANCE_TERMINATING';

interface Hook {
  readonly name: string;
  readonly heartbeatTimeoutSeconds: number;
  readonly defaultResult: 'CONTINUE' | 'ABANDON';
  readonly metadata?: string;
}

interface Action {
  readonly token: string;
  readonly instanceId: string;
  readonly groupName: string;
  readonly hook: Hook;
  readonly transition: Transition;
  timer?: NodeJS.Timeout;
  deadline: number;
  /** When the instance entered the wait state: the global timeout counts from here, heartbeats do not move it. */
  readonly since: number;
}

interface Overlay {
  readonly instanceId: string;
  readonly groupName: string;
  /** Pending: launched by moto, its host and hooks not set up yet (never InService before its launch hooks). */
  state: 'Pending' | 'Pending:Wait' | 'Terminating:Wait';
  /** hook name -> open action */
  readonly open: Map<string, Action>;
  abandoned: boolean;
  /** terminate: whether the desired capacity drops when it goes */
  readonly decrement: boolean;
}

export interface LifecycleDeps {
  readonly clientConfig: object;
  readonly hosts: HostProvider;
  readonly now: () => number;
  readonly emit: (event: AwsEvent) => Promise<void>;
  readonly log: (message: string, fields?: Record<string, unknown>) => void;
  /** Launches, terminate actions, hook completions and terminations, as they happen (the emulated scaling activities). */
  readonly onFact?: (fact: LifecycleFact) => void;
}

/** Forward the request being handled to moto, unchanged or with a rewritten form. */
export type Forward = (form: URLSearchParams) => Promise<Reply>;

const MUTATING = new Set(['CreateAutoScalingGroup', 'AttachInstances', 'DetachInstances', 'ExecutePolicy', 'EnterStandby', 'ExitStandby']);

/**
 * Request limits AWS enforces and moto 5.2.1 does not (checked against moto: it takes 51 ids and a
 * heartbeat timeout of 10 s or 9000 s). Sources: the API reference of each call, cited in
 * test/contracts/catalogue/autoscaling.yml.
 */
export const MAX_INSTANCE_IDS = 50;
export const HEARTBEAT_TIMEOUT_RANGE = { min: 30, max: 7200 } as const;
/** LifecycleHook.GlobalTimeout: "172800 seconds (48 hours) or 100 times HeartbeatTimeout, whichever is smaller". */
export function globalTimeoutSeconds(heartbeatTimeoutSeconds: number): number {
  return Math.min(172_800, 100 * heartbeatTimeoutSeconds);
}

/** `InstanceIds.member.N` values of an awsQuery form. */
function instanceIdsOf(form: URLSearchParams): string[] {
  return [...form.keys()].filter((key) => /^InstanceIds\.member\.\d+$/.test(key)).map((key) => form.get(key) ?? '');
}

function refuseOverIdLimit(action: string, form: URLSearchParams): void {
  const ids = instanceIdsOf(form);
  if (ids.length > MAX_INSTANCE_IDS) {
    throw new ApiError('ValidationError', `1 validation error detected: Value '[${ids.join(', ')}]' at 'instanceIds' failed to satisfy constraint: Member must have length less than or equal to ${MAX_INSTANCE_IDS} (${action})`);
  }
}

/** LifecycleHook.LifecycleHookName: "Length Constraints: Minimum length of 1. Maximum length of 255. Pattern: [A-Za-z0-9\-_\/]+". */
export const LIFECYCLE_HOOK_NAME = /^[A-Za-z0-9\-_/]{1,255}$/;

/** PutLifecycleHook's name and HeartbeatTimeout, and each hook of CreateAutoScalingGroup's LifecycleHookSpecificationList. */
function refuseInvalidHook(form: URLSearchParams): void {
  for (const [key, value] of form) {
    if ((key === 'LifecycleHookName' || /^LifecycleHookSpecificationList\.member\.\d+\.LifecycleHookName$/.test(key)) && !LIFECYCLE_HOOK_NAME.test(value)) {
      throw new ApiError('ValidationError', `1 validation error detected: Value '${value}' at 'lifecycleHookName' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9\\-_\\/]+`);
    }
  }
  for (const [key, value] of form) {
    if (key !== 'HeartbeatTimeout' && !/^LifecycleHookSpecificationList\.member\.\d+\.HeartbeatTimeout$/.test(key)) continue;
    const seconds = Number(value);
    const { min, max } = HEARTBEAT_TIMEOUT_RANGE;
    if (!Number.isInteger(seconds) || seconds < min || seconds > max) {
      throw new ApiError('ValidationError', `HeartbeatTimeout ${value} is not valid: the range is from ${min} to ${max} seconds`);
    }
  }
}

export class LifecycleService {
  private readonly asg: AutoScalingClient;
  private readonly ec2: EC2Client;
  private readonly overlay = new Map<string, Overlay>();
  private readonly tokens = new Map<string, Action>();
  /** When each instance entered InService (its health check grace period counts from there). */
  private readonly inServiceSince = new Map<string, number>();
  /** Instances set Unhealthy (SetInstanceHealth) while in Pending:Wait: replaced once InService. */
  private readonly unhealthyWhileWaiting = new Set<string>();
  private chain: Promise<unknown> = Promise.resolve();
  private stopped = false;
  /** Capacity changes whose new instances are not marked Pending yet: Describe calls wait for them (see launchStep). */
  private unsettled = 0;
  private launchGeneration = 0;
  private settleWaiters: Array<() => void> = [];

  constructor(private readonly deps: LifecycleDeps) {
    this.asg = new AutoScalingClient(deps.clientConfig);
    this.ec2 = new EC2Client(deps.clientConfig);
  }

  static handles(action: string): boolean {
    return (
      ['SetDesiredCapacity', 'UpdateAutoScalingGroup', 'TerminateInstanceInAutoScalingGroup', 'CompleteLifecycleAction', 'RecordLifecycleActionHeartbeat', 'DescribeAutoScalingInstances', 'DescribeAutoScalingGroups', 'SetInstanceProtection', 'PutLifecycleHook', 'DeleteLifecycleHook', 'DeleteAutoScalingGroup', 'SetInstanceHealth'].includes(action) ||
      MUTATING.has(action)
    );
  }

  /** Serialize everything that diffs moto's view of a group. */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  async handle(action: string, form: URLSearchParams, forward: Forward): Promise<Reply> {
    if (action === 'DescribeAutoScalingInstances' || action === 'SetInstanceProtection') refuseOverIdLimit(action, form);
    if (action === 'PutLifecycleHook' || action === 'CreateAutoScalingGroup') refuseInvalidHook(form);
    switch (action) {
      case 'DescribeAutoScalingInstances':
      case 'DescribeAutoScalingGroups':
        return this.rewriteDescribe(await this.settledDescribe(form, forward));
      case 'SetInstanceProtection':
      case 'PutLifecycleHook':
        return forward(form);
      case 'SetDesiredCapacity':
        return this.locked(() => this.setDesired(action, form, Number(requiredParam(form, 'DesiredCapacity')), forward));
      case 'UpdateAutoScalingGroup':
        return this.locked(() => this.update(form, forward));
      case 'TerminateInstanceInAutoScalingGroup':
        return this.locked(() => this.terminateRequest(form));
      case 'CompleteLifecycleAction':
        return this.locked(() => this.complete(form));
      case 'DeleteLifecycleHook':
        return this.locked(() => this.deleteHook(form, forward));
      case 'DeleteAutoScalingGroup':
        return this.locked(() => this.deleteGroup(form, forward));
      case 'RecordLifecycleActionHeartbeat':
        return this.locked(() => this.heartbeat(form));
      case 'SetInstanceHealth':
        return this.locked(() => this.setHealth(form, forward));
      case 'CreateAutoScalingGroup':
        return this.locked(() => this.createGroup(form, forward));
      default: {
        const group = form.get('AutoScalingGroupName');
        if (group === null) return forward(form);
        return this.locked(() => this.launchStep(group, () => forward(form), (reply) => reply.status === 200));
      }
    }
  }

  // ---- moto reads -------------------------------------------------------

  private async group(name: string): Promise<AutoScalingGroup> {
    const out = await this.asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
    const g = out.AutoScalingGroups?.[0];
    if (g === undefined) throw new ApiError('ValidationError', `AutoScalingGroup name not found - AutoScalingGroup ${name} not found`);
    return g;
  }

  private async instanceIds(groupName: string): Promise<Set<string>> {
    const g = await this.group(groupName).catch(() => undefined);
    return new Set((g?.Instances ?? []).map((i) => i.InstanceId ?? ''));
  }

  private async hooks(groupName: string, transition: Transition): Promise<Hook[]> {
    const out = await this.asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: groupName }));
    return (out.LifecycleHooks ?? [])
      .filter((h) => h.LifecycleTransition === transition && h.LifecycleHookName !== undefined)
      .map((h) => ({
        name: h.LifecycleHookName ?? '',
        heartbeatTimeoutSeconds: h.HeartbeatTimeout ?? 3600,
        defaultResult: h.DefaultResult === 'CONTINUE' ? 'CONTINUE' : 'ABANDON',
        ...(h.NotificationMetadata !== undefined ? { metadata: h.NotificationMetadata } : {}),
      }));
  }

  private async ec2Instances(ids: string[]): Promise<Instance[]> {
    if (ids.length === 0) return [];
    const out = await this.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
    return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  }

  private pendingDecrements(groupName: string): number {
    return [...this.overlay.values()].filter((o) => o.groupName === groupName && o.state === 'Terminating:Wait' && o.decrement).length;
  }

  // ---- launches ---------------------------------------------------------

  /**
   * A capacity change that may launch instances. moto reports a new instance InService at
   * once; Auto Scaling never does before its launch hooks (Pending, then Pending:Wait). So
   * from the change until every new instance is marked Pending (an overlay, before its slow
   * host is set up), Describe calls wait (settledDescribe).
   */
  private async launchStep<T>(groupName: string, act: () => Promise<T>, launched: (result: T) => boolean = () => true, alsoBefore: readonly string[] = []): Promise<T> {
    const before = await this.instanceIds(groupName);
    for (const id of alsoBefore) before.add(id);
    const { result, fresh } = await this.unsettledWhile(async () => {
      const r = await act();
      return { result: r, fresh: launched(r) ? await this.markPending(groupName, before) : [] };
    });
    await this.launched(groupName, fresh);
    return result;
  }

  private async unsettledWhile<T>(work: () => Promise<T>): Promise<T> {
    this.unsettled += 1;
    this.launchGeneration += 1;
    try {
      return await work();
    } finally {
      this.unsettled -= 1;
      if (this.unsettled === 0) for (const wake of this.settleWaiters.splice(0)) wake();
    }
  }

  /** moto's answer once no capacity change is between launching an instance and marking it Pending (bounded retries). */
  private async settledDescribe(form: URLSearchParams, forward: Forward): Promise<Reply> {
    for (let attempt = 0; ; attempt += 1) {
      while (this.unsettled > 0) await new Promise<void>((resolve) => this.settleWaiters.push(resolve));
      const generation = this.launchGeneration;
      const reply = await forward(form);
      if ((this.unsettled === 0 && generation === this.launchGeneration) || attempt >= 20) return reply;
    }
  }

  /** Everything in the group now and not in `before` is a new instance: Pending until its host and hooks are set up. */
  private async markPending(groupName: string, before: Set<string>): Promise<string[]> {
    const g = await this.group(groupName);
    const fresh = (g.Instances ?? []).map((i) => i.InstanceId ?? '').filter((id) => id !== '' && !before.has(id) && !this.overlay.has(id));
    for (const instanceId of fresh) this.overlay.set(instanceId, { instanceId, groupName, state: 'Pending', open: new Map(), abandoned: false, decrement: false });
    return fresh;
  }

  /** The new instances' hosts, then their launch hooks (Pending:Wait), or InService when the group has none. */
  private async launched(groupName: string, fresh: readonly string[]): Promise<void> {
    if (fresh.length === 0) return;
    const g = await this.group(groupName);
    const details = await this.ec2Instances([...fresh]);
    const hooks = await this.hooks(groupName, 'autoscaling:EC2_INSTANCE_LAUNCHING');
    for (const id of fresh) {
      const d = details.find((x) => x.InstanceId === id);
      await this.deps.hosts.onInstanceLaunched({
        instanceId: id,
        privateIp: d?.PrivateIpAddress ?? '',
        availabilityZone: d?.Placement?.AvailabilityZone ?? '',
        subnetId: d?.SubnetId ?? '',
        groupName,
      });
      this.deps.log('instance launched', { instanceId: id, asgName: groupName, hooks: hooks.map((h) => h.name) });
      this.deps.onFact?.({ kind: 'launched', instanceId: id, groupName, hooks: hooks.map((h) => h.name) });
      if (hooks.length > 0) await this.openActions(g, id, 'autoscaling:EC2_INSTANCE_LAUNCHING', hooks, false);
      else {
        if (this.overlay.get(id)?.state === 'Pending') this.overlay.delete(id);
        this.inServiceSince.set(id, this.deps.now());
      }
    }
  }

  private async openActions(g: AutoScalingGroup, instanceId: string, transition: Transition, hooks: Hook[], decrement: boolean): Promise<void> {
    const groupName = g.AutoScalingGroupName ?? '';
    const overlay: Overlay = {
      instanceId,
      groupName,
      state: transition === 'autoscaling:EC2_INSTANCE_LAUNCHING' ? 'Pending:Wait' : 'Terminating:Wait',
      open: new Map(),
      abandoned: false,
      decrement,
    };
    this.overlay.set(instanceId, overlay);
    for (const hook of hooks) {
      const action: Action = { token: randomUUID(), instanceId, groupName, hook, transition, deadline: 0, since: this.deps.now() };
      overlay.open.set(hook.name, action);
      this.tokens.set(action.token, action);
      this.arm(action);
    }
    if (transition !== 'autoscaling:EC2_INSTANCE_LAUNCHING') this.deps.onFact?.({ kind: 'terminating', instanceId, groupName });
    for (const action of overlay.open.values()) {
      const launch = transition === 'autoscaling:EC2_INSTANCE_LAUNCHING';
      await this.deps.emit({
        version: '0',
        id: randomUUID(),
        'detail-type': launch ? 'EC2 Instance-launch Lifecycle Action' : 'EC2 Instance-terminate Lifecycle Action',
        source: 'aws.autoscaling',
        account: /^arn:aws:autoscaling:[^:]*:(\d+):/.exec(g.AutoScalingGroupARN ?? '')?.[1] ?? '123456789012',
        time: awsTime(this.deps.now()),
        region: /^arn:aws:autoscaling:([^:]*):/.exec(g.AutoScalingGroupARN ?? '')?.[1] ?? 'eu-west-1',
        resources: [g.AutoScalingGroupARN ?? ''],
        detail: {
          LifecycleActionToken: action.token,
          AutoScalingGroupName: groupName,
          LifecycleHookName: action.hook.name,
          EC2InstanceId: instanceId,
          LifecycleTransition: transition,
          ...(action.hook.metadata !== undefined ? { NotificationMetadata: action.hook.metadata } : {}),
          Origin: launch ? 'EC2' : 'AutoScalingGroup',
          Destination: launch ? 'AutoScalingGroup' : 'EC2',
        },
      });
    }
  }

  /**
   * (Re)start the heartbeat timer: when it fires, the hook's DefaultResult applies. A heartbeat
   * never carries the deadline past the global timeout (min(100 x HeartbeatTimeout, 48 h) from
   * the start of the wait): there the DefaultResult applies however many heartbeats came.
   */
  private arm(action: Action): void {
    if (action.timer !== undefined) clearTimeout(action.timer);
    const now = this.deps.now();
    const globalDeadline = action.since + globalTimeoutSeconds(action.hook.heartbeatTimeoutSeconds) * 1000;
    action.deadline = Math.min(now + action.hook.heartbeatTimeoutSeconds * 1000, globalDeadline);
    const reason = action.deadline === globalDeadline ? 'global timeout' : 'heartbeat timeout';
    action.timer = setTimeout(() => {
      if (this.stopped) return;
      this.deps.log(`${reason}, applying default result`, { instanceId: action.instanceId, hookName: action.hook.name, result: action.hook.defaultResult });
      void this.locked(() => this.finish(action, action.hook.defaultResult)).catch((error: unknown) =>
        this.deps.log('applying default result failed', { instanceId: action.instanceId, error: String(error) }),
      );
    }, Math.max(0, action.deadline - now));
  }

  // ---- completion -------------------------------------------------------

  private findAction(form: URLSearchParams): Action {
    const groupName = requiredParam(form, 'AutoScalingGroupName');
    const hookName = requiredParam(form, 'LifecycleHookName');
    const token = form.get('LifecycleActionToken');
    const instanceId = form.get('InstanceId');
    if (token === null && instanceId === null) throw new ApiError('ValidationError', 'Either InstanceId or LifecycleActionToken must be specified');
    let action: Action | undefined;
    if (token !== null) action = this.tokens.get(token);
    else action = this.overlay.get(instanceId ?? '')?.open.get(hookName);
    const live = action !== undefined && this.overlay.get(action.instanceId)?.open.get(action.hook.name) === action;
    if (action === undefined || !live || action.groupName !== groupName || action.hook.name !== hookName || (instanceId !== null && action.instanceId !== instanceId)) {
      throw new ApiError(
        'ValidationError',
        instanceId !== null ? `No active Lifecycle Action found with instance ID ${instanceId}` : `No active Lifecycle Action found with token ${token ?? ''}`,
      );
    }
    return action;
  }

  private async complete(form: URLSearchParams): Promise<Reply> {
    const result = requiredParam(form, 'LifecycleActionResult');
    if (result !== 'CONTINUE' && result !== 'ABANDON') {
      throw new ApiError('ValidationError', `LifecycleActionResult ${result} is not valid: use CONTINUE or ABANDON`);
    }
    const action = this.findAction(form);
    await this.finish(action, result);
    return queryReply('CompleteLifecycleAction', NS.autoscaling, '');
  }

  private async heartbeat(form: URLSearchParams): Promise<Reply> {
    const action = this.findAction(form);
    this.arm(action);
    return queryReply('RecordLifecycleActionHeartbeat', NS.autoscaling, '');
  }

  /** One hook answered; when the last open hook of the instance is answered, act. */
  /**
   * DeleteLifecycleHook: "If there are any outstanding lifecycle actions, they are completed first
   * (ABANDON for launching instances, CONTINUE for terminating instances)" (Auto Scaling API
   * Reference). moto deletes the hook only; the actions waiting on it are completed here, once
   * moto no longer has the hook, so a replacement for an abandoned launch does not wait on it.
   */
  private async deleteHook(form: URLSearchParams, forward: Forward): Promise<Reply> {
    const groupName = requiredParam(form, 'AutoScalingGroupName');
    const hookName = requiredParam(form, 'LifecycleHookName');
    const outstanding = [...this.overlay.values()].filter((o) => o.groupName === groupName).flatMap((o) => [...o.open.values()].filter((a) => a.hook.name === hookName));
    const reply = await forward(form);
    if (reply.status !== 200) return reply;
    for (const action of outstanding) await this.finish(action, action.transition === 'autoscaling:EC2_INSTANCE_LAUNCHING' ? 'ABANDON' : 'CONTINUE');
    return reply;
  }

  /**
   * DeleteAutoScalingGroup: "If the group has instances or scaling activities in progress, you must
   * specify the option to force the deletion in order for it to succeed" (Auto Scaling API
   * Reference). moto 5.2.1 deletes a group holding an instance without ForceDelete (tried).
   */
  private async deleteGroup(form: URLSearchParams, forward: Forward): Promise<Reply> {
    if (form.get('ForceDelete') !== 'true') {
      const g = await this.group(requiredParam(form, 'AutoScalingGroupName'));
      if ((g.Instances ?? []).length > 0) {
        throw new ApiError('ResourceInUse', 'You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.');
      }
    }
    return forward(form);
  }

  private async finish(action: Action, result: 'CONTINUE' | 'ABANDON'): Promise<void> {
    const overlay = this.overlay.get(action.instanceId);
    if (overlay === undefined || overlay.open.get(action.hook.name) !== action) return;
    if (action.timer !== undefined) clearTimeout(action.timer);
    overlay.open.delete(action.hook.name);
    this.tokens.delete(action.token);
    if (result === 'ABANDON') overlay.abandoned = true;
    this.deps.log('lifecycle action completed', { instanceId: action.instanceId, hookName: action.hook.name, result });
    this.deps.onFact?.({ kind: 'hook-completed', instanceId: action.instanceId, hookName: action.hook.name, result });
    if (overlay.open.size > 0) return;
    this.overlay.delete(action.instanceId);
    if (overlay.state === 'Terminating:Wait') {
      await this.terminateNow(overlay.groupName, overlay.instanceId, overlay.decrement);
    } else if (overlay.abandoned) {
      // Launch abandoned: terminate it and let the group replace it (desired unchanged).
      await this.terminateNow(overlay.groupName, overlay.instanceId, false);
    } else {
      this.inServiceSince.set(overlay.instanceId, this.deps.now());
      // Marked Unhealthy while it waited: now an Unhealthy InService instance, which the group replaces.
      if (this.unhealthyWhileWaiting.delete(overlay.instanceId)) await this.replaceUnhealthy(overlay.groupName, overlay.instanceId);
    }
  }

  /** Auto Scaling replaces an Unhealthy InService instance: terminate hook first (desired unchanged), then a replacement. Scale-in protection does not apply. */
  private async replaceUnhealthy(groupName: string, instanceId: string): Promise<void> {
    this.deps.log('instance Unhealthy: terminating and replacing it', { instanceId, asgName: groupName });
    await this.beginTermination(await this.group(groupName), instanceId, false);
  }

  /**
   * SetInstanceHealth (instance-health.ts checks it): moto stores the status; the group then
   * acts on an Unhealthy InService instance as Auto Scaling does. An instance in a wait state
   * keeps its status, and is replaced if it reaches InService Unhealthy.
   */
  private async setHealth(form: URLSearchParams, forward: Forward): Promise<Reply> {
    const request = readHealthRequest(form);
    const out = await this.asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [request.instanceId] }));
    const found = out.AutoScalingInstances?.[0];
    const groupName = found?.AutoScalingGroupName;
    if (found === undefined || groupName === undefined) throw new ApiError('ValidationError', `Instance Id not found - No managed instance found for instance ID: ${request.instanceId}`);
    if (request.respectGracePeriod) {
      const g = await this.group(groupName);
      const since = this.inServiceSince.get(request.instanceId) ?? (await this.launchTime(request.instanceId));
      const refusal = gracePeriodRefusal((this.deps.now() - since) / 1000, g.HealthCheckGracePeriod ?? 0);
      if (refusal !== undefined) throw refusal;
    }
    const reply = await forward(form);
    if (reply.status !== 200) return reply;
    const waiting = this.overlay.get(request.instanceId);
    this.deps.log('instance health set', { instanceId: request.instanceId, asgName: groupName, status: request.status, state: waiting?.state ?? found.LifecycleState });
    if (waiting?.state === 'Pending:Wait') {
      if (request.status === 'Unhealthy') this.unhealthyWhileWaiting.add(request.instanceId);
      else this.unhealthyWhileWaiting.delete(request.instanceId);
    }
    if (request.status === 'Unhealthy' && waiting === undefined && found.LifecycleState === 'InService') await this.replaceUnhealthy(groupName, request.instanceId);
    return reply;
  }

  /** EC2's LaunchTime of an instance (the front saw no InService entry for it); now when EC2 does not say. */
  private async launchTime(instanceId: string): Promise<number> {
    const [instance] = await this.ec2Instances([instanceId]);
    return instance?.LaunchTime?.getTime() ?? this.deps.now();
  }

  /** Really terminate in moto, then give any replacement its launch hook. */
  private async terminateNow(groupName: string, instanceId: string, decrement: boolean): Promise<void> {
    const before = await this.instanceIds(groupName);
    before.add(instanceId);
    // Without decrement moto launches the replacement at once, in the group's first subnet.
    const fresh = await this.unsettledWhile(async () => {
      const restore = decrement ? undefined : await this.replacementSubnetFirst(groupName, instanceId);
      try {
        await this.asg.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: decrement }));
      } finally {
        if (restore !== undefined) await this.asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: groupName, VPCZoneIdentifier: restore }));
      }
      return this.markPending(groupName, before);
    });
    await this.deps.hosts.onInstanceTerminated(instanceId);
    this.inServiceSince.delete(instanceId);
    this.unhealthyWhileWaiting.delete(instanceId);
    this.deps.log('instance terminated', { instanceId, asgName: groupName, decrement });
    this.deps.onFact?.({ kind: 'terminated', instanceId, groupName });
    await this.launched(groupName, fresh);
  }

  /**
   * AWS launches a replacement where the group is short (AZ balance: the zone
   * the leaving instance was in); moto uses the group's first subnet. Puts the
   * least used subnet, counting the instances that stay, first; returns the
   * group's own list to put back (undefined: nothing changed).
   */
  private async replacementSubnetFirst(groupName: string, leaving: string): Promise<string | undefined> {
    const g = await this.group(groupName);
    const subnets = (g.VPCZoneIdentifier ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '');
    if (subnets.length < 2) return undefined;
    const staying = (g.Instances ?? []).map((i) => i.InstanceId ?? '').filter((id) => id !== '' && id !== leaving);
    const inUse = new Map(subnets.map((x) => [x, 0]));
    for (const i of await this.ec2Instances(staying)) {
      if (i.SubnetId !== undefined && inUse.has(i.SubnetId)) inUse.set(i.SubnetId, (inUse.get(i.SubnetId) ?? 0) + 1);
    }
    // Stable sort: ties keep the group's own order.
    const order = [...subnets].sort((a, b) => (inUse.get(a) ?? 0) - (inUse.get(b) ?? 0));
    if (order.join(',') === subnets.join(',')) return undefined;
    await this.asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: groupName, VPCZoneIdentifier: order.join(',') }));
    return subnets.join(',');
  }

  /**
   * What AWS does about an instance that failed its EC2 status checks: the
   * group's health check marks it Unhealthy and terminates it (through its
   * terminate hooks, desired capacity unchanged), then launches a replacement
   * in the zone that now lacks one. Scale-in protection does not apply.
   */
  instanceFailed(instanceId: string): Promise<void> {
    return this.locked(async () => {
      const out = await this.asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }));
      const groupName = out.AutoScalingInstances?.[0]?.AutoScalingGroupName;
      if (groupName === undefined) throw new ApiError('ValidationError', `Instance Id not found - No managed instance found for instance ID: ${instanceId}`);
      if (this.overlay.get(instanceId)?.state === 'Terminating:Wait') return;
      await this.asg.send(new SetInstanceHealthCommand({ InstanceId: instanceId, HealthStatus: 'Unhealthy' }));
      this.deps.log('instance failed its status checks: marked Unhealthy, terminating', { instanceId, asgName: groupName });
      await this.beginTermination(await this.group(groupName), instanceId, false);
    });
  }

  // ---- capacity changes -------------------------------------------------

  /** Start terminating `instanceId`: Terminating:Wait when the group has a terminate hook, else at once. */
  private async beginTermination(g: AutoScalingGroup, instanceId: string, decrement: boolean): Promise<void> {
    const groupName = g.AutoScalingGroupName ?? '';
    const existing = this.overlay.get(instanceId);
    if (existing?.state === 'Terminating:Wait') return;
    if (existing !== undefined) {
      // A launch still waiting: its launch actions are void now.
      for (const a of existing.open.values()) {
        if (a.timer !== undefined) clearTimeout(a.timer);
        this.tokens.delete(a.token);
      }
      this.overlay.delete(instanceId);
    }
    const hooks = await this.hooks(groupName, 'autoscaling:EC2_INSTANCE_TERMINATING');
    if (hooks.length === 0) {
      await this.terminateNow(groupName, instanceId, decrement);
      return;
    }
    await this.openActions(g, instanceId, 'autoscaling:EC2_INSTANCE_TERMINATING', hooks, decrement);
  }

  /** AWS default termination policy, approximately: the AZ with most instances, then the oldest launch. */
  private async chooseVictims(g: AutoScalingGroup, count: number): Promise<string[]> {
    const candidates = (g.Instances ?? []).filter((i) => i.InstanceId !== undefined && !i.ProtectedFromScaleIn && this.overlay.get(i.InstanceId)?.state !== 'Terminating:Wait');
    const launchTimes = new Map((await this.ec2Instances(candidates.map((c) => c.InstanceId ?? ''))).map((i) => [i.InstanceId ?? '', i.LaunchTime?.getTime() ?? 0]));
    const pool = candidates.map((c) => ({ id: c.InstanceId ?? '', az: c.AvailabilityZone ?? '' }));
    const victims: string[] = [];
    while (victims.length < count && pool.length > 0) {
      const perAz = new Map<string, number>();
      for (const p of pool) perAz.set(p.az, (perAz.get(p.az) ?? 0) + 1);
      const most = Math.max(...perAz.values());
      const inAz = pool.filter((p) => perAz.get(p.az) === most);
      inAz.sort((a, b) => (launchTimes.get(a.id) ?? 0) - (launchTimes.get(b.id) ?? 0) || a.id.localeCompare(b.id));
      const pick = inAz[0];
      if (pick === undefined) break;
      victims.push(pick.id);
      pool.splice(pool.indexOf(pick), 1);
    }
    return victims;
  }

  private async setDesired(action: string, form: URLSearchParams, wanted: number, forward: Forward): Promise<Reply> {
    const groupName = requiredParam(form, 'AutoScalingGroupName');
    if (!Number.isInteger(wanted) || wanted < 0) throw new ApiError('ValidationError', `DesiredCapacity ${form.get('DesiredCapacity') ?? ''} is not a non-negative integer`);
    const g = await this.group(groupName);
    const min = Number(form.get('MinSize') ?? g.MinSize ?? 0);
    const max = Number(form.get('MaxSize') ?? g.MaxSize ?? 0);
    if (wanted > max) throw new ApiError('ValidationError', `New SetDesiredCapacity value ${wanted} is above max value ${max} for the AutoScalingGroup.`);
    if (wanted < min) throw new ApiError('ValidationError', `New SetDesiredCapacity value ${wanted} is below min value ${min} for the AutoScalingGroup.`);
    const pending = this.pendingDecrements(groupName);
    const effective = (g.DesiredCapacity ?? 0) - pending;
    if (wanted >= effective) {
      const subnets = (g.VPCZoneIdentifier ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
      const current = g.DesiredCapacity ?? 0;
      if (action === 'SetDesiredCapacity' && subnets.length > 1 && wanted + pending > current) {
        await this.launchBalanced(groupName, subnets, current, wanted + pending);
        return queryReply(action, NS.autoscaling, '');
      }
      const rewritten = new URLSearchParams(form);
      rewritten.set('DesiredCapacity', String(wanted + pending));
      if (action === 'UpdateAutoScalingGroup' && Number(rewritten.get('MaxSize') ?? max) < wanted + pending) rewritten.set('MaxSize', String(wanted + pending));
      return this.launchStep(groupName, () => forward(rewritten), (reply) => reply.status === 200);
    }
    // Scale in: forward any other settings without the capacity change, then terminate through the hooks.
    if (action === 'UpdateAutoScalingGroup') {
      const rest = new URLSearchParams(form);
      rest.delete('DesiredCapacity');
      // moto would cut instances at once if MaxSize fell below its desired: keep its MaxSize until they are gone.
      if (Number(rest.get('MaxSize') ?? max) < (g.DesiredCapacity ?? 0)) rest.delete('MaxSize');
      const reply = await forward(rest);
      if (reply.status !== 200) return reply;
    }
    const victims = await this.chooseVictims(g, effective - wanted);
    for (const id of victims) await this.beginTermination(g, id, true);
    return queryReply(action, NS.autoscaling, '');
  }

  /**
   * AWS spreads a group's new instances over its zones; moto puts every one in
   * the group's first subnet. Launch one at a time with the least used subnet
   * first (moto leaves running instances alone when the list changes), then
   * put the group's subnet list back as it was.
   */
  private async launchBalanced(groupName: string, subnets: readonly string[], from: number, to: number): Promise<void> {
    for (let desired = from + 1; desired <= to; desired += 1) {
      const current = await this.instanceIds(groupName);
      const inUse = new Map(subnets.map((s) => [s, 0]));
      for (const i of await this.ec2Instances([...current].filter((id) => id !== ''))) {
        if (i.SubnetId !== undefined && inUse.has(i.SubnetId)) inUse.set(i.SubnetId, (inUse.get(i.SubnetId) ?? 0) + 1);
      }
      // Stable sort: ties keep the group's own order.
      const order = [...subnets].sort((a, b) => (inUse.get(a) ?? 0) - (inUse.get(b) ?? 0));
      await this.launchStep(groupName, () => this.asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: groupName, VPCZoneIdentifier: order.join(','), DesiredCapacity: desired })));
    }
    await this.asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: groupName, VPCZoneIdentifier: subnets.join(',') }));
  }

  /**
   * CreateAutoScalingGroup: the LifecycleHookSpecificationList's hooks are added "before
   * instances are launched" (Auto Scaling API reference); moto ignores the list. So the
   * group is created empty, the hooks are put, then the group grows to its desired capacity
   * (default MinSize), one instance at a time over its zones as Auto Scaling spreads them,
   * each launch going through the hooks.
   */
  private async createGroup(form: URLSearchParams, forward: Forward): Promise<Reply> {
    const groupName = requiredParam(form, 'AutoScalingGroupName');
    const specs = new Map<string, Record<string, string>>();
    const empty = new URLSearchParams();
    for (const [key, value] of form) {
      const m = /^LifecycleHookSpecificationList\.member\.(\d+)\.([A-Za-z]+)$/.exec(key);
      if (m === null) {
        if (key !== 'DesiredCapacity' && key !== 'MinSize') empty.append(key, value);
        continue;
      }
      specs.set(m[1] ?? '', { ...specs.get(m[1] ?? ''), [m[2] ?? '']: value });
    }
    const min = Number(requiredParam(form, 'MinSize'));
    const desired = Number(form.get('DesiredCapacity') ?? min);
    empty.set('MinSize', '0');
    empty.set('DesiredCapacity', '0');
    const reply = await forward(empty);
    if (reply.status !== 200) return reply;
    for (const spec of specs.values()) {
      await this.asg.send(
        new PutLifecycleHookCommand({
          AutoScalingGroupName: groupName,
          LifecycleHookName: spec.LifecycleHookName,
          LifecycleTransition: spec.LifecycleTransition,
          ...(spec.HeartbeatTimeout !== undefined ? { HeartbeatTimeout: Number(spec.HeartbeatTimeout) } : {}),
          ...(spec.DefaultResult !== undefined ? { DefaultResult: spec.DefaultResult } : {}),
          ...(spec.NotificationMetadata !== undefined ? { NotificationMetadata: spec.NotificationMetadata } : {}),
          ...(spec.NotificationTargetARN !== undefined ? { NotificationTargetARN: spec.NotificationTargetARN } : {}),
          ...(spec.RoleARN !== undefined ? { RoleARN: spec.RoleARN } : {}),
        }),
      );
    }
    const subnets = (form.get('VPCZoneIdentifier') ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '');
    if (desired > 0) {
      if (subnets.length > 1) await this.launchBalanced(groupName, subnets, 0, desired);
      else await this.launchStep(groupName, () => this.asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: groupName, DesiredCapacity: desired })));
    }
    if (min > 0) await this.asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: groupName, MinSize: min }));
    return reply;
  }

  private async update(form: URLSearchParams, forward: Forward): Promise<Reply> {
    const groupName = requiredParam(form, 'AutoScalingGroupName');
    const desired = form.get('DesiredCapacity');
    if (desired !== null) return this.setDesired('UpdateAutoScalingGroup', form, Number(desired), forward);
    const g = await this.group(groupName);
    const effective = (g.DesiredCapacity ?? 0) - this.pendingDecrements(groupName);
    const max = form.get('MaxSize');
    const min = form.get('MinSize');
    if (max !== null && Number(max) < effective) return this.setDesired('UpdateAutoScalingGroup', form, Number(max), forward);
    if (min !== null && Number(min) > effective) return this.setDesired('UpdateAutoScalingGroup', form, Number(min), forward);
    return forward(form);
  }

  private async terminateRequest(form: URLSearchParams): Promise<Reply> {
    const instanceId = requiredParam(form, 'InstanceId');
    const decrement = requiredParam(form, 'ShouldDecrementDesiredCapacity') === 'true';
    const out = await this.asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }));
    const groupName = out.AutoScalingInstances?.[0]?.AutoScalingGroupName;
    if (groupName === undefined) throw new ApiError('ValidationError', `Instance Id not found - No managed instance found for instance ID: ${instanceId}`);
    const g = await this.group(groupName);
    if (decrement && (g.DesiredCapacity ?? 0) - this.pendingDecrements(groupName) - 1 < (g.MinSize ?? 0)) {
      throw new ApiError('ValidationError', `Currently, desiredSize equals minSize (${g.MinSize ?? 0}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`);
    }
    await this.beginTermination(g, instanceId, decrement);
    const activity =
      `<Activity>${el('ActivityId', randomUUID())}${el('AutoScalingGroupName', groupName)}` +
      `${el('Description', `Terminating EC2 instance: ${instanceId}`)}${el('Cause', `At ${awsTime(this.deps.now())} instance ${instanceId} was taken out of service in response to a user request.`)}` +
      `${el('StartTime', new Date(this.deps.now()).toISOString())}${el('StatusCode', 'InProgress')}${el('Progress', 0)}</Activity>`;
    return queryReply('TerminateInstanceInAutoScalingGroup', NS.autoscaling, activity);
  }

  // ---- describe rewrites ------------------------------------------------

  /** Show overlaid lifecycle states and the desired capacity net of pending scale-in. */
  private rewriteDescribe(reply: Reply): Reply {
    if (reply.status !== 200) return reply;
    let body = reply.body.replace(
      /(<InstanceId>(i-[0-9a-f]+)<\/InstanceId>(?:(?!<\/member>)[\s\S])*?<LifecycleState>)([^<]*)(<\/LifecycleState>)/g,
      (whole, head: string, id: string, _state: string, tail: string) => {
        const o = this.overlay.get(id);
        return o === undefined ? whole : `${head}${o.state}${tail}`;
      },
    );
    body = body.replace(/<member><AutoScalingGroupName>([^<]+)<\/AutoScalingGroupName>([\s\S]*?)<DesiredCapacity>(\d+)<\/DesiredCapacity>/g, (whole, name: string, mid: string, n: string) => {
      const pending = this.pendingDecrements(name);
      return pending === 0 ? whole : `<member><AutoScalingGroupName>${name}</AutoScalingGroupName>${mid}<DesiredCapacity>${Number(n) - pending}</DesiredCapacity>`;
    });
    return { ...reply, body, headers: { ...reply.headers } };
  }

  /** Lifecycle state of every overlaid instance (for tests and the sandbox). */
  states(): Record<string, string> {
    return Object.fromEntries([...this.overlay.values()].map((o) => [o.instanceId, o.state]));
  }

  stop(): void {
    this.stopped = true;
    for (const a of this.tokens.values()) if (a.timer !== undefined) clearTimeout(a.timer);
  }
}
