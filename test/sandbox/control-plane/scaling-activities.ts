/**
 * Auto Scaling activities, emulated: moto answers DescribeScalingActivities
 * with an empty list, so a cooldown computed from the group's activities (the
 * alarm function's rule) would never apply in the sandbox. This records one
 * activity per launch and per termination, from what the lifecycle emulation
 * reports, with AWS's timing:
 *
 * - launch: starts when the instance is launched; Successful when it goes
 *   InService (no launch hook, or every launch hook answered CONTINUE),
 *   Failed when a hook answered ABANDON;
 * - termination: starts at the terminate lifecycle action (or at once without
 *   a hook); Successful when the instance is terminated.
 *
 * Answers DescribeScalingActivities (newest first, MaxRecords, NextToken).
 */
import { randomUUID } from 'node:crypto';
import { ApiError, el, NS, queryReply, requiredParam, type Reply } from './wire';

export interface ScalingActivity {
  readonly activityId: string;
  readonly groupName: string;
  readonly instanceId: string;
  readonly kind: 'launch' | 'terminate';
  readonly description: string;
  readonly cause: string;
  readonly start: number;
  end?: number;
  status: 'InProgress' | 'Successful' | 'Failed';
  statusMessage?: string;
}

/** Lifecycle facts, as the lifecycle emulation reports them (control-plane/lifecycle.ts, deps.onFact). */
export type LifecycleFact =
  | { readonly kind: 'launched'; readonly instanceId: string; readonly groupName: string; readonly hooks: readonly string[] }
  | { readonly kind: 'terminating'; readonly instanceId: string; readonly groupName: string }
  | { readonly kind: 'hook-completed'; readonly instanceId: string; readonly hookName: string; readonly result: string }
  | { readonly kind: 'terminated'; readonly instanceId: string; readonly groupName: string };

const MAX_KEPT = 1000;

function awsIso(ms: number): string {
  return new Date(ms).toISOString();
}

export class ScalingActivities {
  private readonly activities: ScalingActivity[] = [];
  /** instance -> launch hooks still open */
  private readonly openHooks = new Map<string, Set<string>>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  static readonly ACTION = 'DescribeScalingActivities';

  all(): readonly ScalingActivity[] {
    return [...this.activities];
  }

  private open(instanceId: string, kind: 'launch' | 'terminate'): ScalingActivity | undefined {
    for (let i = this.activities.length - 1; i >= 0; i -= 1) {
      const a = this.activities[i]!;
      if (a.instanceId === instanceId && a.kind === kind && a.status === 'InProgress') return a;
    }
    return undefined;
  }

  private add(groupName: string, instanceId: string, kind: 'launch' | 'terminate'): ScalingActivity {
    const at = this.now();
    const activity: ScalingActivity = {
      activityId: randomUUID(),
      groupName,
      instanceId,
      kind,
      description: kind === 'launch' ? `Launching a new EC2 instance: ${instanceId}` : `Terminating EC2 instance: ${instanceId}`,
      cause: `At ${awsIso(at).replace(/\.\d{3}Z$/, 'Z')} ${kind === 'launch' ? 'an instance was started in response to a difference between desired and actual capacity' : 'an instance was taken out of service'}.`,
      start: at,
      status: 'InProgress',
    };
    this.activities.push(activity);
    if (this.activities.length > MAX_KEPT) this.activities.splice(0, this.activities.length - MAX_KEPT);
    return activity;
  }

  observe(fact: LifecycleFact): void {
    const at = this.now();
    switch (fact.kind) {
      case 'launched': {
        const a = this.add(fact.groupName, fact.instanceId, 'launch');
        if (fact.hooks.length === 0) {
          a.status = 'Successful';
          a.end = at;
        } else this.openHooks.set(fact.instanceId, new Set(fact.hooks));
        return;
      }
      case 'terminating':
        if (this.open(fact.instanceId, 'terminate') === undefined) this.add(fact.groupName, fact.instanceId, 'terminate');
        return;
      case 'hook-completed': {
        const launch = this.open(fact.instanceId, 'launch');
        const hooks = this.openHooks.get(fact.instanceId);
        if (launch === undefined || hooks === undefined) return;
        if (fact.result === 'ABANDON') {
          launch.status = 'Failed';
          launch.end = at;
          launch.statusMessage = `Instance failed to complete user's Lifecycle Action: Lifecycle Action with token was abandoned: Lifecycle Action Completed with ABANDON Result`;
          this.openHooks.delete(fact.instanceId);
          return;
        }
        hooks.delete(fact.hookName);
        if (hooks.size === 0) {
          launch.status = 'Successful';
          launch.end = at;
          this.openHooks.delete(fact.instanceId);
        }
        return;
      }
      case 'terminated': {
        // A launch still waiting when the instance went (scale-in during launch) did not succeed.
        const launch = this.open(fact.instanceId, 'launch');
        if (launch !== undefined) {
          launch.status = 'Failed';
          launch.end = at;
          this.openHooks.delete(fact.instanceId);
        }
        const t = this.open(fact.instanceId, 'terminate') ?? this.add(fact.groupName, fact.instanceId, 'terminate');
        t.status = 'Successful';
        t.end = at;
        return;
      }
    }
  }

  /** DescribeScalingActivities: the group's activities, newest first. */
  describe(form: URLSearchParams): Reply {
    const groupName = requiredParam(form, 'AutoScalingGroupName');
    const max = Number(form.get('MaxRecords') ?? 100);
    if (!Number.isInteger(max) || max < 1 || max > 100) throw new ApiError('ValidationError', `MaxRecords must be 1-100, got ${form.get('MaxRecords') ?? ''}`);
    const offset = Number(form.get('NextToken') ?? 0);
    if (!Number.isInteger(offset) || offset < 0) throw new ApiError('InvalidNextToken', 'The token is invalid');
    const ids = new Set<string>();
    for (let i = 1; i <= 100; i += 1) {
      const id = form.get(`ActivityIds.member.${i}`);
      if (id === null) break;
      ids.add(id);
    }
    const mine = this.activities
      .filter((a) => a.groupName === groupName && (ids.size === 0 || ids.has(a.activityId)))
      .sort((a, b) => b.start - a.start);
    const page = mine.slice(offset, offset + max);
    const members = page
      .map(
        (a) =>
          `<member>${el('ActivityId', a.activityId)}${el('AutoScalingGroupName', a.groupName)}${el('Description', a.description)}${el('Cause', a.cause)}` +
          `${el('StartTime', awsIso(a.start))}${a.end !== undefined ? el('EndTime', awsIso(a.end)) : ''}${el('StatusCode', a.status)}` +
          `${a.statusMessage !== undefined ? el('StatusMessage', a.statusMessage) : ''}${el('Progress', a.status === 'InProgress' ? 50 : 100)}</member>`,
      )
      .join('');
    const next = offset + max < mine.length ? el('NextToken', String(offset + max)) : '';
    return queryReply(ScalingActivities.ACTION, NS.autoscaling, `<Activities>${members}</Activities>${next}`);
  }
}
