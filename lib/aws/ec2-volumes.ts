import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Checksum, SourceData } from '@smithy/types';
import { child, childrenNamed, optionalChild, parseXml, type XmlElement } from '../core/storage/xml';
import { AwsCallError, MalformedEventError } from '../errors';
import { MAX_ATTEMPTS, MAX_PAGES, isThrottlingError, logDryRun, type AdapterOptions } from './call';
import type { EbsVolume, InstanceTagPort, ModificationState, VolumeModification, VolumePort } from '../ports/ec2-volumes';
import type { Ec2Endpoint } from '../config/ec2-endpoint';

/**
 * A minimal EC2 Query API port for the EBS calls grow-in-place needs
 * (DescribeVolumes, ModifyVolume, DescribeVolumesModifications). The SDK's
 * client-ec2 is 228 KB gzipped and does not tree-shake, so this adapter signs
 * its own POST (SigV4, @smithy/signature-v4) and reads the XML answer with the
 * project's strict XML reader. No other code talks to EC2. Its endpoint comes
 * from lib/config/ec2-endpoint.ts.
 */

export interface Ec2TransportOptions {
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Per-request time limit (ms); default 10 s. */
  readonly timeoutMs?: number;
  /** Between retries (throttling, 5xx, network); injectable for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Uniform in [0, 1): draws each retry's jittered delay; injectable for tests. */
  readonly random?: () => number;
  readonly fetch?: typeof fetch;
}

export const EC2_API_VERSION = '2016-11-15';
const VOLUME_ID = /^vol-[0-9a-f]{8,17}$/;
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const DEVICE = /^\/dev\/[a-z0-9]{2,16}$/;
/** Codes EC2 answers when the request was not processed (besides throttling, see isThrottlingError): safe to send again, even ModifyVolume. */
const UNAVAILABLE = new Set(['ServiceUnavailable', 'Unavailable']);

/** sha256 / HMAC-sha256 in the shape @smithy/signature-v4 expects, from node:crypto. */
export class NodeSha256 implements Checksum {
  private hash: Hash | Hmac;
  public constructor(private readonly secret?: SourceData) {
    this.hash = NodeSha256.create(secret);
  }

  private static create(secret?: SourceData): Hash | Hmac {
    return secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }

  public update(data: Uint8Array | string): void {
    this.hash.update(toBuffer(data));
  }

