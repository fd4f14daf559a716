/** The compute tier's configuration: what the lifecycle function reads (and the storage function builds on). */
import { ConfigurationError } from '../errors';
import { ARN, deepFreeze, DOCUMENT_PATTERNS, holdTtl, integer, matching, NAME, optional, required, TARGET_GROUP_ARN, URL_RE, type Env } from './env';
import { parseShared, SHARED_VARIABLES, type SharedConfig } from './shared';

/**
 * Parsed once per cold start, validated and frozen. Every variable is
 * documented in README.md ("Configure"); serverless.yml sets them from stage
 * parameters (functions.lifecycle.environment).
 */
export interface Config extends SharedConfig {
  readonly targetGroupArn: string;
  readonly appPort: number;
  /**
   * The load balancer's connection idle timeout (the ALB attribute idle_timeout.timeout_seconds).
   * The web server keeps idle connections longer, so that the load balancer, not the app, closes them.
   */
  readonly loadBalancerIdleTimeoutSeconds: number;
  readonly topicArn: string;
  /** The coordination table (lib/aws/coordination.ts): lifecycle claims, the storage lock and claims. */
  readonly coordinationTable: string;
  /** Queue that carries lifecycle events and their delayed continuations. */
  readonly lifecycleQueueUrl: string;
  readonly gluster: {
    /** Static list of Gluster servers; empty = discover from the storage group. */
    readonly servers: readonly string[];
    readonly configVolume: string;
    readonly dataVolume: string;
    readonly configMount: string;
    readonly dataMount: string;
  };
  readonly app: {
    readonly profile: AppProfile;
    /** The app's session cookie: the target group must stick on it (app_cookie). */
    readonly sessionCookie: string;
    readonly root: string;
    readonly webUser: string;
    readonly webService: string;
  };
  readonly documents: {
    readonly mountVolumes: string;
    readonly configureApp: string;
    readonly drainNode: string;
  };
  readonly timing: {
    /** First re-delivery delay; doubles each attempt up to retryMaxSeconds. */
    readonly retryBaseSeconds: number;
    readonly retryMaxSeconds: number;
    readonly ssmOnlineTimeoutSeconds: number;
    readonly commandTimeoutSeconds: number;
    readonly healthyTimeoutSeconds: number;
    /** Upper bound on waiting for a drain, whatever the target group says. */
    readonly drainMaxSeconds: number;
    /**
     * A lifecycle claim lives this long unless its flow renews it (every
     * delivery does): a dead flow's claim expires after it and the action can
     * be picked up again.
     */
    readonly claimTtlSeconds: number;
  };
}

/**
 * What each app profile fixes. pydio8: Pydio 8's session cookie is `AjaXplorer`
 * (pydio/pydio-core core/src/core/src/pydio/Core/Services/SessionService.php:
 * `define('PYDIO_SESSION_NAME', 'AjaXplorer')`, then `session_name(self::$sessionName)`).
 */
export const APP_PROFILES = {
  pydio8: { sessionCookie: 'AjaXplorer' },
} as const;
export type AppProfile = keyof typeof APP_PROFILES;

/**
 * A cookie name an ALB accepts as stickiness.app_cookie.cookie_name: an RFC 6265
 * token, and none of the prefixes ModifyTargetGroupAttributes reserves ("Names that
 * start with the following prefixes are not allowed: AWSALB, AWSALBAPP, and AWSALBTG").
 */
export const COOKIE_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;

const PATH = DOCUMENT_PATTERNS.path;
const HOST = DOCUMENT_PATTERNS.host;

/** The variables parseConfig reads (test/unit/config/variables.test.ts proves it); the lifecycle function is given exactly these. */
export const COMPUTE_VARIABLES = [
  ...SHARED_VARIABLES, 'TARGET_GROUP_ARN', 'APP_PORT', 'LB_IDLE_TIMEOUT_SECONDS', 'TOPIC_ARN', 'COORDINATION_TABLE', 'LIFECYCLE_QUEUE_URL',
  'GLUSTER_SERVERS', 'GLUSTER_CONFIG_VOLUME', 'GLUSTER_DATA_VOLUME', 'CONFIG_MOUNT', 'DATA_MOUNT',
  'APP_PROFILE', 'APP_SESSION_COOKIE', 'APP_ROOT', 'WEB_USER', 'WEB_SERVICE', 'DOC_MOUNT_VOLUMES', 'DOC_CONFIGURE_APP', 'DOC_DRAIN_NODE',
  'RETRY_BASE_SECONDS', 'RETRY_MAX_SECONDS', 'SSM_ONLINE_TIMEOUT_SECONDS', 'COMMAND_TIMEOUT_SECONDS', 'HEALTHY_TIMEOUT_SECONDS', 'DRAIN_MAX_SECONDS',
  'CLAIM_TTL_SECONDS',
] as const;

/** A DynamoDB table name (the TableName shape: 3-255 of [a-zA-Z0-9_.-]). */
export const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

function serverList(env: Env, key: string): string[] {
  const raw = optional(env, key, '');
  if (raw === '') return [];
  return raw.split(',').map((s) => matching(key, s.trim(), HOST, 'a comma-separated list of host names or IPs'));
}

