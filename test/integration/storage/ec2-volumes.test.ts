import { createEc2Transport, createInstanceTagPort, createVolumePort, type Ec2Call } from '../../../lib/aws/ec2-volumes';
import { ec2Endpoint } from '../../../lib/config/ec2-endpoint';
import type { VolumePort } from '../../../lib/ports/ec2-volumes';
import { child, childrenNamed, textOf } from '../../../lib/core/storage/xml';
import type { Log } from '../../../lib/logger';
import { startMoto, type MotoServer } from '../../sandbox/control-plane/moto';

// moto calls on a loaded 2-core machine can take seconds: jest's 5 s default timed out under CI-like load.
jest.setTimeout(30_000);

/**
 * The EC2 volume port against moto's EC2 Query API: the volume attached at
 * the launch template's device is found, ModifyVolume grows it, and
 * DescribeVolumesModifications reports the modification (moto completes it at once).
 */
const quiet: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Log;

let moto: MotoServer;
let call: Ec2Call;
let volumes: VolumePort;

beforeAll(async () => {
  moto = await startMoto();
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  call = createEc2Transport(ec2Endpoint({ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_EC2: moto.url }), { credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  volumes = createVolumePort(call, { dryRun: false, log: quiet });
});

async function launch(sizeGiB: number): Promise<string> {
  const root = await call('RunInstances', [
    ['ImageId', 'ami-12c6146b'], ['MinCount', '1'], ['MaxCount', '1'], ['InstanceType', 't3.micro'],
    ['Placement.AvailabilityZone', 'eu-west-1a'],
    ['BlockDeviceMapping.1.DeviceName', '/dev/sdf'], ['BlockDeviceMapping.1.Ebs.VolumeSize', String(sizeGiB)], ['BlockDeviceMapping.1.Ebs.VolumeType', 'gp3'],
  ]);
  const [item] = childrenNamed(child(root, 'instancesSet', 'RunInstances'), 'item');
  return textOf(item!, 'instanceId', 'RunInstances');
}

it('finds the volume at the brick device, grows it and reports the modification', async () => {
  // Prepare
  const instanceId = await launch(10);
  // Act
  const before = await volumes.findAttachedVolume(instanceId, '/dev/sdf');
  expect(before).toMatchObject({ sizeGiB: 10, state: 'in-use', attachments: [{ instanceId, device: '/dev/sdf' }] });
  expect(await volumes.latestModification(before!.volumeId)).toBeUndefined();
  const started = await volumes.modifyVolumeSize(before!.volumeId, 20);
  // Assess
  expect(started).toMatchObject({ volumeId: before!.volumeId, targetSizeGiB: 20, originalSizeGiB: 10 });
  expect(['modifying', 'optimizing', 'completed']).toContain(started.state);
  expect(await volumes.latestModification(before!.volumeId)).toMatchObject({ targetSizeGiB: 20, state: 'completed' });
  expect((await volumes.describeVolume(before!.volumeId))?.sizeGiB).toBe(20);
});

it('does not take the root volume or another device for the brick', async () => {
  const instanceId = await launch(10);
  expect(await volumes.findAttachedVolume(instanceId, '/dev/sdg')).toBeUndefined();
  const other = await launch(12);
  expect((await volumes.findAttachedVolume(other, '/dev/sdf'))?.sizeGiB).toBe(12);
});

it('turns moto errors into AwsCallError with the EC2 code', async () => {
  await expect(volumes.modifyVolumeSize('vol-0123456789abcdef0', 20)).rejects.toThrow(/^ModifyVolume: InvalidVolume.NotFound: /);
  expect(await volumes.describeVolume('vol-0123456789abcdef0')).toBeUndefined();
});

it('dry run does not modify the volume', async () => {
  const instanceId = await launch(10);
  const dry = createVolumePort(call, { dryRun: true, log: quiet });
  const volume = await dry.findAttachedVolume(instanceId, '/dev/sdf');
  await dry.modifyVolumeSize(volume!.volumeId, 30);
  expect((await volumes.describeVolume(volume!.volumeId))?.sizeGiB).toBe(10);
});

it('tags an instance with its storage state, overwriting the previous value (CreateTags read back with DescribeTags)', async () => {
  const instanceId = await launch(10);
  const tags = createInstanceTagPort(call, { dryRun: false, log: quiet });
  await tags.tagInstance(instanceId, { 'pydio-autoscaler:storage-state': 'joining' });
  await tags.tagInstance(instanceId, { 'pydio-autoscaler:storage-state': 'joined', 'pydio-autoscaler:storage-state-since': '2026-11-21T10:00:00.000Z' });
  const root = await call('DescribeTags', [['Filter.1.Name', 'resource-id'], ['Filter.1.Value.1', instanceId]]);
  const found = childrenNamed(child(root, 'tagSet', 'DescribeTags'), 'item').map((i) => [textOf(i, 'key', 'tag'), textOf(i, 'value', 'tag')]);
  expect(Object.fromEntries(found)).toEqual({ 'pydio-autoscaler:storage-state': 'joined', 'pydio-autoscaler:storage-state-since': '2026-11-21T10:00:00.000Z' });
});