  public digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }

  public reset(): void {
    this.hash = NodeSha256.create(this.secret);
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** application/x-www-form-urlencoded as AWS wants it (RFC 3986: spaces as %20, !'()* escaped). */
export function encodeQuery(params: ReadonlyArray<readonly [string, string]>): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return params.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
}

export type Ec2Call = (action: string, params: ReadonlyArray<readonly [string, string]>, opts?: { readonly retryServerErrors?: boolean }) => Promise<XmlElement>;

/** Reads an EC2 error document (<Response><Errors><Error><Code/><Message/>). */
export function ec2Error(action: string, status: number, body: string): AwsCallError {
  let code = `HTTP${status}`;
  let message = body.trim().slice(0, 300) || 'empty answer';
  try {
    const root = parseXml(body, `${action} error answer`);
    const errors = root.name === 'Response' ? optionalChild(root, 'Errors', action) : undefined;
    const first = errors ? childrenNamed(errors, 'Error')[0] : undefined;
    if (first) {
      code = optionalChild(first, 'Code', action)?.text.trim() || code;
      message = optionalChild(first, 'Message', action)?.text.trim() || message;
    }
  } catch {
    // Not XML (a proxy's HTML page): keep the raw text.
  }
  return Object.assign(new AwsCallError(action, `${code}: ${message}`, { throttled: isThrottlingError({ code, status }) }), { code, status });
}

/**
 * The wait before `attempt` (2, 3, ...): "full jitter", uniform between 0 and
 * the capped exponential delay (400 ms, 800 ms, ... at most 5 s). EC2 asks for
 * exponential back-off when it answers RequestLimitExceeded, and without jitter
 * the storage functions of many launches throttled together would all retry at
 * the same instants and be throttled together again.
 */
export function retryDelayMs(attempt: number, random: () => number): number {
  const cap = Math.min(100 * 2 ** attempt, 5000);
  return Math.floor(Math.min(Math.max(random(), 0), 1) * cap);
}

/** One signed Query API POST; returns the parsed answer. Retries only what EC2 did not process. */
export function createEc2Transport(endpoint: Ec2Endpoint, options: Ec2TransportOptions): Ec2Call {
  const url = new URL(endpoint.url);
  const signer = new SignatureV4({ service: 'ec2', region: endpoint.region, credentials: options.credentials, sha256: NodeSha256 });
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const timeoutMs = options.timeoutMs ?? 10_000;

  return async function call(action, params, opts = {}) {
    const body = encodeQuery([['Action', action], ['Version', EC2_API_VERSION], ...params]);
    let last: AwsCallError | undefined;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      if (attempt > 1) await sleep(retryDelayMs(attempt, random));
      const signed = await signer.sign({
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname || '/',
        query: {},
        headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body,
      });
      let response: Response;
      let text: string;
      try {
        response = await doFetch(url, { method: 'POST', headers: signed.headers, body, signal: AbortSignal.timeout(timeoutMs) });
        text = await response.text();
      } catch (cause) {
        // Unknown whether EC2 processed it: reads are retried, a modification only when asked.
        last = new AwsCallError(action, `request to ${url.host} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
        if (opts.retryServerErrors === false) throw last;
        continue;
      }
      if (response.ok) return parseXml(text, `${action} answer`);
      last = ec2Error(action, response.status, text);
      const code = (last as AwsCallError & { code: string }).code;
      const retry = last.throttled || UNAVAILABLE.has(code) || (response.status >= 500 && opts.retryServerErrors !== false);
      if (!retry) throw last;
    }
    throw last ?? new AwsCallError(action, 'no attempt made');
  };
}

// --- answers ------------------------------------------------------------------------------

function text(el: XmlElement, name: string): string | undefined {
  const found = optionalChild(el, name, 'EC2 answer');
  return found ? found.text.trim() : undefined;
}

function whole(el: XmlElement, name: string, what: string): number {
  const raw = text(el, name);
  if (raw === undefined || !/^[0-9]+$/.test(raw)) throw new MalformedEventError(`${what}: <${name}> is not a whole number: ${JSON.stringify(raw)}`);
  return Number(raw);
}

function items(el: XmlElement, setName: string): XmlElement[] {
  const set = optionalChild(el, setName, 'EC2 answer');
  return set ? childrenNamed(set, 'item') : [];
}

export function parseVolume(item: XmlElement): EbsVolume {
  const what = 'DescribeVolumes answer';
  const volumeId = text(item, 'volumeId');
  if (!volumeId) throw new MalformedEventError(`${what}: a volume has no <volumeId>`);
  return {
    volumeId,
    sizeGiB: whole(item, 'size', `${what} (${volumeId})`),
    state: text(item, 'status') ?? 'unknown',
    zone: text(item, 'availabilityZone') ?? '',
    volumeType: text(item, 'volumeType') ?? '',
    attachments: items(item, 'attachmentSet').map((a) => ({
      instanceId: text(a, 'instanceId') ?? '',
      device: text(a, 'device') ?? '',
      state: text(a, 'status') ?? '',
    })),
  };
}

const STATES: ReadonlySet<string> = new Set<ModificationState>(['modifying', 'optimizing', 'completed', 'failed']);

export function parseModification(el: XmlElement, what: string): VolumeModification {
  const volumeId = text(el, 'volumeId');
  if (!volumeId) throw new MalformedEventError(`${what}: the modification has no <volumeId>`);
  const state = text(el, 'modificationState') ?? '';
  if (!STATES.has(state)) throw new MalformedEventError(`${what}: unknown modificationState ${JSON.stringify(state)} of ${volumeId}`);
  const optionalWhole = (name: string) => (text(el, name) === undefined ? undefined : whole(el, name, `${what} (${volumeId})`));
  const originalSizeGiB = optionalWhole('originalSize');
  const progress = optionalWhole('progress');
  const statusMessage = text(el, 'statusMessage');
  const startTime = text(el, 'startTime');
  return {
    volumeId,
    state: state as ModificationState,
    targetSizeGiB: whole(el, 'targetSize', `${what} (${volumeId})`),
    ...(originalSizeGiB !== undefined ? { originalSizeGiB } : {}),
    ...(progress !== undefined ? { progress } : {}),
    ...(statusMessage ? { statusMessage } : {}),
    ...(startTime ? { startTime } : {}),
  };
}

// --- the port -------------------------------------------------------------------------------

export function createVolumePort(call: Ec2Call, opts: AdapterOptions): VolumePort {
  const { dryRun, log } = opts;

  function checkVolumeId(operation: string, volumeId: string): void {
    if (!VOLUME_ID.test(volumeId)) throw new AwsCallError(operation, `not a volume id: ${JSON.stringify(volumeId)}`);
  }

  async function describeVolumes(filters: ReadonlyArray<readonly [string, string]>): Promise<EbsVolume[]> {
    const found: EbsVolume[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const root = await call('DescribeVolumes', [...filters, ...(nextToken ? [['NextToken', nextToken] as const] : [])]);
      found.push(...items(root, 'volumeSet').map(parseVolume));
      nextToken = text(root, 'nextToken') || undefined;
      if (!nextToken) return found;
    }
    throw new AwsCallError('DescribeVolumes', `more than ${MAX_PAGES} pages`);
  }

  async function findAttachedVolume(instanceId: string, device: string): Promise<EbsVolume | undefined> {
    if (!INSTANCE_ID.test(instanceId)) throw new AwsCallError('DescribeVolumes', `not an instance id: ${JSON.stringify(instanceId)}`);
    if (!DEVICE.test(device)) throw new AwsCallError('DescribeVolumes', `not a block device name: ${JSON.stringify(device)} (expected e.g. /dev/sdf)`);
    const volumes = await describeVolumes([
      ['Filter.1.Name', 'attachment.instance-id'], ['Filter.1.Value.1', instanceId],
      ['Filter.2.Name', 'attachment.device'], ['Filter.2.Value.1', device],
    ]);
    // The filters match per volume, not per attachment: check the pair on one attachment.
    const attached = volumes.filter((v) => v.attachments.some((a) => a.instanceId === instanceId && a.device === device));
    if (attached.length > 1) throw new AwsCallError('DescribeVolumes', `${attached.length} volumes attached to ${instanceId} at ${device}: ${attached.map((v) => v.volumeId).join(', ')}`);
    return attached[0];
  }

  async function describeVolume(volumeId: string): Promise<EbsVolume | undefined> {
    checkVolumeId('DescribeVolumes', volumeId);
    try {
      const [volume] = await describeVolumes([['VolumeId.1', volumeId]]);
      return volume;
    } catch (error) {
      if ((error as { code?: string }).code === 'InvalidVolume.NotFound') return undefined;
      throw error;
    }
  }

  async function modifyVolumeSize(volumeId: string, sizeGiB: number): Promise<VolumeModification> {
    const operation = 'ModifyVolume';
    checkVolumeId(operation, volumeId);
    if (!Number.isInteger(sizeGiB) || sizeGiB < 1 || sizeGiB > 65536) throw new AwsCallError(operation, `size must be a whole number of GiB from 1 to 65536, got ${sizeGiB}`);
    const params = [['VolumeId', volumeId], ['Size', String(sizeGiB)]] as const;
    if (dryRun) {
      logDryRun(log, operation, { volumeId, sizeGiB });
      return { volumeId, state: 'completed', targetSizeGiB: sizeGiB, dryRun: true };
    }
    // A 5xx may hide a modification that started: not sent again (the flow re-reads the volume instead).
    const root = await call(operation, params, { retryServerErrors: false });
    return parseModification(child(root, 'volumeModification', `${operation} answer`), `${operation} answer`);
  }

  async function latestModification(volumeId: string): Promise<VolumeModification | undefined> {
    const operation = 'DescribeVolumesModifications';
    checkVolumeId(operation, volumeId);
    const found: VolumeModification[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      let root: XmlElement;
      try {
        root = await call(operation, [['VolumeId.1', volumeId], ...(nextToken ? [['NextToken', nextToken] as const] : [])]);
      } catch (error) {
        // EC2 answers a never-modified volume with this code.
        if ((error as { code?: string }).code === 'InvalidVolumeModification.NotFound') return undefined;
        throw error;
      }
      // A never-modified volume may come back as an item without a state (fields null): no modification.
      const listed = items(root, 'volumeModificationSet').filter((i) => (text(i, 'modificationState') ?? '') !== '');
      found.push(...listed.map((i) => parseModification(i, `${operation} answer`)));
      nextToken = text(root, 'nextToken') || undefined;
      if (!nextToken) break;
    }
    // Latest first; a modification without a start time sorts last.
    return found.filter((m) => m.volumeId === volumeId).sort((a, b) => (b.startTime ?? '').localeCompare(a.startTime ?? ''))[0];
  }

  return { findAttachedVolume, describeVolume, modifyVolumeSize, latestModification };
}

// --- instance tags --------------------------------------------------------------------------

const TAG_KEY = /^[A-Za-z0-9 _.:/=+@-]{1,127}$/;

export function createInstanceTagPort(call: Ec2Call, opts: AdapterOptions): InstanceTagPort {
  const { dryRun, log } = opts;

  async function tagInstance(instanceId: string, tags: Readonly<Record<string, string>>): Promise<void> {
    const operation = 'CreateTags';
    if (!INSTANCE_ID.test(instanceId)) throw new AwsCallError(operation, `not an instance id: ${JSON.stringify(instanceId)}`);
    const entries = Object.entries(tags);
    if (entries.length < 1 || entries.length > 10) throw new AwsCallError(operation, `1 to 10 tags per call, got ${entries.length}`);
    for (const [key, value] of entries) {
      // "aws:" in any case is reserved for AWS, for keys and values alike.
      if (!TAG_KEY.test(key) || /^aws:/i.test(key)) throw new AwsCallError(operation, `tag key ${JSON.stringify(key)} is not allowed (1-127 characters, not aws:)`);
      if (value.length > 255) throw new AwsCallError(operation, `tag ${key}: value longer than 255 characters`);
      if (/^aws:/i.test(value)) throw new AwsCallError(operation, `tag ${key}: a value starting with aws: is reserved for AWS`);
    }
    if (dryRun) {
      logDryRun(log, operation, { instanceId, tags });
      return;
    }
    const params: Array<readonly [string, string]> = [['ResourceId.1', instanceId]];
    entries.forEach(([key, value], i) => params.push([`Tag.${i + 1}.Key`, key], [`Tag.${i + 1}.Value`, value]));
    // CreateTags overwrites: sending it again after a 5xx changes nothing twice.
    await call(operation, params);
  }

  return { tagInstance };
}
