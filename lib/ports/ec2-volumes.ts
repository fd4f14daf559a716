/**
 * EBS volumes and instance tags (grow in place, storage member state).
 * Implemented by lib/aws/ec2-volumes.ts (a signed EC2 Query call of our own).
 */
export type ModificationState = 'modifying' | 'optimizing' | 'completed' | 'failed';

export interface EbsAttachment {
  readonly instanceId: string;
  readonly device: string;
  /** attaching | attached | detaching | detached | busy */
  readonly state: string;
}

export interface EbsVolume {
  readonly volumeId: string;
  readonly sizeGiB: number;
  /** creating | available | in-use | deleting | deleted | error */
  readonly state: string;
  readonly zone: string;
  readonly volumeType: string;
  readonly attachments: readonly EbsAttachment[];
}

export interface VolumeModification {
  readonly volumeId: string;
  readonly state: ModificationState;
  readonly targetSizeGiB: number;
  readonly originalSizeGiB?: number;
  readonly progress?: number;
  readonly statusMessage?: string;
  readonly startTime?: string;
  /** Set when the adapter ran in dry run: nothing was sent. */
  readonly dryRun?: boolean;
}

export interface VolumePort {
  /** The volume attached to `instanceId` at `device` (the launch template's device name), or undefined. */
  findAttachedVolume(instanceId: string, device: string): Promise<EbsVolume | undefined>;
  describeVolume(volumeId: string): Promise<EbsVolume | undefined>;
  /** Starts a size change (GiB); the answer is the modification as EC2 reports it. */
  modifyVolumeSize(volumeId: string, sizeGiB: number): Promise<VolumeModification>;
  /** The latest modification of the volume, or undefined when it was never modified. */
  latestModification(volumeId: string): Promise<VolumeModification | undefined>;
}

/** Instance tags: where ops see a storage member's state in the EC2 console (CreateTags). */
export interface InstanceTagPort {
  /** Sets (adds or overwrites) these tags on the instance. */
  tagInstance(instanceId: string, tags: Readonly<Record<string, string>>): Promise<void>;
}
