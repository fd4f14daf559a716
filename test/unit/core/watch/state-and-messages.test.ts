import { MalformedEventError } from '../../../../lib/errors';
import { parseLifecycleSource } from '../../../../lib/core/lifecycle-event';
import { buildRedriveEvent, parseWatchTrigger } from '../../../../lib/core/watch/messages';
import { decodeWatchState, emptyWatchState, encodeWatchState, stateTtlSeconds } from '../../../../lib/core/watch/state';
import { ago, NOW, remembered } from './fixtures';

const GROUP_ARN = 'arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:2b6f9d4e-0000-4000-8000-000000000000:autoScalingGroupName/pydio-compute';

describe('the watch state record', () => {
  it('round-trips', () => {
    const state = remembered({
      unclaimed: { 'lifecycle/i-1/launch': ago(60) }, redriven: { 'lifecycle/i-1/launch': ago(30) }, unhealthy: { 'i-2': 2 },
      inService: { 'i-2': ago(600) }, marked: { 'i-3': ago(60) }, heldBack: ['i-4'],
      clusterWide: { kinds: ['volumes-down'], cause: 'the Gluster volumes are down', since: ago(120) },
    });
    expect(decodeWatchState(encodeWatchState(state))).toEqual({ state });
    expect(decodeWatchState(encodeWatchState(emptyWatchState(NOW)))).toEqual({ state: emptyWatchState(NOW) });
  });

  it.each([
    ['not JSON', '{', 'not JSON'],
    ['not an object', '[]', 'not an object'],
    ['another version', JSON.stringify({ ...emptyWatchState(NOW), version: 2 }), 'version 2, not 1'],
    ['a count that is not a positive whole number', JSON.stringify({ ...emptyWatchState(NOW), unhealthy: { 'i-1': 0 } }), 'unhealthy is not a map of counts'],
    ['a time that is not a time', JSON.stringify({ ...emptyWatchState(NOW), unclaimed: { k: 'yesterday' } }), 'unclaimed is not a map of times'],
    ['a missing map', JSON.stringify({ ...emptyWatchState(NOW), marked: undefined }), 'marked is not a map of times'],
    ['held back not a list', JSON.stringify({ ...emptyWatchState(NOW), heldBack: 'i-1' }), 'heldBack is not a list'],
    ['an unknown cluster-wide kind', JSON.stringify({ ...emptyWatchState(NOW), clusterWide: { kinds: ['weather'], cause: 'x', since: ago(1) } }), 'clusterWide is malformed'],
  ])('a record %s is refused, naming why', (_name, raw, problem) => {
    const decoded = decodeWatchState(raw);
    expect('problem' in decoded && decoded.problem).toContain(problem);
  });

  it('lives five periods', () => {
    expect(stateTtlSeconds(60)).toBe(300);
  });
});

describe('the re-driven lifecycle event', () => {
  const launch = buildRedriveEvent({ id: '11111111-2222-4333-8444-555555555555', time: NOW, groupArn: GROUP_ARN, groupName: 'pydio-compute', hookName: 'pydio-autoscaler-prod-compute-launch', instanceId: 'i-0123456789abcdef0', transition: 'launch' });

  it('is the EventBridge lifecycle event, from our source and without a token', () => {
    expect(launch).toEqual({
      version: '0',
      id: '11111111-2222-4333-8444-555555555555',
      'detail-type': 'EC2 Instance-launch Lifecycle Action',
      source: 'pydio-autoscaler.watch',
      account: '123456789012',
      time: '2026-11-21T10:00:00Z',
      region: 'eu-west-1',
      resources: [GROUP_ARN],
      detail: {
        AutoScalingGroupName: 'pydio-compute',
        LifecycleHookName: 'pydio-autoscaler-prod-compute-launch',
        EC2InstanceId: 'i-0123456789abcdef0',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        Origin: 'EC2',
        Destination: 'AutoScalingGroup',
      },
    });
    expect((launch.detail as Record<string, unknown>).LifecycleActionToken).toBeUndefined();
  });

  it('a terminate event, with the hook metadata', () => {
    const event = buildRedriveEvent({ id: 'x', time: NOW, groupArn: GROUP_ARN, groupName: 'pydio-compute', hookName: 'h', instanceId: 'i-0123456789abcdef0', transition: 'terminate', metadata: 'm' });
    expect(event['detail-type']).toBe('EC2 Instance-terminate Lifecycle Action');
    expect(event.detail).toMatchObject({ LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', NotificationMetadata: 'm', Origin: 'AutoScalingGroup', Destination: 'EC2' });
  });

  it('refuses a group ARN it cannot read the account and region from', () => {
    expect(() => buildRedriveEvent({ id: 'x', time: NOW, groupArn: 'pydio-compute', groupName: 'g', hookName: 'h', instanceId: 'i-1', transition: 'launch' })).toThrow(MalformedEventError);
  });

  it('is what the lifecycle parser accepts from the watch: the same action, with no token', () => {
    expect(parseLifecycleSource(launch)).toEqual({
      kind: 'lifecycle', transition: 'launch', groupName: 'pydio-compute', hookName: 'pydio-autoscaler-prod-compute-launch', instanceId: 'i-0123456789abcdef0', time: '2026-11-21T10:00:00Z',
    });
  });

  it('is refused by the lifecycle parser from any other source without a token (only the watch may leave it out)', () => {
    expect(() => parseLifecycleSource({ ...launch, source: 'aws.autoscaling' })).toThrow(/LifecycleActionToken/);
  });
});

describe('what starts a run', () => {
  const scheduled = {
    version: '0', id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012',
    time: '2015-10-08T16:53:06Z', region: 'us-east-1', resources: ['arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule'], detail: {},
  };

  it('the Scheduled Event EventBridge sends', () => {
    expect(parseWatchTrigger(scheduled)).toEqual({ kind: 'schedule', ruleArn: 'arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule', time: '2015-10-08T16:53:06Z' });
  });

  it.each([[{}], [undefined], [null]])('a manual run: %j', (payload) => {
    expect(parseWatchTrigger(payload)).toEqual({ kind: 'manual' });
  });

  it.each([
    ['another source', { ...scheduled, source: 'aws.autoscaling' }, 'source "aws.autoscaling" is not aws.events'],
    ['another detail-type', { ...scheduled, 'detail-type': 'EC2 Instance-launch Lifecycle Action' }, 'is not "Scheduled Event"'],
    ['no rule ARN', { ...scheduled, resources: [] }, 'names no rule ARN'],
    ['no time', { ...scheduled, time: 'soon' }, 'no valid time'],
    ['a list', [], 'expected the Scheduled Event'],
    ['anything else', { dryRun: true }, 'is not aws.events'],
  ])('refuses %s, naming it', (_name, payload, message) => {
    expect(() => parseWatchTrigger(payload)).toThrow(message);
  });
});
