import { ScalingActivities, type LifecycleFact } from '../../sandbox/control-plane/scaling-activities';

function run(facts: readonly LifecycleFact[]): Array<[string, string, string, boolean]> {
  let t = 1000;
  const log = new ScalingActivities(() => (t += 1000));
  for (const f of facts) log.observe(f);
  return log.all().map((a) => [a.kind, a.instanceId, a.status, a.end !== undefined]);
}

describe('ScalingActivities: one activity per launch and termination, with AWS timing', () => {
  const g = 'grp';
  const cases: Array<[string, LifecycleFact[], Array<[string, string, string, boolean]>]> = [
    ['launch without hooks is Successful at once', [{ kind: 'launched', instanceId: 'i-1', groupName: g, hooks: [] }], [['launch', 'i-1', 'Successful', true]]],
    ['launch waits for its hook', [{ kind: 'launched', instanceId: 'i-1', groupName: g, hooks: ['launch'] }], [['launch', 'i-1', 'InProgress', false]]],
    [
      'launch ends when every hook answered CONTINUE',
      [
        { kind: 'launched', instanceId: 'i-1', groupName: g, hooks: ['a', 'b'] },
        { kind: 'hook-completed', instanceId: 'i-1', hookName: 'a', result: 'CONTINUE' },
      ],
      [['launch', 'i-1', 'InProgress', false]],
    ],
    [
      'ABANDON fails the launch; its termination is an activity too',
      [
        { kind: 'launched', instanceId: 'i-1', groupName: g, hooks: ['a'] },
        { kind: 'hook-completed', instanceId: 'i-1', hookName: 'a', result: 'ABANDON' },
        { kind: 'terminated', instanceId: 'i-1', groupName: g },
      ],
      [
        ['launch', 'i-1', 'Failed', true],
        ['terminate', 'i-1', 'Successful', true],
      ],
    ],
    [
      'termination runs from the terminate hook to the termination',
      [
        { kind: 'launched', instanceId: 'i-1', groupName: g, hooks: [] },
        { kind: 'terminating', instanceId: 'i-1', groupName: g },
      ],
      [
        ['launch', 'i-1', 'Successful', true],
        ['terminate', 'i-1', 'InProgress', false],
      ],
    ],
    [
      'an instance terminated while still launching: the launch failed',
      [
        { kind: 'launched', instanceId: 'i-1', groupName: g, hooks: ['a'] },
        { kind: 'terminated', instanceId: 'i-1', groupName: g },
      ],
      [
        ['launch', 'i-1', 'Failed', true],
        ['terminate', 'i-1', 'Successful', true],
      ],
    ],
  ];
  it.each(cases)('%s', (_name, facts, expected) => {
    expect(run(facts)).toEqual(expected);
  });
});

describe('DescribeScalingActivities answer', () => {
  it('newest first, paged by MaxRecords/NextToken, only the group asked for; bad MaxRecords refused', () => {
    let t = 0;
    const log = new ScalingActivities(() => (t += 1000));
    log.observe({ kind: 'launched', instanceId: 'i-1', groupName: 'g', hooks: [] });
    log.observe({ kind: 'launched', instanceId: 'i-2', groupName: 'g', hooks: [] });
    log.observe({ kind: 'launched', instanceId: 'i-3', groupName: 'other', hooks: [] });
    const first = log.describe(new URLSearchParams({ AutoScalingGroupName: 'g', MaxRecords: '1' })).body;
    expect(first).toContain('Launching a new EC2 instance: i-2');
    expect(first).not.toContain('i-1');
    expect(first).toContain('<NextToken>1</NextToken>');
    const second = log.describe(new URLSearchParams({ AutoScalingGroupName: 'g', MaxRecords: '1', NextToken: '1' })).body;
    expect(second).toContain('i-1');
    expect(second).not.toContain('NextToken');
    expect(() => log.describe(new URLSearchParams({ AutoScalingGroupName: 'g', MaxRecords: '500' }))).toThrow(/MaxRecords must be 1-100/);
    expect(() => log.describe(new URLSearchParams({}))).toThrow(/AutoScalingGroupName/);
  });
});
