import { matchesPattern } from '../../sandbox/control-plane/event-bus';

const event = {
  source: 'aws.autoscaling',
  'detail-type': 'EC2 Instance-launch Lifecycle Action',
  detail: { AutoScalingGroupName: 'g', EC2InstanceId: 'i-0123456789abcdef0', Tags: ['a', 'b'] },
};

describe('matchesPattern: exists works on leaf nodes only, as EventBridge documents', () => {
  it.each<[string, Record<string, unknown>, boolean]>([
    ['exists true on a present leaf', { detail: { EC2InstanceId: [{ exists: true }] } }, true],
    ['exists true on a leaf array of scalars', { detail: { Tags: [{ exists: true }] } }, true],
    ['exists true on an intermediate node (detail)', { detail: [{ exists: true }] }, false],
    ['exists false on a missing field', { detail: { Missing: [{ exists: false }] } }, true],
    ['exists false on a present intermediate node', { detail: [{ exists: false }] }, false],
  ])('%s', (_what, pattern, expected) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });
});
