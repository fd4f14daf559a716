import type { StorageExpansionPort, StorageStatusPort } from '../ports/storage';

export const STORAGE_NOT_DEPLOYED = 'storage expansion is not deployed in this stage';
export const STORAGE_HEALTH_UNKNOWN = 'storage health unknown: storage tier not deployed';

/**
 * The storage ports of a stage without a storage tier (no STORAGE_QUEUE_URL for
 * the alarm function, no STORAGE_ASG_NAME for the status function; wired in
 * lib/usecases/context.ts): refuses every expansion and reports the volumes'
 * health as unknown, which does not block a CPU scale-out (a tier that does
 * not exist cannot be unhealthy). The decision message says so.
 */
export const storageNotDeployed: StorageExpansionPort & StorageStatusPort & { readonly deployed: false } = {
  deployed: false,
  requestExpansion: async () => ({ accepted: false, reason: STORAGE_NOT_DEPLOYED }),
  volumesHealth: async () => ({ healthy: 'unknown', reason: STORAGE_HEALTH_UNKNOWN }),
  describeStorage: async () => ({ available: false, reason: 'storage status is not deployed in this stage (no storage group)' }),
};