export function parseConfig(env: Env = process.env): Config {
  const retryBaseSeconds = integer(env, 'RETRY_BASE_SECONDS', 10, 0, 900);
  const retryMaxSeconds = integer(env, 'RETRY_MAX_SECONDS', 120, 0, 900);
  if (retryMaxSeconds < retryBaseSeconds) {
    throw new ConfigurationError(
      `RETRY_MAX_SECONDS (${retryMaxSeconds}) must not be below RETRY_BASE_SECONDS (${retryBaseSeconds})`,
    );
  }
  const profile = optional(env, 'APP_PROFILE', 'pydio8');
  if (!Object.hasOwn(APP_PROFILES, profile)) {
    throw new ConfigurationError(`APP_PROFILE must be one of ${Object.keys(APP_PROFILES).join(', ')}, got ${JSON.stringify(profile)}`);
  }
  const appProfile = profile as AppProfile;
  const sessionCookie = matching('APP_SESSION_COOKIE', optional(env, 'APP_SESSION_COOKIE', APP_PROFILES[appProfile].sessionCookie), COOKIE_NAME, 'a cookie name (RFC 6265 token, at most 128)');
  if (sessionCookie.startsWith('AWSALB')) {
    throw new ConfigurationError(`APP_SESSION_COOKIE must not start with AWSALB (AWSALB, AWSALBAPP and AWSALBTG are reserved for the load balancer), got ${JSON.stringify(sessionCookie)}`);
  }
  const config: Config = {
    ...parseShared(env),
    targetGroupArn: matching('TARGET_GROUP_ARN', required(env, 'TARGET_GROUP_ARN'), TARGET_GROUP_ARN, 'a target group ARN (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>)'),
    appPort: integer(env, 'APP_PORT', 80, 1, 65535),
    loadBalancerIdleTimeoutSeconds: integer(env, 'LB_IDLE_TIMEOUT_SECONDS', 60, 1, 4000),
    topicArn: matching('TOPIC_ARN', required(env, 'TOPIC_ARN'), ARN, 'an SNS topic ARN'),
    coordinationTable: matching('COORDINATION_TABLE', required(env, 'COORDINATION_TABLE'), TABLE_NAME, 'a DynamoDB table name (3-255 of [A-Za-z0-9_.-])'),
    lifecycleQueueUrl: matching('LIFECYCLE_QUEUE_URL', required(env, 'LIFECYCLE_QUEUE_URL'), URL_RE, 'an SQS queue URL'),
    gluster: {
      servers: serverList(env, 'GLUSTER_SERVERS'),
      configVolume: matching('GLUSTER_CONFIG_VOLUME', optional(env, 'GLUSTER_CONFIG_VOLUME', 'pydio-config'), DOCUMENT_PATTERNS.volume, 'a Gluster volume name ([A-Za-z0-9_-], at most 64)'),
      dataVolume: matching('GLUSTER_DATA_VOLUME', optional(env, 'GLUSTER_DATA_VOLUME', 'pydio-data'), DOCUMENT_PATTERNS.volume, 'a Gluster volume name ([A-Za-z0-9_-], at most 64)'),
      configMount: matching('CONFIG_MOUNT', optional(env, 'CONFIG_MOUNT', '/mnt/pydio-config'), PATH, 'an absolute path of [A-Za-z0-9._-] segments'),
      dataMount: matching('DATA_MOUNT', optional(env, 'DATA_MOUNT', '/mnt/pydio-data'), PATH, 'an absolute path of [A-Za-z0-9._-] segments'),
    },
    app: {
      profile: appProfile,
      sessionCookie,
      root: matching('APP_ROOT', optional(env, 'APP_ROOT', '/var/www/pydio'), PATH, 'an absolute path of [A-Za-z0-9._-] segments'),
      webUser: matching('WEB_USER', optional(env, 'WEB_USER', 'www-data'), DOCUMENT_PATTERNS.webUser, 'a Unix user name'),
      webService: matching('WEB_SERVICE', optional(env, 'WEB_SERVICE', 'apache2'), DOCUMENT_PATTERNS.webService, 'apache2 or httpd'),
    },
    documents: {
      mountVolumes: matching('DOC_MOUNT_VOLUMES', required(env, 'DOC_MOUNT_VOLUMES'), NAME, 'an SSM document name'),
      configureApp: matching('DOC_CONFIGURE_APP', required(env, 'DOC_CONFIGURE_APP'), NAME, 'an SSM document name'),
      drainNode: matching('DOC_DRAIN_NODE', required(env, 'DOC_DRAIN_NODE'), NAME, 'an SSM document name'),
    },
    timing: {
      retryBaseSeconds,
      retryMaxSeconds,
      ssmOnlineTimeoutSeconds: integer(env, 'SSM_ONLINE_TIMEOUT_SECONDS', 600, 1, 7200),
      commandTimeoutSeconds: integer(env, 'COMMAND_TIMEOUT_SECONDS', 600, 30, 7200),
      healthyTimeoutSeconds: integer(env, 'HEALTHY_TIMEOUT_SECONDS', 600, 1, 7200),
      drainMaxSeconds: integer(env, 'DRAIN_MAX_SECONDS', 900, 0, 7200),
      claimTtlSeconds: holdTtl(env, 'CLAIM_TTL_SECONDS', 900, retryMaxSeconds),
    },
  };
  if (config.gluster.servers.length === 0 && config.storageGroupName === '') {
    throw new ConfigurationError('set GLUSTER_SERVERS, or STORAGE_ASG_NAME to discover the Gluster servers from');
  }
  return deepFreeze(config);
}
