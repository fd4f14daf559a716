/**
 * Throttling at the front, over the wire: with small configured rates a raw SDK
 * client (one attempt, no retries) gets each service's own throttling error,
 * code and HTTP status; the product's adapter, built by its own factory
 * (MAX_ATTEMPTS), gets through the same rate on the SDK's retries with backoff;
 * the front records what it refused. No timing is asserted.
 */
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, DescribeScalingActivitiesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { createEc2Transport } from '../../../lib/aws/ec2-volumes';
import { createSsmClient, createSsmPort } from '../../../lib/aws/ssm';
import { ec2Endpoint } from '../../../lib/config/ec2-endpoint';
import type { Log } from '../../../lib/logger';
import { REGION } from '../../sandbox/control-plane/aws-setup';
import type { MotoServer } from '../../sandbox/control-plane/moto';
import { startHarness, startMoto, type Harness } from './harness';

jest.setTimeout(90_000);

const quiet: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

let moto: MotoServer;
let h: Harness;

beforeAll(async () => {
  moto = await startMoto();
  h = await startHarness(moto, {
    throttle: {
      rates: {
        // One call at once, then five a second: a second call at once is refused.
        'ssm:GetParameter': { burst: 1, refillPerSecond: 5 },
        autoscaling: { burst: 1, refillPerSecond: 5 },
        'elasticloadbalancing:DescribeTargetHealth': { burst: 1, refillPerSecond: 5 },
        'ec2:DescribeInstances': { burst: 1, refillPerSecond: 5 },
      },
    },
  });
});
afterAll(async () => {
  await h?.cp.stop();
  await moto?.stop();
});

type SdkError = { name: string; message: string; $metadata: { httpStatusCode?: number } };

/**
 * Sends the calls at once (against one token): exactly one is admitted, whatever it answers; returns the
 * errors of the others, which must all have been refused by throttling.
 */
async function refusedAtOnce(calls: ReadonlyArray<() => Promise<unknown>>, code: string): Promise<SdkError[]> {
  const settled = await Promise.allSettled(calls.map((call) => call()));
  const errors = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as SdkError] : []));
  const throttled = errors.filter((e) => e.name === code);
  expect(throttled).toHaveLength(calls.length - 1);
  return throttled;
}

test('SSM: a call over the rate is ThrottlingException, HTTP 400, "Rate exceeded" (awsJson1_1)', async () => {
  const ssm = new SSMClient(h.config);
  await ssm.send(new PutParameterCommand({ Name: '/throttle/raw', Value: 'v', Type: 'String' }));
  const get = () => ssm.send(new GetParameterCommand({ Name: '/throttle/raw' }));
  const [error] = await refusedAtOnce([get, get], 'ThrottlingException');
  expect(error).toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
  expect(h.cp.throttled.at(-1)).toMatchObject({ service: 'ssm', operation: 'GetParameter', at: expect.any(Number) });
});

