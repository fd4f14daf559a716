/** The storage tier's configuration: what the storage function reads on top of the compute tier's Config. */
import type { StorageSettings } from '../core/storage/settings';
import { ConfigurationError } from '../errors';
import { parseConfig, type Config } from './compute';
import { ec2Endpoint, type Ec2Endpoint } from './ec2-endpoint';
import { boolean, deepFreeze, holdTtl, integer, matching, optional, required, DOCUMENT_PATTERNS, NAME, URL_RE, type Env } from './env';

/**
 * Settings of the storage tier, parsed once per cold start from the same
 * environment as Config, frozen. The stack sets them in serverless.yml
 * (functions.storage.environment); the README's Configure table lists each
 * one with its default.
 */
export interface StorageConfig {
  readonly groupName: string;
  /** Queue of the storage function: lifecycle events, continuations, expansion requests. */
  readonly queueUrl: string;
  readonly volumes: readonly string[];
  readonly brickDevice: string;
  readonly settings: StorageSettings;
  /**
   * Grow in place (issue 4): off | allowed (only when a request asks for it) |
   * preferred (the default strategy for one replica set). settings.growInPlace
   * carries the same choice for the planner.
   */
  readonly growInPlace: {
    readonly mode: GrowInPlaceMode;
    /** The size bricks grow to (GiB); 0 when off. */
    readonly toGiB: number;
    /** The launch template's device name of the brick's EBS volume (e.g. /dev/sdf). */
    readonly ebsDevice: string;
  };
  /**
   * The CloudWatch agent installed and configured at launch (the brick disk
   * alarm's metric); configParameter '' leaves the agent alone.
   */
  readonly agent: {
    /** The SSM parameter with the agent's configuration (AGENT_CONFIG_PARAMETER). */
    readonly configParameter: string;
  };
  /** The health read (watch's healthCheck messages). */
  readonly health: {
    /**
     * Restart a brick offline on a live member (`gluster volume start <vol>
     * force`), at most REPAIR_MAX_RESTARTS times per REPAIR_WINDOW_SECONDS
     * (lib/core/storage/repair.ts); false: tell it, leave it offline.
     */
    readonly repairBricks: boolean;
  };
  readonly documents: {
    readonly prepareBrick: string;
    readonly peerProbe: string;
    readonly glusterStatus: string;
    readonly glusterCommand: string;
    /** storage-grow-brick; '' when grow in place is off. */
    readonly growBrick: string;
  };
  readonly timing: {
    /** The lock's TTL: a lock not renewed for this long expires and may be taken (with a notification); its holder renews it on every delivery. */
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
    /** Grow in place: the EBS modifications must reach optimizing, and the bricks show the new size, within this. */
    readonly growTimeoutSeconds: number;
  };
}

export type GrowInPlaceMode = 'off' | 'allowed' | 'preferred';

/** The variables parseStorageConfig reads (test/unit/config/variables.test.ts proves it); the rest of the storage function's come from parseConfig. */
export const STORAGE_VARIABLES = [
  'STORAGE_QUEUE_URL', 'STORAGE_BRICK_DEVICE', 'STORAGE_BRICK_ROOT', 'STORAGE_NEW_BRICK_GIB',
  'STORAGE_MAX_SETS_PER_REQUEST', 'STORAGE_SHRINK_HEADROOM_PERCENT', 'STORAGE_FORCE_BRICKS',
  'STORAGE_GROW_IN_PLACE', 'STORAGE_GROW_TO_GIB', 'STORAGE_BRICK_EBS_DEVICE', 'STORAGE_AGENT_CONFIG_PARAMETER', 'STORAGE_REPAIR_BRICKS',
  'DOC_STORAGE_PREPARE_BRICK', 'DOC_STORAGE_PEER_PROBE', 'DOC_STORAGE_GLUSTER_STATUS', 'DOC_STORAGE_GLUSTER_COMMAND', 'DOC_STORAGE_GROW_BRICK',
  'STORAGE_LOCK_STALE_SECONDS', 'STORAGE_JOIN_TIMEOUT_SECONDS', 'STORAGE_HEAL_TIMEOUT_SECONDS', 'STORAGE_MIGRATION_TIMEOUT_SECONDS',
  'STORAGE_PROGRESS_SECONDS', 'STORAGE_SYNC_STATUS_SECONDS', 'STORAGE_GROW_TIMEOUT_SECONDS',
] as const;

