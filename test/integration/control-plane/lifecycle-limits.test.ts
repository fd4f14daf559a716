/**
 * Auto Scaling request limits the sandbox enforces because moto 5.2.1 does not (issue 8: never more
 * lenient than AWS). Each was checked to pass through moto alone; sources in
 * test/contracts/catalogue/autoscaling.yml.
 */
import { AutoScalingClient, DescribeAutoScalingInstancesCommand, PutLifecycleHookCommand, SetDesiredCapacityCommand, SetInstanceProtectionCommand } from '@aws-sdk/client-auto-scaling';
import { createStageEnvironment, type StageEnvironment } from '../../sandbox/control-plane/aws-setup';
import type { MotoServer } from '../../sandbox/control-plane/moto';
import { eventually, startHarness, startMoto, type Harness } from './harness';

jest.setTimeout(60_000);

let moto: MotoServer;
let h: Harness;
let env: StageEnvironment;
let asg: AutoScalingClient;

beforeAll(async () => {
  moto = await startMoto();
  h = await startHarness(moto);
  env = await createStageEnvironment(h.cp.url, { prefix: 'lim' });
  asg = new AutoScalingClient(h.config);
});
afterAll(async () => {
  await h?.cp.stop();
  await moto?.stop();
});

const ids = (n: number) => Array.from({ length: n }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`);

test('DescribeAutoScalingInstances with 51 ids is a ValidationError; 50 are answered', async () => {
  await expect(asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: ids(51) }))).rejects.toMatchObject({ name: 'ValidationError' });
  await expect(asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: ids(50) }))).resolves.toMatchObject({ AutoScalingInstances: [] });
});

test('SetInstanceProtection with 51 ids is a ValidationError; the group\'s own instance is protected', async () => {
  await expect(
    asg.send(new SetInstanceProtectionCommand({ AutoScalingGroupName: env.groupName, InstanceIds: ids(51), ProtectedFromScaleIn: true })),
  ).rejects.toMatchObject({ name: 'ValidationError' });
  await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: env.groupName, DesiredCapacity: 1 }));
  const [id] = await eventually(async () => {
    const out = await asg.send(new DescribeAutoScalingInstancesCommand({}));
    const found = (out.AutoScalingInstances ?? []).map((i) => i.InstanceId ?? '');
    return found.length === 1 ? found : undefined;
  }, 'one instance');
  await asg.send(new SetInstanceProtectionCommand({ AutoScalingGroupName: env.groupName, InstanceIds: [id ?? ''], ProtectedFromScaleIn: true }));
  const out = await asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [id ?? ''] }));
  expect(out.AutoScalingInstances?.[0]?.ProtectedFromScaleIn).toBe(true);
});

test.each([29, 7201, 10])('PutLifecycleHook with HeartbeatTimeout %p is a ValidationError', async (seconds) => {
  await expect(
    asg.send(new PutLifecycleHookCommand({ AutoScalingGroupName: env.groupName, LifecycleHookName: `h${seconds}`, LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: seconds })),
  ).rejects.toMatchObject({ name: 'ValidationError' });
});

test.each([30, 7200])('PutLifecycleHook with HeartbeatTimeout %p is accepted', async (seconds) => {
  await asg.send(new PutLifecycleHookCommand({ AutoScalingGroupName: env.groupName, LifecycleHookName: `ok${seconds}`, LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: seconds, DefaultResult: 'CONTINUE' }));
});

test.each(['h.x', 'pydio-autoscaler-v1.2-compute-launch', 'a b'])('PutLifecycleHook named %p is a ValidationError (names are [A-Za-z0-9-_/]+)', async (name) => {
  await expect(
    asg.send(new PutLifecycleHookCommand({ AutoScalingGroupName: env.groupName, LifecycleHookName: name, LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: 600 })),
  ).rejects.toMatchObject({ name: 'ValidationError' });
});
