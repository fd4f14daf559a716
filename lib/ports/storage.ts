/**
 * The storage tier as the alarm and status use cases see it: expansion under
 * its own guard rails, the volumes' health and the cluster's status.
 * Implemented by lib/usecases/storage/invoke.ts and status.ts; a stage without
 * a storage tier gets lib/usecases/storage-not-deployed.ts.
 */
export interface ExpansionRequest {
  readonly volume: string;
  /** Replica sets to add. */
  readonly sets: number;
  /** Why, for the storage tier's own notification. */
  readonly reason: string;
  readonly dryRun: boolean;
}

export interface VolumesHealth {
  readonly healthy: boolean | 'unknown';
  readonly reason?: string;
}

/** Storage expansion under the storage tier's own guard rails. */
export interface StorageExpansionPort {
  /** accepted=false with a reason when a guard rail (or the absence of the tier) refuses. */
  requestExpansion(request: ExpansionRequest): Promise<{ accepted: boolean; reason?: string }>;
  /**
   * Whether the Gluster volumes can serve (every brick up, every peer
   * connected, no split-brain), from the last health read: 'unknown' when
   * there is none recent enough to trust either way (or no storage tier).
   */
  volumesHealth(): Promise<VolumesHealth>;
}

export interface StoragePeerStatus {
  readonly host: string;
  readonly state: string;
}
export interface StorageBrickStatus {
  readonly volume: string;
  readonly host: string;
  readonly path: string;
  readonly online: boolean;
}
export interface StorageVolumeStatus {
  readonly name: string;
  readonly status: string;
  readonly replicaCount: number;
  readonly healthy: boolean;
}
export interface StorageTaskStatus {
  readonly volume: string;
  readonly kind: 'rebalance' | 'heal';
  readonly status: string;
}

export type StorageStatus =
  | {
      readonly available: true;
      readonly peers: readonly StoragePeerStatus[];
      readonly volumes: readonly StorageVolumeStatus[];
      readonly bricks: readonly StorageBrickStatus[];
      /** Running rebalance or heal. */
      readonly tasks: readonly StorageTaskStatus[];
    }
  | { readonly available: false; readonly reason: string };

/** The Gluster cluster as the storage tier sees it. */
export interface StorageStatusPort {
  describeStorage(): Promise<StorageStatus>;
}