/** AWS-owned documents the launch flow runs to install and configure the CloudWatch agent. */
export const AGENT_INSTALL_DOCUMENT = 'AWS-ConfigureAWSPackage';
export const AGENT_CONFIGURE_DOCUMENT = 'AmazonCloudWatch-ManageAgent';
/** The agent's package in Distributor. */
export const AGENT_PACKAGE = 'AmazonCloudWatchAgent';
/**
 * The agent's configuration parameter: a plain Parameter Store name
 * (a-zA-Z0-9_.-), within AmazonCloudWatch-ManageAgent's allowedPattern for
 * optionalConfigurationLocation and without its comma (a comma list is merged
 * as several configurations), and prefixed AmazonCloudWatch- because the
 * managed policy CloudWatchAgentServerPolicy lets instances read only
 * parameter/AmazonCloudWatch-*.
 */
export const AGENT_CONFIG_PARAMETER = /^AmazonCloudWatch-[A-Za-z0-9_.-]{1,200}$/;

/** The storage documents that only read: sent in dry run too (the SSM adapter's readOnlyDocuments), so a dry run plans from the real cluster. */
export function readOnlyDocuments(storage: Pick<StorageConfig, 'documents'>): string[] {
  return [storage.documents.glusterStatus];
}

/** Launch template device names of an EBS volume (/dev/sdf, /dev/xvdf); Nitro shows them as nvme, the EC2 API keeps this name. */
const EBS_DEVICE = /^\/dev\/(sd|xvd)[b-z][a-z]?$/;

function growInPlaceOf(env: Env): StorageConfig['growInPlace'] {
  const mode = optional(env, 'STORAGE_GROW_IN_PLACE', 'off');
  if (mode !== 'off' && mode !== 'allowed' && mode !== 'preferred') {
    throw new ConfigurationError(`STORAGE_GROW_IN_PLACE must be off, allowed or preferred, got ${JSON.stringify(mode)}`);
  }
  const ebsDevice = matching('STORAGE_BRICK_EBS_DEVICE', optional(env, 'STORAGE_BRICK_EBS_DEVICE', '/dev/sdf'), EBS_DEVICE, 'the EBS device name of the brick volume in the launch template, like /dev/sdf');
  if (mode === 'off') return { mode, toGiB: 0, ebsDevice };
  if (optional(env, 'STORAGE_GROW_TO_GIB', '') === '') throw new ConfigurationError(`STORAGE_GROW_TO_GIB is required when STORAGE_GROW_IN_PLACE is ${mode} (the size bricks grow to, GiB)`);
  return { mode, toGiB: integer(env, 'STORAGE_GROW_TO_GIB', 0, 1, 65536), ebsDevice };
}

const GiB = 1024 ** 3;

/** STORAGE_REPAIR_BRICKS: true unless set to false (the stage parameter glusterRepairBricks). */
function repairBricks(env: Env): boolean {
  const raw = optional(env, 'STORAGE_REPAIR_BRICKS', 'true').toLowerCase();
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigurationError(`STORAGE_REPAIR_BRICKS must be true or false, got ${JSON.stringify(raw)}`);
}

