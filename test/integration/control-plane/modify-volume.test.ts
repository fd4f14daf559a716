/**
 * ModifyVolume through the front: before moto records a larger size, the
 * front reads the volume's attachment from moto and grows the disk behind it
 * (volumeResized), so EC2's size and the host's disk agree; a disk that cannot
 * grow fails the call and moto keeps the old size. The front reads moto with
 * the SDK's EC2 client, not the product's adapter (lib/aws/ec2-volumes.ts).
 */
import { DescribeVolumesCommand, DescribeVolumesModificationsCommand, EC2Client, ModifyVolumeCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { clientConfig } from '../../sandbox/control-plane/aws-setup';
import { startControlPlane, type ControlPlane } from '../../sandbox/control-plane/front';
import { SimulatedDataPlane, SimulatedExecutor, SimulatedHosts } from '../../sandbox/control-plane/simulated';
import { startMoto, type MotoServer } from '../../sandbox/control-plane/moto';

jest.setTimeout(60_000);

let moto: MotoServer;
let cp: ControlPlane;
let resized: Array<[string, number]>;
let failWith: string | undefined;

beforeAll(async () => {
  moto = await startMoto();
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  resized = [];
  failWith = undefined;
  const executor = new SimulatedExecutor();
  cp = await startControlPlane({
    motoUrl: moto.url,
    executor,
    dataPlane: new SimulatedDataPlane(),
    hosts: new SimulatedHosts(executor),
    volumeResized: async (instanceId, sizeGiB) => {
      if (failWith) throw new Error(failWith);
      resized.push([instanceId, sizeGiB]);
    },
  });
});
afterEach(async () => {
  await cp?.stop();
});

/** One instance with a 10 GiB brick volume at /dev/sdf: its id and the volume's. */
async function launchWithBrick(ec2: EC2Client): Promise<{ instanceId: string; volumeId: string }> {
  const run = await ec2.send(new RunInstancesCommand({
    ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, InstanceType: 't3.micro',
    Placement: { AvailabilityZone: 'eu-west-1a' },
    BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 10, VolumeType: 'gp3' } }],
  }));
  const instanceId = run.Instances?.[0]?.InstanceId ?? '';
  const { Volumes } = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }, { Name: 'attachment.device', Values: ['/dev/sdf'] }] }));
  return { instanceId, volumeId: Volumes?.[0]?.VolumeId ?? '' };
}

async function sizeOf(ec2: EC2Client, volumeId: string): Promise<number | undefined> {
  const { Volumes } = await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }));
  return Volumes?.[0]?.Size;
}

it('grows the disk of the attached instance, then lets moto record the size', async () => {
  // Prepare
  const ec2 = new EC2Client(clientConfig(cp.url));
  const { instanceId, volumeId } = await launchWithBrick(ec2);
  // Act
  await ec2.send(new ModifyVolumeCommand({ VolumeId: volumeId, Size: 20 }));
  // Assess
  expect(resized).toEqual([[instanceId, 20]]);
  expect(await sizeOf(ec2, volumeId)).toBe(20);
});

it('leaves the disk alone when the size does not grow, and an unknown volume to moto', async () => {
  // Prepare
  const ec2 = new EC2Client(clientConfig(cp.url));
  const { volumeId } = await launchWithBrick(ec2);
  // Act
  await ec2.send(new ModifyVolumeCommand({ VolumeId: volumeId, Size: 10 })).catch(() => undefined);
  const unknown = ec2.send(new ModifyVolumeCommand({ VolumeId: 'vol-0123456789abcdef0', Size: 20 }));
  // Assess
  await expect(unknown).rejects.toMatchObject({ name: 'InvalidVolume.NotFound' });
  expect(resized).toEqual([]);
});

it('fails the call when the disk cannot grow, and moto keeps the old size', async () => {
  // Prepare
  const ec2 = new EC2Client(clientConfig(cp.url));
  const { volumeId } = await launchWithBrick(ec2);
  failWith = 'no space in the pool';
  // Act
  const modify = ec2.send(new ModifyVolumeCommand({ VolumeId: volumeId, Size: 20 }));
  // Assess
  await expect(modify).rejects.toMatchObject({ name: 'InternalError', message: expect.stringContaining('no space in the pool') });
  expect(await sizeOf(ec2, volumeId)).toBe(10);
});

test('a modification is modifying, then optimizing, then completed, and the volume cannot be modified again before it completed', async () => {
  const ec2 = new EC2Client(clientConfig(cp.url));
  const { volumeId } = await launchWithBrick(ec2);
  const modified = await ec2.send(new ModifyVolumeCommand({ VolumeId: volumeId, Size: 20 }));
  expect(modified.VolumeModification).toMatchObject({ ModificationState: 'modifying', Progress: 0 });
  await expect(ec2.send(new ModifyVolumeCommand({ VolumeId: volumeId, Size: 30 }))).rejects.toMatchObject({ name: 'IncorrectModificationState' });
  const states: string[] = [];
  for (let i = 0; i < 40 && states[states.length - 1] !== 'completed'; i += 1) {
    const { VolumesModifications } = await ec2.send(new DescribeVolumesModificationsCommand({ VolumeIds: [volumeId] }));
    const state = VolumesModifications?.[0]?.ModificationState ?? '';
    if (states[states.length - 1] !== state) states.push(state);
    await new Promise((r) => setTimeout(r, 250));
  }
  expect(states).toEqual(['modifying', 'optimizing', 'completed']);
  await expect(ec2.send(new ModifyVolumeCommand({ VolumeId: volumeId, Size: 30 }))).resolves.toMatchObject({ VolumeModification: { ModificationState: 'modifying' } });
});
