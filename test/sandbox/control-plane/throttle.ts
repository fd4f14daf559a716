/**
 * Request-rate throttling at the front, as AWS does it: token buckets (a burst
 * capacity, refilled at a rate per second; each call takes one token; a call
 * that finds less than one token is refused) per API, answered with the
 * service's own throttling error in its own protocol. The front checks a call
 * here BEFORE it dispatches it, so the operations it emulates itself
 * (lifecycle actions, Run Command, target health) are throttled like those
 * moto answers; a refused call never reaches moto.
 *
 * Always on: a sandbox is never more lenient than AWS where AWS publishes its rates.
 * - EC2 has the token buckets AWS documents (EC2_DEFAULTS below, "Request throttling for the Amazon EC2
 *   API"): per action, sized by the action's category; configured rates add to them, never replace them.
 * - Elastic Load Balancing v2 has the token buckets AWS documents (ELBV2_* below, "Request throttling for
 *   the Elastic Load Balancing API"): an account-level bucket shared by every ELBv2 action AND a bucket per
 *   category; a call draws from both. Configured rates add to them, never replace them.
 * - Auto Scaling and Systems Manager publish no request rate that this sandbox has looked up (Auto
 *   Scaling: "all Amazon EC2 Auto Scaling API calls have a single, shared API limit", its value
 *   unpublished), so they have NO default rate: only what is configured applies.
 * - Other services are refused in the settings: their throttling answer has not been looked up, and an
 *   error shape written from memory would make the sandbox disagree with AWS unnoticed.
 *
 * Bucket keys: `service:Operation` (one API), or `service` (one bucket shared by every call to the
 * service, the shape AWS describes for Auto Scaling). A call takes a token from each bucket that
 * applies, and is refused when any of them is empty.
 */
import { ApiError, ec2QueryError, jsonError, NS, queryError, type Reply } from './wire';

/** One token bucket: at most `burst` calls at once, then `refillPerSecond` calls a second. */
export interface BucketSettings {
  readonly burst: number;
  readonly refillPerSecond: number;
}

export interface ThrottleSettings {
  /**
   * Configured buckets by key (`service:Operation` or `service`), e.g.
   * `{ 'ssm:SendCommand': { burst: 5, refillPerSecond: 2 }, autoscaling: { burst: 20, refillPerSecond: 10 } }`.
   * A call draws from every bucket that applies (its operation's, its service's, EC2's documented one).
   */
  readonly rates?: Readonly<Record<string, BucketSettings>>;
}

export class ThrottleSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ThrottleSettingsError';
  }
}

/**
 * What each service answers a throttled call with (code, HTTP status, message), in its own protocol.
 * EC2: RequestLimitExceeded, 503, "Request limit exceeded." (Query API, Response/Errors shape).
 * Auto Scaling and ELBv2 (awsQuery): Throttling, 400, "Rate exceeded" (ErrorResponse shape).
 * SSM (awsJson1_1): ThrottlingException, 400, "Rate exceeded".
 * Sources: test/contracts/catalogue (ids *.throttling.*).
 */
export const THROTTLING_ERRORS = {
  ec2: { code: 'RequestLimitExceeded', status: 503, message: 'Request limit exceeded.' },
  autoscaling: { code: 'Throttling', status: 400, message: 'Rate exceeded' },
  elasticloadbalancing: { code: 'Throttling', status: 400, message: 'Rate exceeded' },
  ssm: { code: 'ThrottlingException', status: 400, message: 'Rate exceeded' },
} as const;

export type ThrottledService = keyof typeof THROTTLING_ERRORS;

export function isThrottledService(service: string | undefined): service is ThrottledService {
  return service !== undefined && Object.hasOwn(THROTTLING_ERRORS, service);
}

/** The throttling answer of `service`, as the front sends it. */
export function throttlingReply(service: ThrottledService): Reply {
  const { code, status, message } = THROTTLING_ERRORS[service];
  const error = new ApiError(code, message, status);
  if (service === 'ec2') return ec2QueryError(error);
  if (service === 'ssm') return jsonError(error);
  return queryError(service === 'autoscaling' ? NS.autoscaling : NS.elasticloadbalancing, error);
}

/*
 * EC2's documented request token buckets ("Request token bucket sizes and refill rates"). Each action
 * has its own bucket ("each API is evaluated individually"), sized by its category.
 */
