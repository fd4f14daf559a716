/**
 * Ports the alarm and status use cases need that no single AWS adapter
 * provides: the storage tier implements the storage ones (lib/usecases/storage/
 * invoke.ts and status.ts), metrics are Powertools EMF (lib/usecases/context.ts).
 */
import type { MetricName } from '../core/scaling/metric-names';

export interface ExpansionRequest {
  readonly volume: string;
  /** Replica sets to add. */
  readonly sets: number;
  /** Why, for the storage tier's own notification. */
  readonly reason: string;
  readonly dryRun: boolean;
}

/** Storage expansion under the storage tier's own guard rails. */
export interface StorageExpansionPort {
  /** accepted=false with a reason when a guard rail (or the absence of the tier) refuses. */
  requestExpansion(request: ExpansionRequest): Promise<{ accepted: boolean; reason?: string }>;
  /** Whether the Gluster volumes can serve (all bricks up, no peer down). */
  volumesHealth(): Promise<{ healthy: boolean; reason?: string }>;
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

/** Our own metrics (EMF). `flush` writes them; call it once per invocation. */
export interface MetricsSink {
  count(name: MetricName, value: number): void;
  seconds(name: MetricName, value: number): void;
  flush(): void;
}

export const STORAGE_NOT_DEPLOYED = 'storage expansion is not deployed in this stage';
export const STORAGE_HEALTH_UNKNOWN = 'storage health unknown: storage tier not deployed';

/**
 * The storage ports of a stage without a storage tier (no STORAGE_QUEUE_URL for
 * the alarm function, no STORAGE_ASG_NAME for the status function; wired in
 * lib/usecases/context.ts): refuses every expansion and reports the volumes as
 * healthy-but-unknown, so a CPU scale-out is not blocked by a tier that does
 * not exist. The decision message says so.
 */
export const storageNotDeployed: StorageExpansionPort & StorageStatusPort & { readonly deployed: false } = {
  deployed: false,
  requestExpansion: async () => ({ accepted: false, reason: STORAGE_NOT_DEPLOYED }),
  volumesHealth: async () => ({ healthy: true, reason: STORAGE_HEALTH_UNKNOWN }),
  describeStorage: async () => ({ available: false, reason: 'storage status is not deployed in this stage (no storage group)' }),
};
