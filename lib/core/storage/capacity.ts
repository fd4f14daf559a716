/** How many bytes a volume holds and can hold, counted over its replica sets (an arbiter brick holds no file data). */
import { replicaSets, type Brick, type VolumeSnapshot } from './snapshot';

/** The bricks of a set that hold file data: all but the arbiter. */
export function dataBricks<T extends Pick<Brick, 'arbiter'>>(set: readonly T[]): T[] {
  return set.filter((b) => !b.arbiter);
}

/** Usable bytes of a volume: over its replica sets, the smallest data brick of each. */
export function usableCapacity(volume: Pick<VolumeSnapshot, 'bricks' | 'replicaCount'>): number {
  return replicaSets(volume.bricks, volume.replicaCount).reduce((sum, set) => sum + Math.min(...dataBricks(set).map((b) => b.sizeTotal)), 0);
}

/** Used bytes of a volume: over its sets, the fullest data replica of each. */
export function usedBytes(volume: Pick<VolumeSnapshot, 'bricks' | 'replicaCount'>): number {
  return replicaSets(volume.bricks, volume.replicaCount).reduce((sum, set) => sum + Math.max(...dataBricks(set).map((b) => b.sizeTotal - b.sizeFree)), 0);
}