/** Non-mutating actions: Describe*, List*, Search*, Get* not in another category. */
export const EC2_NON_MUTATING: BucketSettings = { burst: 100, refillPerSecond: 20 };
/** Unfiltered and unpaginated non-mutating actions: these actions called without a filter or pagination use a smaller bucket. */
export const EC2_UNFILTERED: BucketSettings = { burst: 50, refillPerSecond: 10 };
export const EC2_UNFILTERED_ACTIONS: ReadonlySet<string> = new Set(['DescribeInstances', 'DescribeInstanceStatus', 'DescribeNetworkInterfaces', 'DescribeSecurityGroups', 'DescribeSnapshots', 'DescribeSpotInstanceRequests', 'DescribeVolumes']);
/** Mutating actions (and the resource-intensive ones, same size, separate buckets). */
export const EC2_MUTATING: BucketSettings = { burst: 50, refillPerSecond: 5 };
/** Uncategorized actions with their own sizes: the ones this project or its sandbox calls. */
export const EC2_UNCATEGORIZED: Readonly<Record<string, BucketSettings>> = {
  CreateTags: { burst: 100, refillPerSecond: 10 },
  DeleteTags: { burst: 100, refillPerSecond: 10 },
  CreateVolume: { burst: 100, refillPerSecond: 5 },
  DeleteVolume: { burst: 100, refillPerSecond: 5 },
  CreateSnapshot: { burst: 100, refillPerSecond: 5 },
  DeleteSnapshot: { burst: 100, refillPerSecond: 5 },
  CreateLaunchTemplateVersion: { burst: 100, refillPerSecond: 5 },
  ModifyLaunchTemplate: { burst: 100, refillPerSecond: 5 },
  CreateNetworkInterface: { burst: 100, refillPerSecond: 5 },
  DeleteNetworkInterface: { burst: 100, refillPerSecond: 5 },
  AssociateIamInstanceProfile: { burst: 100, refillPerSecond: 5 },
  ModifyInstanceMetadataOptions: { burst: 100, refillPerSecond: 5 },
  RunInstances: { burst: 5, refillPerSecond: 2 },
  StartInstances: { burst: 5, refillPerSecond: 2 },
  TerminateInstances: { burst: 100, refillPerSecond: 5 },
};

const NON_MUTATING_PREFIX = /^(Describe|List|Search|Get)/;

/** True when an EC2 Query request names a filter or pagination (then the standard, larger bucket applies). */
function isFilteredOrPaginated(form: URLSearchParams): boolean {
  for (const key of form.keys()) if (key.startsWith('Filter.') || key === 'MaxResults' || key === 'NextToken') return true;
  return false;
}

/** The documented EC2 bucket of this call, with its key (the unfiltered bucket is a bucket of its own). */
export function ec2DefaultBucket(action: string, form: URLSearchParams): { key: string; settings: BucketSettings } {
  const uncategorized = EC2_UNCATEGORIZED[action];
  if (uncategorized) return { key: `ec2:${action}`, settings: uncategorized };
  if (EC2_UNFILTERED_ACTIONS.has(action) && !isFilteredOrPaginated(form)) return { key: `ec2:${action} (unfiltered, unpaginated)`, settings: EC2_UNFILTERED };
  if (NON_MUTATING_PREFIX.test(action)) return { key: `ec2:${action}`, settings: EC2_NON_MUTATING };
  return { key: `ec2:${action}`, settings: EC2_MUTATING };
}

/*
 * Elastic Load Balancing's documented request token buckets for API version 2 ("Request token bucket sizes
 * and refill rates"; version 1, Classic Load Balancers, has buckets of its own and is not emulated here).
 * "There is an account-level throttling limit that is shared across all Elastic Load Balancing API
 * actions": 40 tokens, 10 a second. Beside it, each category has its own limits: one bucket per category
 * (the page's example counts "Describe*" requests together), shared by the category's actions.
 */
