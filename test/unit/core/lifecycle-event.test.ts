import { parseLifecycleSource } from '../../../lib/core/lifecycle-event';
import { MalformedEventError } from '../../../lib/errors';

const detail = {
  LifecycleActionToken: '87654321-4321-4321-4321-210987654321',
  AutoScalingGroupName: 'pydio-compute',
  LifecycleHookName: 'pydio-autoscaler-dev-compute-launch',
  EC2InstanceId: 'i-0123456789abcdef0',
  LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
  NotificationMetadata: 'extra',
  Origin: 'EC2',
  Destination: 'AutoScalingGroup',
};

const eventBridge = (over: Record<string, unknown> = {}, detailOver: Record<string, unknown> = {}) => ({
  version: '0',
  id: '12345678-1234-1234-1234-123456789012',
  'detail-type': 'EC2 Instance-launch Lifecycle Action',
  source: 'aws.autoscaling',
  account: '123456789012',
  time: '2026-11-21T10:00:00Z',
  region: 'eu-west-1',
  resources: ['arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:uuid:autoScalingGroupName/pydio-compute'],
  detail: { ...detail, ...detailOver },
  ...over,
});

/** The watch's re-drive of a lost event: EventBridge's shape, its own source, no token (JSON drops undefined fields). */
const redrive = (over: Record<string, unknown> = {}, detailOver: Record<string, unknown> = {}) =>
  JSON.parse(JSON.stringify(eventBridge({ source: 'pydio-autoscaler.watch', ...over }, { LifecycleActionToken: undefined, ...detailOver }))) as Record<string, unknown>;

describe('parseLifecycleSource', () => {
  it('normalizes an EventBridge launch event', () => {
    // Act
    const parsed = parseLifecycleSource(eventBridge());
    // Assess
    expect(parsed).toEqual({
      kind: 'lifecycle',
      transition: 'launch',
      groupName: 'pydio-compute',
      hookName: 'pydio-autoscaler-dev-compute-launch',
      instanceId: 'i-0123456789abcdef0',
      token: '87654321-4321-4321-4321-210987654321',
      time: '2026-11-21T10:00:00Z',
      metadata: 'extra',
    });
  });

  it('normalizes an EventBridge terminate event', () => {
    const parsed = parseLifecycleSource(
      eventBridge({ 'detail-type': 'EC2 Instance-terminate Lifecycle Action' }, { LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING' }),
    );
    expect(parsed).toMatchObject({ kind: 'lifecycle', transition: 'terminate' });
  });

  it('normalizes a direct Auto Scaling notification', () => {
    const parsed = parseLifecycleSource({ ...detail, Time: '2026-11-21T10:00:00Z', Service: 'AWS Auto Scaling' });
    expect(parsed).toMatchObject({ kind: 'lifecycle', transition: 'launch', instanceId: 'i-0123456789abcdef0', time: '2026-11-21T10:00:00Z' });
  });

  it('normalizes the watch\'s re-drive of a lost event: no token, the rest as EventBridge sends it', () => {
    const parsed = parseLifecycleSource(redrive());
    expect(parsed).toEqual({
      kind: 'lifecycle',
      transition: 'launch',
      groupName: 'pydio-compute',
      hookName: 'pydio-autoscaler-dev-compute-launch',
      instanceId: 'i-0123456789abcdef0',
      time: '2026-11-21T10:00:00Z',
      metadata: 'extra',
    });
    expect(parsed).not.toHaveProperty('token');
  });

  it('normalizes a re-driven terminate event', () => {
    const parsed = parseLifecycleSource(redrive({ 'detail-type': 'EC2 Instance-terminate Lifecycle Action' }, { LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING' }));
    expect(parsed).toMatchObject({ kind: 'lifecycle', transition: 'terminate', instanceId: 'i-0123456789abcdef0' });
  });

  it('turns a test notification into a typed skip', () => {
    const parsed = parseLifecycleSource({ Event: 'autoscaling:TEST_NOTIFICATION', AutoScalingGroupName: 'pydio-compute' });
    expect(parsed).toEqual({ kind: 'skip', reason: 'Auto Scaling test notification', groupName: 'pydio-compute' });
  });

  it.each([
    ['not an object', 'hello', /expected a JSON object/],
    ['an array', [1, 2], /expected a JSON object/],
    ['another source', eventBridge({ source: 'aws.ec2' }), /source "aws.ec2" is neither aws.autoscaling nor pydio-autoscaler.watch/],
    ['another detail-type', eventBridge({ 'detail-type': 'EC2 Instance Launch Successful' }), /detail-type "EC2 Instance Launch Successful" is not a lifecycle action/],
    ['no detail', eventBridge({ detail: undefined }), /detail is missing/],
    ['missing instance id', eventBridge({}, { EC2InstanceId: undefined }), /EC2InstanceId is missing/],
    ['bad instance id', eventBridge({}, { EC2InstanceId: 'i-xyz; rm -rf /' }), /EC2InstanceId has an unexpected value/],
    ['an empty token', eventBridge({}, { LifecycleActionToken: '' }), /LifecycleActionToken is missing/],
    ['no token from Auto Scaling', eventBridge({}, { LifecycleActionToken: undefined }), /LifecycleActionToken is missing/],
    ['no token in a direct notification', { ...detail, LifecycleActionToken: undefined }, /LifecycleActionToken is missing/],
    ['a re-drive carrying a token', eventBridge({ source: 'pydio-autoscaler.watch' }), /re-drive by pydio-autoscaler.watch carries no LifecycleActionToken/],
    ['a re-drive of another source name', redrive({ source: 'pydio-autoscaler.watcher' }), /source "pydio-autoscaler.watcher" is neither/],
    ['a re-drive without an instance id', redrive({}, { EC2InstanceId: undefined }), /re-driven by pydio-autoscaler.watch: field EC2InstanceId is missing/],
    ['a re-drive whose detail-type disagrees', redrive({ 'detail-type': 'EC2 Instance-terminate Lifecycle Action' }), /disagrees with LifecycleTransition/],
    ['unknown transition', eventBridge({}, { LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCH' }), /is not a launch or terminate transition/],
    ['disagreeing detail-type', eventBridge({}, { LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING' }), /disagrees with LifecycleTransition/],
    ['unrelated object', { hello: 'world' }, /neither an EventBridge lifecycle event nor an Auto Scaling notification/],
  ])('rejects %s with a clear error', (_name, input, message) => {
    expect(() => parseLifecycleSource(input)).toThrow(MalformedEventError);
    expect(() => parseLifecycleSource(input)).toThrow(message);
  });
});
