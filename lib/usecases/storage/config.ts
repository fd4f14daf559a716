import { boolean, deepFreeze, integer, matching, optional, required, DOCUMENT_PATTERNS, NAME, URL_RE, type Config, type Env } from '../../config';
import { ConfigurationError } from '../../errors';
import type { StorageSettings } from '../../core/storage/plan';

/**
 * Settings of the storage tier, parsed once per cold start from the same
 * environment as Config and with the same helpers (lib/config.ts), frozen.
 * Every variable is listed in lib/usecases/storage/STACK.md.
 */
export interface StorageConfig {
  readonly groupName: string;
  /** Queue of the storage function: lifecycle events, continuations, expansion requests. */
  readonly queueUrl: string;
  readonly volumes: readonly string[];
  readonly replicaCount: number;
  readonly brickDevice: string;
  readonly settings: StorageSettings;
  readonly documents: {
    readonly prepareBrick: string;
    readonly peerProbe: string;
    readonly glusterStatus: string;
    readonly glusterCommand: string;
  };
  readonly timing: {
    /** A lock not refreshed for this long may be broken (with a notification); holders refresh it on every delivery. */
    readonly lockStaleSeconds: number;
    /** New members must join (peer in cluster, connected) within this. */
    readonly joinTimeoutSeconds: number;
    readonly healTimeoutSeconds: number;
    /** Rebalance and remove-brick migrations are watched at most this long. */
    readonly migrationTimeoutSeconds: number;
    /** At most one progress notification per this many seconds. */
    readonly progressEverySeconds: number;
    /** Direct invoke (dry run): total bound on reading the Gluster status synchronously. */
    readonly syncStatusSeconds: number;
  };
}

const GiB = 1024 ** 3;

export function parseStorageConfig(env: Env, base: Config): StorageConfig {
  if (base.storageGroupName === '') {
    throw new ConfigurationError('STORAGE_ASG_NAME is required by the storage function (the storage group it manages)');
  }
  const doc = (key: string) => matching(key, required(env, key), NAME, 'an SSM document name');
  const headroomPercent = integer(env, 'STORAGE_SHRINK_HEADROOM_PERCENT', 20, 0, 90);
  const config: StorageConfig = {
    groupName: base.storageGroupName,
    queueUrl: matching('STORAGE_QUEUE_URL', required(env, 'STORAGE_QUEUE_URL'), URL_RE, 'an SQS queue URL'),
    volumes: [base.gluster.configVolume, base.gluster.dataVolume],
    replicaCount: integer(env, 'STORAGE_REPLICA_COUNT', 2, 2, 9),
    brickDevice: matching('STORAGE_BRICK_DEVICE', optional(env, 'STORAGE_BRICK_DEVICE', ''), /^(\/dev\/[A-Za-z0-9][A-Za-z0-9/_-]{0,62})?$/, 'empty or a /dev/... device path'),
    settings: {
      brickRoot: matching('STORAGE_BRICK_ROOT', optional(env, 'STORAGE_BRICK_ROOT', '/bricks'), DOCUMENT_PATTERNS.path, 'an absolute path of [A-Za-z0-9._-] segments'),
      newBrickBytes: integer(env, 'STORAGE_NEW_BRICK_GIB', 100, 1, 65536) * GiB,
      maxSetsPerRequest: integer(env, 'STORAGE_MAX_SETS_PER_REQUEST', 2, 1, 16),
      shrinkHeadroom: headroomPercent / 100,
      forceBricks: boolean(env, 'STORAGE_FORCE_BRICKS'),
    },
    documents: {
      prepareBrick: doc('DOC_STORAGE_PREPARE_BRICK'),
      peerProbe: doc('DOC_STORAGE_PEER_PROBE'),
      glusterStatus: doc('DOC_STORAGE_GLUSTER_STATUS'),
      glusterCommand: doc('DOC_STORAGE_GLUSTER_COMMAND'),
    },
    timing: {
      lockStaleSeconds: integer(env, 'STORAGE_LOCK_STALE_SECONDS', 3600, 60, 30 * 86400),
      joinTimeoutSeconds: integer(env, 'STORAGE_JOIN_TIMEOUT_SECONDS', 1800, 60, 86400),
      healTimeoutSeconds: integer(env, 'STORAGE_HEAL_TIMEOUT_SECONDS', 12 * 3600, 60, 30 * 86400),
      migrationTimeoutSeconds: integer(env, 'STORAGE_MIGRATION_TIMEOUT_SECONDS', 7 * 86400, 60, 30 * 86400),
      progressEverySeconds: integer(env, 'STORAGE_PROGRESS_SECONDS', 900, 0, 86400),
      syncStatusSeconds: integer(env, 'STORAGE_SYNC_STATUS_SECONDS', 20, 1, 25),
    },
  };
  return deepFreeze(config);
}
