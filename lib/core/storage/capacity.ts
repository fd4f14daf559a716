/** How many bytes a volume holds and can hold, counted over its replica sets. */
import { replicaSets, type VolumeSnapshot } from './snapshot';

/** Usable bytes of a volume: over its replica sets, the smallest brick of each set. */
export function usableCapacity(volume: Pick<VolumeSnapshot, 'bricks' | 'replicaCount'>): number {
  return replicaSets(volume.bricks, volume.replicaCount).reduce((sum, set) => sum + Math.min(...set.map((b) => b.sizeTotal)), 0);
}

/** Used bytes of a volume: over its sets, the fullest replica of each. */
export function usedBytes(volume: Pick<VolumeSnapshot, 'bricks' | 'replicaCount'>): number {
  return replicaSets(volume.bricks, volume.replicaCount).reduce((sum, set) => sum + Math.max(...set.map((b) => b.sizeTotal - b.sizeFree)), 0);
}
