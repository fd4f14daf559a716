/** A stage's storage settings, and where bricks live on a storage node. */

export interface StorageSettings {
  /** Where bricks live on a storage node: `<brickRoot>/<volume>/brick`. */
  readonly brickRoot: string;
  /** Size of the data disk a new storage node brings (bytes). */
  readonly newBrickBytes: number;
  /** Most replica sets one request may add. */
  readonly maxSetsPerRequest: number;
  /** Grow in place: allowed at all, the size bricks grow to, and whether it is the default. */
  readonly growInPlace?: { readonly enabled: boolean; readonly toBytes: number; readonly preferred?: boolean };
  /** Share of remaining capacity kept free when shrinking (default 0.2). */
  readonly shrinkHeadroom?: number;
  /** `force` on create/add-brick (bricks on the root file system: sandboxes only). */
  readonly forceBricks?: boolean;
}

export function brickPath(settings: Pick<StorageSettings, 'brickRoot'>, volume: string): string {
  return `${settings.brickRoot.replace(/\/+$/, '')}/${volume}/brick`;
}