test('Auto Scaling: one bucket for the whole API; a call over it is Throttling, HTTP 400, "Rate exceeded" (awsQuery), the operations the front answers itself too', async () => {
  const asg = new AutoScalingClient(h.config);
  // DescribeAutoScalingGroups goes to moto, DescribeScalingActivities is answered by the front: they share the bucket.
  const [error] = await refusedAtOnce([() => asg.send(new DescribeAutoScalingGroupsCommand({})), () => asg.send(new DescribeScalingActivitiesCommand({}))], 'Throttling');
  expect(error).toMatchObject({ name: 'Throttling', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
  expect(h.cp.throttled.filter((c) => c.service === 'autoscaling')).toHaveLength(1);
});

test('ELBv2: DescribeTargetHealth, which the front emulates, is throttled before dispatch: Throttling, HTTP 400', async () => {
  const elb = new ElasticLoadBalancingV2Client(h.config);
  const arn = `arn:aws:elasticloadbalancing:${REGION}:123456789012:targetgroup/absent/0123456789abcdef`;
  // The admitted call reaches the emulation (which does not know the group); the other never does.
  const describe = () => elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
  const [error] = await refusedAtOnce([describe, describe], 'Throttling');
  expect(error).toMatchObject({ name: 'Throttling', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
  expect(h.cp.throttled.at(-1)).toMatchObject({ service: 'elasticloadbalancing', operation: 'DescribeTargetHealth' });
});

test('EC2: a call over the rate is RequestLimitExceeded, HTTP 503, "Request limit exceeded." (EC2 Query)', async () => {
  const ec2 = new EC2Client(h.config);
  const describe = () => ec2.send(new DescribeInstancesCommand({}));
  const [error] = await refusedAtOnce([describe, describe], 'RequestLimitExceeded');
  expect(error).toMatchObject({ name: 'RequestLimitExceeded', message: 'Request limit exceeded.', $metadata: { httpStatusCode: 503 } });
  expect(h.cp.throttled.at(-1)).toMatchObject({ service: 'ec2', operation: 'DescribeInstances' });
});

test('the product SSM adapter, built by createSsmClient (MAX_ATTEMPTS), reads through the same rate on the SDK retries', async () => {
  const saved = { ...process.env };
  Object.assign(process.env, { AWS_ENDPOINT_URL: h.cp.url, AWS_REGION: REGION, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' });
  delete process.env.AWS_PROFILE;
  const client = createSsmClient();
  try {
    await new SSMClient(h.config).send(new PutParameterCommand({ Name: '/throttle/product', Value: 'through', Type: 'String' }));
    const before = h.cp.throttled.filter((c) => c.operation === 'GetParameter').length;
    const port = createSsmPort(client, { dryRun: false, log: quiet });
    // Three reads at once against one token and five a second: two are refused at least once, then retried.
    const values = await Promise.all([1, 2, 3].map(() => port.getParameter('/throttle/product')));
    expect(values).toEqual(['through', 'through', 'through']);
    expect(h.cp.throttled.filter((c) => c.operation === 'GetParameter').length - before).toBeGreaterThanOrEqual(2);
    expect(h.cp.admittedCalls()['ssm:GetParameter']).toBeGreaterThanOrEqual(4);
  } finally {
    client.destroy();
    for (const key of ['AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
});

test('the product EC2 transport (createEc2Transport, MAX_ATTEMPTS) reads through EC2 throttling on its own backoff', async () => {
  const call = createEc2Transport(ec2Endpoint({ AWS_REGION: REGION, AWS_ENDPOINT_URL_EC2: h.cp.url }), { credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const before = h.cp.throttled.filter((c) => c.service === 'ec2').length;
  // Three reads at once against one token and five a second.
  const answers = await Promise.all([1, 2, 3].map(() => call('DescribeInstances', [])));
  expect(answers).toHaveLength(3);
  expect(h.cp.throttled.filter((c) => c.service === 'ec2').length - before).toBeGreaterThanOrEqual(2);
});

test('with no throttle option the front still applies EC2\'s documented buckets: an unfiltered DescribeInstances burst past 50 is RequestLimitExceeded', async () => {
  const plain = await startHarness(moto);
  try {
    const ec2 = new EC2Client(plain.config);
    // The unfiltered, unpaginated DescribeInstances bucket holds 50 tokens and refills 10 a second.
    const settled = await Promise.allSettled(Array.from({ length: 80 }, () => ec2.send(new DescribeInstancesCommand({}))));
    const refused = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as SdkError] : []));
    expect(refused.length).toBeGreaterThan(0);
    expect(new Set(refused.map((e) => `${e.name} ${e.$metadata.httpStatusCode ?? ''}`))).toEqual(new Set(['RequestLimitExceeded 503']));
    expect(plain.cp.throttled.filter((c) => c.service === 'ec2' && c.operation === 'DescribeInstances')).toHaveLength(refused.length);
    ec2.destroy();
  } finally {
    await plain.cp.stop();
  }
});

test('with no throttle option the front applies ELBv2\'s documented buckets: a DescribeTargetHealth burst past the account-level 40 is Throttling, HTTP 400', async () => {
  const plain = await startHarness(moto);
  try {
    const elb = new ElasticLoadBalancingV2Client(plain.config);
    const arn = `arn:aws:elasticloadbalancing:${REGION}:123456789012:targetgroup/absent/0123456789abcdef`;
    // The account-level bucket (and the non-mutating one) hold 40 tokens and refill 10 a second.
    const settled = await Promise.allSettled(Array.from({ length: 70 }, () => elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))));
    const errors = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as SdkError] : []));
    const throttled = errors.filter((e) => e.name === 'Throttling');
    expect(throttled.length).toBeGreaterThan(0);
    expect(new Set(throttled.map((e) => `${e.message} ${e.$metadata.httpStatusCode ?? ''}`))).toEqual(new Set(['Rate exceeded 400']));
    // The admitted calls reached the emulation, which does not know the group.
    expect(errors.filter((e) => e.name !== 'Throttling').every((e) => e.name === 'TargetGroupNotFoundException' || e.name === 'TargetGroupNotFound')).toBe(true);
    expect(plain.cp.throttled.filter((c) => c.service === 'elasticloadbalancing' && c.operation === 'DescribeTargetHealth')).toHaveLength(throttled.length);
    elb.destroy();
  } finally {
    await plain.cp.stop();
  }
});