export function parseStorageConfig(env: Env, base: Config): StorageConfig {
  if (base.storageGroupName === '') {
    throw new ConfigurationError('STORAGE_ASG_NAME is required by the storage function (the storage group it manages)');
  }
  const doc = (key: string) => matching(key, required(env, key), NAME, 'an SSM document name');
  const headroomPercent = integer(env, 'STORAGE_SHRINK_HEADROOM_PERCENT', 20, 0, 90);
  const growInPlace = growInPlaceOf(env);
  const config: StorageConfig = {
    groupName: base.storageGroupName,
    queueUrl: matching('STORAGE_QUEUE_URL', required(env, 'STORAGE_QUEUE_URL'), URL_RE, 'an SQS queue URL'),
    volumes: [base.gluster.configVolume, base.gluster.dataVolume],
    brickDevice: matching('STORAGE_BRICK_DEVICE', optional(env, 'STORAGE_BRICK_DEVICE', ''), /^(\/dev\/[A-Za-z0-9][A-Za-z0-9/_-]{0,62})?$/, 'empty or a /dev/... device path'),
    settings: {
      brickRoot: matching('STORAGE_BRICK_ROOT', optional(env, 'STORAGE_BRICK_ROOT', '/bricks'), DOCUMENT_PATTERNS.path, 'an absolute path of [A-Za-z0-9._-] segments'),
      newBrickBytes: integer(env, 'STORAGE_NEW_BRICK_GIB', 100, 1, 65536) * GiB,
      maxSetsPerRequest: integer(env, 'STORAGE_MAX_SETS_PER_REQUEST', 2, 1, 16),
      shrinkHeadroom: headroomPercent / 100,
      forceBricks: boolean(env, 'STORAGE_FORCE_BRICKS'),
      ...(growInPlace.mode === 'off' ? {} : { growInPlace: { enabled: true, toBytes: growInPlace.toGiB * GiB, preferred: growInPlace.mode === 'preferred' } }),
    },
    growInPlace,
    agent: {
      configParameter: matching('STORAGE_AGENT_CONFIG_PARAMETER', optional(env, 'STORAGE_AGENT_CONFIG_PARAMETER', ''), new RegExp(`^$|${AGENT_CONFIG_PARAMETER.source}`), 'empty or an SSM parameter name AmazonCloudWatch-[A-Za-z0-9_.-]'),
    },
    health: { repairBricks: repairBricks(env) },
    documents: {
      prepareBrick: doc('DOC_STORAGE_PREPARE_BRICK'),
      peerProbe: doc('DOC_STORAGE_PEER_PROBE'),
      glusterStatus: doc('DOC_STORAGE_GLUSTER_STATUS'),
      glusterCommand: doc('DOC_STORAGE_GLUSTER_COMMAND'),
      growBrick: growInPlace.mode === 'off'
        ? matching('DOC_STORAGE_GROW_BRICK', optional(env, 'DOC_STORAGE_GROW_BRICK', ''), /^$|^[A-Za-z0-9._-]{1,255}$/, 'empty or an SSM document name')
        : doc('DOC_STORAGE_GROW_BRICK'),
    },
    timing: {
      lockStaleSeconds: holdTtl(env, 'STORAGE_LOCK_STALE_SECONDS', 3600, base.timing.retryMaxSeconds),
      joinTimeoutSeconds: integer(env, 'STORAGE_JOIN_TIMEOUT_SECONDS', 1800, 60, 86400),
      healTimeoutSeconds: integer(env, 'STORAGE_HEAL_TIMEOUT_SECONDS', 12 * 3600, 60, 30 * 86400),
      migrationTimeoutSeconds: integer(env, 'STORAGE_MIGRATION_TIMEOUT_SECONDS', 7 * 86400, 60, 30 * 86400),
      progressEverySeconds: integer(env, 'STORAGE_PROGRESS_SECONDS', 900, 0, 86400),
      syncStatusSeconds: integer(env, 'STORAGE_SYNC_STATUS_SECONDS', 20, 1, 25),
      growTimeoutSeconds: integer(env, 'STORAGE_GROW_TIMEOUT_SECONDS', 3600, 60, 86400),
    },
  };
  return deepFreeze(config);
}

/** Everything the storage function reads: the compute tier's Config it builds on, its own settings, and where EC2 answers. */
export interface StorageFunctionConfig {
  readonly config: Config;
  readonly storage: StorageConfig;
  readonly ec2: Ec2Endpoint;
}

export function parseStorageFunctionConfig(env: Env = process.env): StorageFunctionConfig {
  const config = parseConfig(env);
  return { config, storage: parseStorageConfig(env, config), ec2: ec2Endpoint(env) };
}