/** The account-level bucket every ELBv2 call draws from. */
export const ELBV2_ACCOUNT: BucketSettings = { burst: 40, refillPerSecond: 10 };
/** Resource-intensive actions: "even lower throttling limit than mutating actions"; 0.2 a second, one token every 5 s. */
export const ELBV2_RESOURCE_INTENSIVE: BucketSettings = { burst: 10, refillPerSecond: 0.2 };
/** Registration actions (register or deregister targets), throttled separately from other mutating actions. */
export const ELBV2_REGISTRATION: BucketSettings = { burst: 20, refillPerSecond: 4 };
/** Non-mutating actions. */
export const ELBV2_NON_MUTATING: BucketSettings = { burst: 40, refillPerSecond: 10 };
/** Mutating actions: the listed ones and, as the page says, "generally ... all API actions that are not categorized as non-mutating". */
export const ELBV2_MUTATING: BucketSettings = { burst: 20, refillPerSecond: 3 };

/** The ELBv2 actions of each category, as the page's table lists them; an unlisted action is mutating. */
export const ELBV2_CATEGORIES: Readonly<Record<string, { readonly settings: BucketSettings; readonly actions: ReadonlySet<string> }>> = {
  'resource-intensive': { settings: ELBV2_RESOURCE_INTENSIVE, actions: new Set(['CreateLoadBalancer', 'SetSubnets']) },
  registration: { settings: ELBV2_REGISTRATION, actions: new Set(['RegisterTargets', 'DeregisterTargets']) },
  'non-mutating': {
    settings: ELBV2_NON_MUTATING,
    actions: new Set([
      'DescribeAccountLimits', 'DescribeCapacityReservation', 'DescribeListenerAttributes', 'DescribeListenerCertificates', 'DescribeListeners',
      'DescribeLoadBalancerAttributes', 'DescribeLoadBalancers', 'DescribeRules', 'DescribeSSLPolicies', 'DescribeTags',
      'DescribeTargetGroupAttributes', 'DescribeTargetGroups', 'DescribeTargetHealth',
    ]),
  },
  // The uncategorized actions (trust stores, resource policies), one bucket per row of the page's second table.
  'uncategorized CreateTrustStore': { settings: { burst: 10, refillPerSecond: 0.2 }, actions: new Set(['CreateTrustStore']) },
  'uncategorized trust store changes': {
    settings: { burst: 10, refillPerSecond: 0.2 },
    actions: new Set(['AddTrustStoreRevocations', 'DeleteSharedTrustStoreAssociation', 'DeleteTrustStore', 'ModifyTrustStore', 'RemoveTrustStoreRevocations']),
  },
  'uncategorized Get*': { settings: { burst: 20, refillPerSecond: 4 }, actions: new Set(['GetResourcePolicy', 'GetTrustStoreCaCertificatesBundle', 'GetTrustStoreRevocationContent']) },
  'uncategorized trust store reads': { settings: { burst: 40, refillPerSecond: 10 }, actions: new Set(['DescribeTrustStoreAssociations', 'DescribeTrustStoreRevocations', 'DescribeTrustStores']) },
};

/** The documented ELBv2 buckets of this call: the account-level one and its category's, with their keys. */
export function elbv2DefaultBuckets(action: string): { key: string; settings: BucketSettings }[] {
  const account = { key: 'elasticloadbalancing (account-level)', settings: ELBV2_ACCOUNT };
  for (const [category, { settings, actions }] of Object.entries(ELBV2_CATEGORIES)) {
    if (actions.has(action)) return [account, { key: `elasticloadbalancing (${category})`, settings }];
  }
  return [account, { key: 'elasticloadbalancing (mutating)', settings: ELBV2_MUTATING }];
}

const KEY = /^([a-z0-9-]+)(?::([A-Za-z0-9]+))?$/;

function checkBucket(key: string, value: unknown): BucketSettings {
  if (typeof value !== 'object' || value === null) throw new ThrottleSettingsError(`throttle rate '${key}' must be an object { burst, refillPerSecond }, got ${JSON.stringify(value)}`);
  const { burst, refillPerSecond } = value as Partial<BucketSettings>;
  if (typeof burst !== 'number' || !Number.isInteger(burst) || burst < 1) throw new ThrottleSettingsError(`throttle rate '${key}': burst must be an integer of at least 1 (the calls a full bucket admits at once), got ${String(burst)}`);
  if (typeof refillPerSecond !== 'number' || !Number.isFinite(refillPerSecond) || refillPerSecond <= 0) {
    throw new ThrottleSettingsError(`throttle rate '${key}': refillPerSecond must be a finite number above 0 (tokens added each second), got ${String(refillPerSecond)}`);
  }
  return { burst, refillPerSecond };
}

