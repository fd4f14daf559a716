/** Boot phases "AWS environment" and "storage": VPC in two zones, launch template, target group, compute group; then the storage group boots GlusterFS. */
import { AutoScalingClient, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { clientConfig, createComputeGroup, createLaunchTemplate, createNetwork, createTargetGroup } from '../control-plane/aws-setup';
import { SandboxError } from '../errors';
import type { NamespaceHosts } from '../hosts';
import type { TimelineEntry } from '../types';
import type { Front } from './emulator';
import type { HostScripts } from './host-state';
import type { RecordingHosts } from './hosts';
import { STORAGE_EBS_DEVICE, type SandboxSettings } from './settings';

export interface AwsEnvironment {
  /** One subnet per zone: eu-west-1a, eu-west-1b. */
  readonly subnetIds: readonly [string, string];
  readonly launchTemplateId: string;
  readonly targetGroupArn: string;
}

/** Phase "AWS environment": what the stack expects to exist (an empty compute group among it). */
export async function createAwsEnvironment(settings: SandboxSettings, endpoint: string): Promise<AwsEnvironment> {
  const { name, octet, dataDiskMiB, growInPlace } = settings;
  settings.say(`creating the AWS environment (VPC 10.${octet}.0.0/16, two zones, target group, groups)...`);
  const network = await createNetwork(endpoint, octet);
  const subnetA = network.subnets[0];
  const subnetB = network.subnets[1];
  if (subnetA === undefined || subnetB === undefined) throw new SandboxError('the sandbox network needs two subnets');
  const launchTemplateId = await createLaunchTemplate(
    endpoint,
    `${name}-lt`,
    growInPlace !== undefined && dataDiskMiB !== undefined ? { device: STORAGE_EBS_DEVICE, sizeGiB: Math.ceil(dataDiskMiB / 1024) } : undefined,
  );
  const targetGroupArn = await createTargetGroup(endpoint, { name: `${name}-tg`, vpcId: network.vpcId, deregistrationDelaySeconds: settings.deregistrationDelaySeconds });
  await createComputeGroup(endpoint, { name: settings.computeGroup, launchTemplateId, subnetIds: [subnetA.subnetId, subnetB.subnetId], min: 0, max: settings.computeMax, desired: 0 });
  // moto stores 300 s for a group created without a grace period (or with 0); AWS's API default is 0,
  // which the User Guide suggests with launch hooks. An update keeps 0 in moto.
  await new AutoScalingClient(clientConfig(endpoint)).send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: settings.computeGroup, HealthCheckGracePeriod: settings.computeGracePeriodSeconds }));
  return { subnetIds: [subnetA.subnetId, subnetB.subnetId], launchTemplateId, targetGroupArn };
}

export interface StorageSeams {
  readonly front: Front;
  readonly env: AwsEnvironment;
  readonly hosts: NamespaceHosts;
  readonly recording: RecordingHosts;
  readonly scripts: HostScripts;
  readonly marks: TimelineEntry[];
}

/**
 * Phase "storage": the storage group's two instances, one per zone, boot GlusterFS (replica 2,
 * pydio-config + pydio-data); returns their ids. With storageStartsEmpty the group is created
 * with no member in both zones and nothing is booted: every member, the first ones included,
 * joins through the stack's storage launch flow (its hooks are put by the deploy that follows).
 */
export async function bootStorage(settings: SandboxSettings, { front, env, hosts, recording, scripts, marks }: StorageSeams): Promise<string[]> {
  const { storageGroup } = settings;
  const [subnetA, subnetB] = env.subnetIds;
  if (settings.storageStartsEmpty) {
    settings.say('creating the storage group with no member (its first members will bootstrap the volumes)...');
    await createComputeGroup(front.endpoint, { name: storageGroup, launchTemplateId: env.launchTemplateId, subnetIds: [subnetA, subnetB], min: 0, max: settings.storageMax, desired: 0 });
    // Every member launched from now on gets its data disk (the brick disk prepare-brick formats).
    scripts.markStorageBooted();
    marks.push({ at: Date.now(), kind: 'phase', text: 'storage group created empty (no storage-boot.sh): the storage launch flow bootstraps the volumes' });
    return [];
  }
  // Storage: moto puts a group's instances in its first subnet, so launch one per zone.
  settings.say('launching the storage group (2 instances, two zones) and booting GlusterFS...');
  const storageStart = Date.now();
  await createComputeGroup(front.endpoint, { name: storageGroup, launchTemplateId: env.launchTemplateId, subnetIds: [subnetA], min: 0, max: settings.storageMax, desired: 1 });
  await front.asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: storageGroup, VPCZoneIdentifier: `${subnetB},${subnetA}`, DesiredCapacity: 2 }));
  const storageIds = recording.launched.filter((l) => l.groupName === storageGroup).map((l) => l.instanceId);
  if (storageIds.length !== 2) throw new SandboxError(`the storage group launched ${storageIds.length} instances, expected 2`);
  if (settings.bootDisks) {
    await scripts.bootStorageOnDataDisks(storageIds);
  } else {
    await hosts.bootStorage(storageIds);
  }
  scripts.markStorageBooted();
  marks.push({ at: Date.now(), kind: 'phase', text: `storage booted: ${storageIds.join(', ')} (replica 2, pydio-config + pydio-data)`, durationMs: Date.now() - storageStart });
  return storageIds;
}
