/** What every function reads: the stage, dry run and the two Auto Scaling groups. */
import { boolean, matching, NAME, optional, required, type Env } from './env';

export interface SharedConfig {
  readonly stage: string;
  readonly dryRun: boolean;
  readonly computeGroupName: string;
  /** Empty when the cluster has no managed storage group yet. */
  readonly storageGroupName: string;
}

/** The variables parseShared reads (test/unit/config/variables.test.ts proves it). */
export const SHARED_VARIABLES = ['STAGE', 'DRY_RUN', 'COMPUTE_ASG_NAME', 'STORAGE_ASG_NAME'] as const;

/**
 * Read by Powertools itself, never by our code (lib/logger.ts, the metrics of
 * lib/usecases/context.ts): serverless.yml sets them beside ours.
 */
export const POWERTOOLS_VARIABLES = {
  logger: ['POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_SERVICE_NAME'],
  metrics: ['POWERTOOLS_METRICS_NAMESPACE'],
} as const;

/** An Auto Scaling group name, or '' when the variable is empty and may be. */
function groupName(key: string, value: string): string {
  return value === '' ? '' : matching(key, value, NAME, 'an Auto Scaling group name');
}

/** Not frozen: each tier spreads it into its own config and freezes that. */
export function parseShared(env: Env): SharedConfig {
  return {
    stage: matching('STAGE', required(env, 'STAGE'), NAME, 'a stage name'),
    dryRun: boolean(env, 'DRY_RUN'),
    computeGroupName: groupName('COMPUTE_ASG_NAME', required(env, 'COMPUTE_ASG_NAME')),
    storageGroupName: groupName('STORAGE_ASG_NAME', optional(env, 'STORAGE_ASG_NAME', '')),
  };
}
