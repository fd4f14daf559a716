import { MalformedEventError } from '../errors';

/**
 * Every lifecycle source (EventBridge event, a direct Auto Scaling
 * notification, a test notification, the watch's re-drive of a lost event) is
 * parsed into ONE normalized type.
 */
export type LifecycleTransition = 'launch' | 'terminate';

export interface LifecycleEvent {
  readonly kind: 'lifecycle';
  readonly transition: LifecycleTransition;
  readonly groupName: string;
  readonly hookName: string;
  readonly instanceId: string;
  /**
   * The lifecycle action token; absent only in the watch's re-drive of a lost
   * event (it cannot know it): CompleteLifecycleAction and
   * RecordLifecycleActionHeartbeat then name the action by its instance.
   */
  readonly token?: string;
  readonly time: string;
  readonly metadata?: string;
}

export interface SkipEvent {
  readonly kind: 'skip';
  readonly reason: string;
  readonly groupName?: string;
}

export type ParsedLifecycle = LifecycleEvent | SkipEvent;

/** The watch re-drives a lost lifecycle event as EventBridge would have delivered it, with this source and no token. */
export const WATCH_SOURCE = 'pydio-autoscaler.watch';

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const NAME = /^[\w.:/+@-]{1,255}$/;
const TOKEN = /^[\w-]{1,128}$/;

function str(obj: Record<string, unknown>, key: string, pattern: RegExp, where: string): string {
  const value = obj[key];
  if (typeof value !== 'string' || value === '') {
    throw new MalformedEventError(`${where}: field ${key} is missing or not a string`);
  }
  if (!pattern.test(value)) {
    throw new MalformedEventError(`${where}: field ${key} has an unexpected value ${JSON.stringify(value.slice(0, 80))}`);
  }
  return value;
}

function transitionOf(value: unknown, where: string): LifecycleTransition {
  if (value === 'autoscaling:EC2_INSTANCE_LAUNCHING') return 'launch';
  if (value === 'autoscaling:EC2_INSTANCE_TERMINATING') return 'terminate';
  throw new MalformedEventError(`${where}: LifecycleTransition ${JSON.stringify(value)} is not a launch or terminate transition`);
}

/** `tokenless`: the watch's re-drive, which must carry no token at all (an AWS event always carries one). */
function fromDetail(detail: Record<string, unknown>, time: string, where: string, tokenless = false): LifecycleEvent {
  if (tokenless && 'LifecycleActionToken' in detail) {
    throw new MalformedEventError(`${where}: a re-drive by ${WATCH_SOURCE} carries no LifecycleActionToken (the watch cannot know it)`);
  }
  return {
    kind: 'lifecycle',
    transition: transitionOf(detail.LifecycleTransition, where),
    groupName: str(detail, 'AutoScalingGroupName', NAME, where),
    hookName: str(detail, 'LifecycleHookName', NAME, where),
    instanceId: str(detail, 'EC2InstanceId', INSTANCE_ID, where),
    ...(tokenless ? {} : { token: str(detail, 'LifecycleActionToken', TOKEN, where) }),
    time,
    ...(typeof detail.NotificationMetadata === 'string' ? { metadata: detail.NotificationMetadata } : {}),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const DETAIL_TYPES: Record<string, LifecycleTransition> = {
  'EC2 Instance-launch Lifecycle Action': 'launch',
  'EC2 Instance-terminate Lifecycle Action': 'terminate',
};

/**
 * Parse one lifecycle source into a LifecycleEvent or a typed skip.
 * Throws MalformedEventError naming the problem.
 */
export function parseLifecycleSource(input: unknown): ParsedLifecycle {
  if (!isRecord(input)) throw new MalformedEventError('lifecycle event: expected a JSON object');

  // Auto Scaling test notification (sent when a notification target is set up).
  if (input.Event === 'autoscaling:TEST_NOTIFICATION') {
    return {
      kind: 'skip',
      reason: 'Auto Scaling test notification',
      ...(typeof input.AutoScalingGroupName === 'string' ? { groupName: input.AutoScalingGroupName } : {}),
    };
  }

  // EventBridge shape: from Auto Scaling, or the watch's re-drive of a lost event (no token).
  if ('detail-type' in input) {
    const redrive = input.source === WATCH_SOURCE;
    const where = redrive ? `lifecycle event re-driven by ${WATCH_SOURCE}` : 'EventBridge lifecycle event';
    if (input.source !== 'aws.autoscaling' && !redrive) {
      throw new MalformedEventError(`${where}: source ${JSON.stringify(input.source)} is neither aws.autoscaling nor ${WATCH_SOURCE}`);
    }
    const detailType = input['detail-type'];
    if (typeof detailType !== 'string' || !(detailType in DETAIL_TYPES)) {
      throw new MalformedEventError(`${where}: detail-type ${JSON.stringify(detailType)} is not a lifecycle action`);
    }
    if (!isRecord(input.detail)) throw new MalformedEventError(`${where}: detail is missing`);
    const event = fromDetail(input.detail, typeof input.time === 'string' ? input.time : new Date().toISOString(), where, redrive);
    if (event.transition !== DETAIL_TYPES[detailType]) {
      throw new MalformedEventError(`${where}: detail-type ${detailType} disagrees with LifecycleTransition`);
    }
    return event;
  }

  // Direct lifecycle notification (SQS/SNS notification target).
  if ('LifecycleTransition' in input) {
    const where = 'Auto Scaling lifecycle notification';
    return fromDetail(input, typeof input.Time === 'string' ? input.Time : new Date().toISOString(), where);
  }

  throw new MalformedEventError('lifecycle event: neither an EventBridge lifecycle event nor an Auto Scaling notification');
}
