/**
 * What the watch sends and receives that is not a notification: the
 * re-driven lifecycle event (shaped exactly like the EventBridge event Auto
 * Scaling sends, but from our own source and without a token), the storage
 * function's health-check request, and the Scheduled Event that starts a run.
 */
import { MalformedEventError } from '../../errors';
import { WATCH_SOURCE, type LifecycleTransition } from '../lifecycle-event';

export interface RedriveEventInput {
  /** A fresh UUID: the event's id. */
  readonly id: string;
  readonly time: Date;
  /** The group's ARN: its account and region are the event's (as Auto Scaling's own events carry them). */
  readonly groupArn: string;
  readonly groupName: string;
  readonly hookName: string;
  readonly instanceId: string;
  readonly transition: LifecycleTransition;
  readonly metadata?: string;
}

const GROUP_ARN = /^arn:(aws[a-z-]*):autoscaling:([a-z0-9-]+):(\d{12}):autoScalingGroup:/;

/** EventBridge's `time`: seconds, no fraction ("2015-10-08T16:53:06Z"). */
function eventTime(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The body of a re-drive message: the EventBridge lifecycle event, field for
 * field (Amazon EC2 Auto Scaling event reference), except `source` and the
 * absent LifecycleActionToken; CompleteLifecycleAction and
 * RecordLifecycleActionHeartbeat then name the instance instead.
 */
export function buildRedriveEvent(input: RedriveEventInput): Record<string, unknown> {
  const arn = GROUP_ARN.exec(input.groupArn);
  if (arn === null) throw new MalformedEventError(`re-drive of ${input.instanceId}: ${JSON.stringify(input.groupArn)} is not an Auto Scaling group ARN`);
  const launch = input.transition === 'launch';
  return {
    version: '0',
    id: input.id,
    'detail-type': launch ? 'EC2 Instance-launch Lifecycle Action' : 'EC2 Instance-terminate Lifecycle Action',
    // lib/core/lifecycle-event.ts accepts a missing token only from this source.
    source: WATCH_SOURCE,
    account: arn[3],
    time: eventTime(input.time),
    region: arn[2],
    resources: [input.groupArn],
    detail: {
      AutoScalingGroupName: input.groupName,
      LifecycleHookName: input.hookName,
      EC2InstanceId: input.instanceId,
      LifecycleTransition: launch ? 'autoscaling:EC2_INSTANCE_LAUNCHING' : 'autoscaling:EC2_INSTANCE_TERMINATING',
      ...(input.metadata !== undefined ? { NotificationMetadata: input.metadata } : {}),
      Origin: launch ? 'EC2' : 'AutoScalingGroup',
      Destination: launch ? 'AutoScalingGroup' : 'EC2',
    },
  };
}

/** What started a run: EventBridge's Scheduled Event, or a manual invoke with `{}`. */
export type WatchTrigger =
  | { readonly kind: 'schedule'; readonly ruleArn: string; readonly time: string }
  | { readonly kind: 'manual' };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The Scheduled Event EventBridge sends a rule's Lambda target: source
 * aws.events, detail-type "Scheduled Event", the rule's ARN in resources,
 * detail {}. An empty payload (`{}`, or none) is a manual run. Anything else
 * is refused, naming what is wrong.
 */
export function parseWatchTrigger(event: unknown): WatchTrigger {
  if (event === undefined || event === null || (isRecord(event) && Object.keys(event).length === 0)) return { kind: 'manual' };
  if (!isRecord(event)) throw new MalformedEventError('watch: expected the Scheduled Event or {} (a manual run)');
  if (event.source !== 'aws.events') throw new MalformedEventError(`watch: source ${JSON.stringify(event.source)} is not aws.events (invoke with {} for a manual run)`);
  if (event['detail-type'] !== 'Scheduled Event') throw new MalformedEventError(`watch: detail-type ${JSON.stringify(event['detail-type'])} is not "Scheduled Event"`);
  const resources = event.resources;
  const ruleArn = Array.isArray(resources) ? resources.find((r): r is string => typeof r === 'string' && /^arn:aws[a-z-]*:events:[^:]*:\d{12}:rule\//.test(r)) : undefined;
  if (ruleArn === undefined) throw new MalformedEventError('watch: the Scheduled Event names no rule ARN in resources');
  if (typeof event.time !== 'string' || !Number.isFinite(Date.parse(event.time))) throw new MalformedEventError('watch: the Scheduled Event has no valid time');
  return { kind: 'schedule', ruleArn, time: event.time };
}