/** Validated, frozen settings: keys well formed, services whose throttling answer is known, positive rates. */
export function parseThrottleSettings(settings: ThrottleSettings): ReadonlyMap<string, BucketSettings> {
  if (typeof settings !== 'object' || settings === null) throw new ThrottleSettingsError(`throttle settings must be an object, got ${JSON.stringify(settings)}`);
  const rates = new Map<string, BucketSettings>();
  for (const [key, value] of Object.entries(settings.rates ?? {})) {
    const m = KEY.exec(key);
    if (!m) throw new ThrottleSettingsError(`throttle rate key '${key}' must be 'service' or 'service:Operation' (e.g. 'ssm:SendCommand'), as the SigV4 scope names the service`);
    if (!isThrottledService(m[1])) {
      throw new ThrottleSettingsError(`throttle rate '${key}': service '${m[1]}' has no looked-up throttling answer; throttled services are ${Object.keys(THROTTLING_ERRORS).join(', ')}`);
    }
    rates.set(key, checkBucket(key, value));
  }
  return rates;
}

export interface ThrottledCall {
  readonly service: string;
  readonly operation: string;
  /** The front's clock (ms) when the call was refused. */
  readonly at: number;
}

interface Bucket {
  readonly settings: BucketSettings;
  tokens: number;
  at: number;
}

/** The token buckets of one front; `now` is the front's clock, so tests can drive time. */
export class Throttle {
  private readonly rates: ReadonlyMap<string, BucketSettings>;
  private readonly buckets = new Map<string, Bucket>();
  /** Every call refused, in order. */
  readonly throttled: ThrottledCall[] = [];
  private readonly admitted = new Map<string, number>();

  constructor(settings: ThrottleSettings, private readonly now: () => number) {
    this.rates = parseThrottleSettings(settings);
  }

  /**
   * Every bucket this call draws from: the configured ones (its operation's, its service's) AND, for
   * EC2 and ELBv2, the documented ones. Configured rates add to what AWS documents and never replace it, so no
   * setting makes the sandbox more lenient than AWS.
   */
  private bucketsFor(service: ThrottledService, operation: string, form: URLSearchParams | undefined): { key: string; settings: BucketSettings }[] {
    const found: { key: string; settings: BucketSettings }[] = [];
    const exact = this.rates.get(`${service}:${operation}`);
    if (exact) found.push({ key: `configured ${service}:${operation}`, settings: exact });
    const whole = this.rates.get(service);
    if (whole) found.push({ key: `configured ${service}`, settings: whole });
    if (service === 'ec2') {
      const documented = ec2DefaultBucket(operation, form ?? new URLSearchParams());
      found.push({ key: `documented ${documented.key}`, settings: documented.settings });
    }
    if (service === 'elasticloadbalancing') {
      for (const documented of elbv2DefaultBuckets(operation)) found.push({ key: `documented ${documented.key}`, settings: documented.settings });
    }
    return found;
  }

  /** The bucket's tokens now (refilled since its last use). */
  private refilled(key: string, settings: BucketSettings, now: number): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { settings, tokens: settings.burst, at: now };
      this.buckets.set(key, bucket);
    }
    const elapsedMs = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(bucket.settings.burst, bucket.tokens + (elapsedMs * bucket.settings.refillPerSecond) / 1000);
    bucket.at = now;
    return bucket;
  }

  /**
   * Takes a token for this call from each of its buckets: undefined when admitted, else the service's
   * throttling answer (and the call is recorded in `throttled`); a refused call takes no token.
   * `form`: the Query request's parameters (EC2's unfiltered bucket).
   */
  admit(service: string | undefined, operation: string, form?: URLSearchParams): Reply | undefined {
    if (!isThrottledService(service) || operation === '') return undefined;
    const now = this.now();
    const buckets = this.bucketsFor(service, operation, form).map((b) => this.refilled(b.key, b.settings, now));
    if (buckets.some((bucket) => bucket.tokens < 1)) {
      this.throttled.push({ service, operation, at: now });
      return throttlingReply(service);
    }
    for (const bucket of buckets) bucket.tokens -= 1;
    const key = `${service}:${operation}`;
    this.admitted.set(key, (this.admitted.get(key) ?? 0) + 1);
    return undefined;
  }

  /** Calls admitted per `service:Operation` (services that can be throttled only). */
  admittedCalls(): Record<string, number> {
    return Object.fromEntries(this.admitted);
  }
}
