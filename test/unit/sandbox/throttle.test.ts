import {
  ec2DefaultBucket,
  EC2_MUTATING,
  EC2_NON_MUTATING,
  EC2_UNFILTERED,
  elbv2DefaultBuckets,
  ELBV2_ACCOUNT,
  ELBV2_MUTATING,
  ELBV2_NON_MUTATING,
  ELBV2_REGISTRATION,
  ELBV2_RESOURCE_INTENSIVE,
  Throttle,
  ThrottleSettingsError,
  type ThrottleSettings,
} from '../../sandbox/control-plane/throttle';

describe('Throttle: token buckets per API at the front, on an injected clock', () => {
  let clock = 0;
  const throttle = (settings: ThrottleSettings) => new Throttle(settings, () => clock);

  beforeEach(() => {
    clock = 1_000_000;
  });

  it('admits a full burst at once, then refuses with the service throttling error and records the refusal', () => {
    const t = throttle({ rates: { 'ssm:SendCommand': { burst: 3, refillPerSecond: 1 } } });
    for (let i = 0; i < 3; i += 1) expect(t.admit('ssm', 'SendCommand')).toBeUndefined();
    const refused = t.admit('ssm', 'SendCommand');
    expect(refused).toMatchObject({ status: 400, headers: { 'x-amzn-errortype': 'ThrottlingException' } });
    expect(JSON.parse(refused?.body ?? '{}')).toEqual({ __type: 'ThrottlingException', message: 'Rate exceeded' });
    expect(t.throttled).toEqual([{ service: 'ssm', operation: 'SendCommand', at: clock }]);
    expect(t.admittedCalls()).toEqual({ 'ssm:SendCommand': 3 });
  });

  it('refills at its rate per second over injected time, never above the burst', () => {
    const t = throttle({ rates: { 'ssm:GetParameter': { burst: 2, refillPerSecond: 4 } } });
    expect(t.admit('ssm', 'GetParameter')).toBeUndefined();
    expect(t.admit('ssm', 'GetParameter')).toBeUndefined();
    expect(t.admit('ssm', 'GetParameter')).toBeDefined();
    clock += 249; // 0.996 of a token
    expect(t.admit('ssm', 'GetParameter')).toBeDefined();
    clock += 1; // one token
    expect(t.admit('ssm', 'GetParameter')).toBeUndefined();
    expect(t.admit('ssm', 'GetParameter')).toBeDefined();
    clock += 60_000; // a long idle refills to the burst only
    expect(t.admit('ssm', 'GetParameter')).toBeUndefined();
    expect(t.admit('ssm', 'GetParameter')).toBeUndefined();
    expect(t.admit('ssm', 'GetParameter')).toBeDefined();
    expect(t.throttled).toHaveLength(4);
  });

  it('keeps one bucket per key: an exhausted API leaves other APIs and services alone; a service key is one shared bucket', () => {
    const t = throttle({ rates: { 'ssm:SendCommand': { burst: 1, refillPerSecond: 1 }, autoscaling: { burst: 2, refillPerSecond: 1 } } });
    expect(t.admit('ssm', 'SendCommand')).toBeUndefined();
    expect(t.admit('ssm', 'SendCommand')).toBeDefined();
    expect(t.admit('ssm', 'GetParameter')).toBeUndefined(); // no rate for it: SSM publishes none here
    expect(t.admit('autoscaling', 'DescribeAutoScalingGroups')).toBeUndefined();
    expect(t.admit('autoscaling', 'CompleteLifecycleAction')).toBeUndefined();
    const refused = t.admit('autoscaling', 'DescribeAutoScalingInstances');
    expect(refused?.status).toBe(400);
    expect(refused?.body).toMatch(/^<ErrorResponse xmlns="http:\/\/autoscaling\.amazonaws\.com\/doc\/2011-01-01\/"><Error><Type>Sender<\/Type><Code>Throttling<\/Code><Message>Rate exceeded<\/Message><\/Error>/);
    expect(t.admit('sns', 'Publish')).toBeUndefined(); // not a throttled service
    expect(t.throttled.map((c) => `${c.service}:${c.operation}`)).toEqual(['ssm:SendCommand', 'autoscaling:DescribeAutoScalingInstances']);
  });

  it('draws from every bucket that applies, the operation\'s and the service\'s (AWS\'s shape: an account-level bucket beside per-category ones); a refused call takes no token', () => {
    const t = throttle({ rates: { elasticloadbalancing: { burst: 2, refillPerSecond: 1 }, 'elasticloadbalancing:DescribeTargetHealth': { burst: 1, refillPerSecond: 1 } } });
    expect(t.admit('elasticloadbalancing', 'DescribeTargetHealth')).toBeUndefined();
    // Its own bucket is empty: refused, and the service bucket keeps its last token for another call.
    expect(t.admit('elasticloadbalancing', 'DescribeTargetHealth')?.body).toContain('<Code>Throttling</Code>');
    expect(t.admit('elasticloadbalancing', 'RegisterTargets')).toBeUndefined();
    // Now the service bucket is empty too.
    expect(t.admit('elasticloadbalancing', 'DeregisterTargets')).toBeDefined();
  });

  it('a configured EC2 rate adds to the documented bucket and cannot lift it', () => {
    const t = throttle({ rates: { 'ec2:DescribeInstances': { burst: 1000, refillPerSecond: 1000 }, ec2: { burst: 1000, refillPerSecond: 1000 } } });
    const unfiltered = new URLSearchParams('Action=DescribeInstances&Version=2016-11-15');
    for (let i = 0; i < 50; i += 1) expect(t.admit('ec2', 'DescribeInstances', unfiltered)).toBeUndefined();
    expect(t.admit('ec2', 'DescribeInstances', unfiltered)?.status).toBe(503);
  });

  it('throttles EC2 at its documented buckets by default: RequestLimitExceeded, HTTP 503, in the EC2 Query error shape', () => {
    const t = throttle({});
    const unfiltered = new URLSearchParams('Action=DescribeInstances&Version=2016-11-15');
    for (let i = 0; i < 50; i += 1) expect(t.admit('ec2', 'DescribeInstances', unfiltered)).toBeUndefined();
    const refused = t.admit('ec2', 'DescribeInstances', unfiltered);
    expect(refused?.status).toBe(503);
    expect(refused?.body).toMatch(/<Response><Errors><Error><Code>RequestLimitExceeded<\/Code><Message>Request limit exceeded\.<\/Message><\/Error><\/Errors><RequestID>/);
    // The same action with a filter draws from its standard (larger) bucket.
    expect(t.admit('ec2', 'DescribeInstances', new URLSearchParams('Action=DescribeInstances&Filter.1.Name=instance-state-name&Filter.1.Value.1=running'))).toBeUndefined();
    clock += 100; // 10 a second: one token
    expect(t.admit('ec2', 'DescribeInstances', unfiltered)).toBeUndefined();
    expect(t.admit('ec2', 'DescribeInstances', unfiltered)).toBeDefined();
  });

  it.each([
    ['DescribeInstances', 'Action=DescribeInstances', EC2_UNFILTERED],
    ['DescribeInstances', 'Action=DescribeInstances&MaxResults=5', EC2_NON_MUTATING],
    ['DescribeVolumes', 'Action=DescribeVolumes&NextToken=x', EC2_NON_MUTATING],
    ['DescribeVolumesModifications', 'Action=DescribeVolumesModifications', EC2_NON_MUTATING],
    ['GetConsoleOutput', 'Action=GetConsoleOutput', EC2_NON_MUTATING],
    ['ModifyVolume', 'Action=ModifyVolume', EC2_MUTATING],
    ['CreateTags', 'Action=CreateTags', { burst: 100, refillPerSecond: 10 }],
    ['RunInstances', 'Action=RunInstances', { burst: 5, refillPerSecond: 2 }],
    ['TerminateInstances', 'Action=TerminateInstances', { burst: 100, refillPerSecond: 5 }],
  ])('EC2 %s (%s) uses the documented bucket %p', (action, query, expected) => {
    expect(ec2DefaultBucket(action, new URLSearchParams(query)).settings).toEqual(expected);
  });

  it('lets a configured EC2 rate replace the documented one', () => {
    const t = throttle({ rates: { 'ec2:DescribeInstances': { burst: 1, refillPerSecond: 1 } } });
    expect(t.admit('ec2', 'DescribeInstances', new URLSearchParams('Filter.1.Name=x'))).toBeUndefined();
    expect(t.admit('ec2', 'DescribeInstances', new URLSearchParams('Filter.1.Name=x'))?.status).toBe(503);
  });

  it('throttles ELBv2 by default at its documented account-level bucket (40, 10 a second), shared by every category: Throttling, HTTP 400, awsQuery', () => {
    const t = throttle({});
    // 20 registrations empty the registration bucket and take 20 of the account's 40 tokens.
    for (let i = 0; i < 20; i += 1) expect(t.admit('elasticloadbalancing', i % 2 === 0 ? 'RegisterTargets' : 'DeregisterTargets')).toBeUndefined();
    // 20 Describe* calls take the account's last 20, though the non-mutating bucket still holds 20.
    for (let i = 0; i < 20; i += 1) expect(t.admit('elasticloadbalancing', 'DescribeTargetHealth')).toBeUndefined();
    const refused = t.admit('elasticloadbalancing', 'DescribeTargetHealth');
    expect(refused?.status).toBe(400);
    expect(refused?.body).toMatch(/^<ErrorResponse xmlns="http:\/\/elasticloadbalancing\.amazonaws\.com\/doc\/2015-12-01\/"><Error><Type>Sender<\/Type><Code>Throttling<\/Code><Message>Rate exceeded<\/Message><\/Error>/);
    // Every category is refused while the account bucket is empty, the mutating one too.
    expect(t.admit('elasticloadbalancing', 'ModifyTargetGroup')).toBeDefined();
    expect(t.throttled.map((c) => c.operation)).toEqual(['DescribeTargetHealth', 'ModifyTargetGroup']);
    clock += 100; // 10 a second: one token in the account bucket
    expect(t.admit('elasticloadbalancing', 'DescribeTargetHealth')).toBeUndefined();
    expect(t.admit('elasticloadbalancing', 'DescribeTargetHealth')).toBeDefined();
    // Other services' buckets are not ELB's.
    expect(t.admit('autoscaling', 'DescribeAutoScalingGroups')).toBeUndefined();
  });

  it.each([
    ['DescribeTargetHealth', ELBV2_NON_MUTATING, 40, 10],
    ['DescribeLoadBalancers', ELBV2_NON_MUTATING, 40, 10],
    ['RegisterTargets', ELBV2_REGISTRATION, 20, 4],
    ['DeregisterTargets', ELBV2_REGISTRATION, 20, 4],
    ['ModifyTargetGroupAttributes', ELBV2_MUTATING, 20, 3],
    ['CreateTargetGroup', ELBV2_MUTATING, 20, 3],
    ['CreateLoadBalancer', ELBV2_RESOURCE_INTENSIVE, 10, 0.2],
    ['SetSubnets', ELBV2_RESOURCE_INTENSIVE, 10, 0.2],
    ['AnActionNotOnThePage', ELBV2_MUTATING, 20, 3],
  ])('ELBv2 %s draws from the account bucket and its category bucket %p (burst %d, %d a second)', (action, category, burst, refill) => {
    expect(ELBV2_ACCOUNT).toEqual({ burst: 40, refillPerSecond: 10 });
    expect(category).toEqual({ burst, refillPerSecond: refill });
    expect(elbv2DefaultBuckets(action).map((b) => b.settings)).toEqual([ELBV2_ACCOUNT, category]);
  });

  it.each([
    ['RegisterTargets', 20, 4],
    ['ModifyTargetGroup', 20, 3],
    ['CreateLoadBalancer', 10, 0.2],
  ])('ELBv2 %s: a burst of %d, then one call per 1/%d s (below the account bucket, which refills faster)', (action, burst, refill) => {
    const t = throttle({});
    for (let i = 0; i < burst; i += 1) expect(t.admit('elasticloadbalancing', action)).toBeUndefined();
    expect(t.admit('elasticloadbalancing', action)).toBeDefined();
    const perToken = 1000 / refill;
    clock += perToken - 1; // just short of one token
    expect(t.admit('elasticloadbalancing', action)).toBeDefined();
    clock += 1;
    expect(t.admit('elasticloadbalancing', action)).toBeUndefined();
    expect(t.admit('elasticloadbalancing', action)).toBeDefined();
  });

  it('ELBv2 resource-intensive refill is fractional: 0.2 a second needs 5 s for one token, and the category bucket is shared by its actions', () => {
    const t = throttle({});
    for (let i = 0; i < 10; i += 1) expect(t.admit('elasticloadbalancing', i < 5 ? 'CreateLoadBalancer' : 'SetSubnets')).toBeUndefined();
    expect(t.admit('elasticloadbalancing', 'CreateLoadBalancer')).toBeDefined();
    clock += 1000;
    expect(t.admit('elasticloadbalancing', 'SetSubnets')).toBeDefined(); // 0.2 of a token
    clock += 3999; // 0.9998 of a token
    expect(t.admit('elasticloadbalancing', 'CreateLoadBalancer')).toBeDefined();
    clock += 1; // 5 s since the bucket emptied: one token
    expect(t.admit('elasticloadbalancing', 'CreateLoadBalancer')).toBeUndefined();
    expect(t.admit('elasticloadbalancing', 'SetSubnets')).toBeDefined();
    // Other categories were never short of tokens meanwhile.
    expect(t.admit('elasticloadbalancing', 'DescribeLoadBalancers')).toBeUndefined();
  });

  it('a configured ELBv2 rate adds to the documented buckets and cannot lift them', () => {
    const t = throttle({ rates: { elasticloadbalancing: { burst: 1000, refillPerSecond: 1000 }, 'elasticloadbalancing:DescribeTargetHealth': { burst: 1000, refillPerSecond: 1000 } } });
    for (let i = 0; i < 40; i += 1) expect(t.admit('elasticloadbalancing', 'DescribeTargetHealth')).toBeUndefined();
    expect(t.admit('elasticloadbalancing', 'DescribeTargetHealth')?.status).toBe(400);
    const registrations = throttle({ rates: { 'elasticloadbalancing:RegisterTargets': { burst: 1000, refillPerSecond: 1000 } } });
    for (let i = 0; i < 20; i += 1) expect(registrations.admit('elasticloadbalancing', 'RegisterTargets')).toBeUndefined();
    expect(registrations.admit('elasticloadbalancing', 'RegisterTargets')?.status).toBe(400);
  });

  it.each([
    ['burst 0', { rates: { 'ssm:SendCommand': { burst: 0, refillPerSecond: 1 } } }, /'ssm:SendCommand': burst must be an integer of at least 1.*got 0/],
    ['fractional burst', { rates: { 'ssm:SendCommand': { burst: 1.5, refillPerSecond: 1 } } }, /burst must be an integer/],
    ['refill 0', { rates: { 'ssm:SendCommand': { burst: 2, refillPerSecond: 0 } } }, /refillPerSecond must be a finite number above 0.*got 0/],
    ['infinite refill', { rates: { 'ssm:SendCommand': { burst: 2, refillPerSecond: Number.POSITIVE_INFINITY } } }, /refillPerSecond must be a finite number/],
    ['no refill', { rates: { 'ssm:SendCommand': { burst: 2 } } }, /refillPerSecond must be a finite number above 0.*got undefined/],
    ['a number for a bucket', { rates: { 'ssm:SendCommand': 5 } }, /'ssm:SendCommand' must be an object/],
    ['a malformed key', { rates: { 'SSM.SendCommand': { burst: 1, refillPerSecond: 1 } } }, /key 'SSM.SendCommand' must be 'service' or 'service:Operation'/],
    ['a service whose answer is not looked up', { rates: { 'sns:Publish': { burst: 1, refillPerSecond: 1 } } }, /service 'sns' has no looked-up throttling answer; throttled services are ec2, autoscaling, elasticloadbalancing, ssm/],
  ])('refuses %s with a ThrottleSettingsError naming the problem', (_label, settings, message) => {
    expect(() => throttle(settings as unknown as ThrottleSettings)).toThrow(ThrottleSettingsError);
    expect(() => throttle(settings as unknown as ThrottleSettings)).toThrow(message);
  });
});
