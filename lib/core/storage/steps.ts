/** The steps a storage plan is carried out in, and the one line that describes each. */
import { formatBytes } from './bytes';
import { commandLine, type GlusterStep } from './gluster-actions';

/**
 * Pure planning for the storage tier: from a ClusterSnapshot and a request,
 * either a plan (what changes, why, and the exact Gluster commands) or a
 * refusal a person can act on. No I/O. A use case carries a plan out step by
 * step (Auto Scaling for capacity, SSM Run Command with storage-gluster-command
 * for Gluster steps) and re-plans from a fresh snapshot after each wait.
 */

export type PlanStep =
  | GlusterStep
  /** Set the storage group's desired capacity; new members join through the launch hook. */
  | { readonly kind: 'set-desired'; readonly desired: number; readonly launches: number; readonly zones: readonly string[] }
  /** Enlarge a member's data EBS volume, then grow its XFS file system (storage-grow-brick). */
  | { readonly kind: 'grow-brick'; readonly instanceId: string; readonly host: string; readonly toBytes: number }
  /** Let members go: drop scale-in protection and terminate them, decrementing desired capacity. */
  | { readonly kind: 'release-members'; readonly instanceIds: readonly string[]; readonly desired: number };

export function describeStep(step: PlanStep): string {
  switch (step.kind) {
    case 'gluster': return commandLine(step);
    case 'set-desired': return `set desired capacity to ${step.desired} (${step.launches} new member${step.launches === 1 ? '' : 's'} in ${step.zones.join(' + ')})`;
    case 'grow-brick': return `grow the data volume of ${step.instanceId} (${step.host}) to ${formatBytes(step.toBytes)}, then xfs_growfs`;
    case 'release-members': return `release ${step.instanceIds.join(', ')} (desired capacity ${step.desired})`;
  }
}
