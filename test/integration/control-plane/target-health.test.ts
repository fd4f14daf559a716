import { AutoScalingClient, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import {
  DeregisterTargetsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { createStageEnvironment, type StageEnvironment } from '../../sandbox/control-plane/aws-setup';
import type { MotoServer } from '../../sandbox/control-plane/moto';
import { eventually, startHarness, startMoto, type Harness } from './harness';

jest.setTimeout(60_000);

let moto: MotoServer;
let h: Harness;
let env: StageEnvironment;
let elb: ElasticLoadBalancingV2Client;
let ids: string[];

beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});
beforeEach(async () => {
  h = await startHarness(moto, { healthyAfterMs: 500 });
  env = await createStageEnvironment(h.cp.url, { prefix: 'h4g', deregistrationDelaySeconds: 1 });
  await new AutoScalingClient(h.config).send(new SetDesiredCapacityCommand({ AutoScalingGroupName: env.groupName, DesiredCapacity: 2 }));
  ids = h.hosts.launched.map((l) => l.instanceId);
  elb = new ElasticLoadBalancingV2Client(h.config);
});
afterEach(async () => {
  await h?.cp.stop();
});

async function health(id: string): Promise<{ state?: string; reason?: string }> {
  const out = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: env.targetGroupArn, Targets: [{ Id: id, Port: 80 }] }));
  const th = out.TargetHealthDescriptions?.[0]?.TargetHealth;
  return { ...(th?.State !== undefined ? { state: th.State } : {}), ...(th?.Reason !== undefined ? { reason: th.Reason } : {}) };
}

test('the target group keeps the sticky settings the stage expects', async () => {
  const out = await elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: env.targetGroupArn }));
  const attrs = Object.fromEntries((out.Attributes ?? []).map((a) => [a.Key, a.Value]));
  expect(attrs).toMatchObject({ 'stickiness.enabled': 'true', 'stickiness.type': 'app_cookie', 'stickiness.app_cookie.cookie_name': 'AjaXplorer', 'deregistration_delay.timeout_seconds': '1' });
});

test('register -> initial -> healthy; deregister -> draining -> gone', async () => {
  const id = ids[0] ?? '';
  expect(await health(id)).toEqual({ state: 'unused', reason: 'Target.NotRegistered' });

  await elb.send(new RegisterTargetsCommand({ TargetGroupArn: env.targetGroupArn, Targets: [{ Id: id }] }));
  expect(h.dataPlane.calls[0]).toMatchObject({ op: 'register', target: { instanceId: id, port: 80, ip: expect.stringMatching(/^10\.71\./) } });
  expect(await health(id)).toEqual({ state: 'initial', reason: 'Elb.RegistrationInProgress' });
  await eventually(async () => ((await health(id)).state === 'healthy' ? true : undefined), 'target healthy', 5000);

  const all = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: env.targetGroupArn }));
  expect(all.TargetHealthDescriptions?.map((d) => d.Target?.Id)).toEqual([id]);

  await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: env.targetGroupArn, Targets: [{ Id: id, Port: 80 }] }));
  expect(h.dataPlane.calls[1]).toMatchObject({ op: 'deregister', delaySeconds: 1 });
  expect(await health(id)).toEqual({ state: 'draining', reason: 'Target.DeregistrationInProgress' });
  await eventually(async () => ((await health(id)).state === 'unused' ? true : undefined), 'target gone', 5000);
  const none = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: env.targetGroupArn }));
  expect(none.TargetHealthDescriptions).toEqual([]);
});

test('an unhealthy target reads unhealthy with a reason', async () => {
  const id = ids[1] ?? '';
  h.dataPlane.setUnhealthy(id);
  await elb.send(new RegisterTargetsCommand({ TargetGroupArn: env.targetGroupArn, Targets: [{ Id: id, Port: 80 }] }));
  const state = await eventually(async () => {
    const s = await health(id);
    return s.state === 'initial' ? undefined : s;
  }, 'health check verdict', 5000);
  expect(state).toEqual({ state: 'unhealthy', reason: 'Target.ResponseCodeMismatch' });
});
