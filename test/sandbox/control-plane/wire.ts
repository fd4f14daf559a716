/**
 * Wire helpers for the control plane: awsQuery form bodies and XML replies,
 * JSON 1.1 replies, service identification from the SigV4 credential scope.
 */
import { randomUUID } from 'node:crypto';

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** An API error the emulator answers itself, in the protocol of the service. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** `Credential=AKID/20240101/eu-west-1/autoscaling/aws4_request` -> `autoscaling`. */
export function serviceOf(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const m = /Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization);
  return m?.[1];
}

export function escapeXml(value: string): string {
  return value.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

/** `<Tag>value</Tag>` with escaping; undefined -> ''. */
export function el(tag: string, value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  return `<${tag}>${escapeXml(String(value))}</${tag}>`;
}

export const NS = {
  autoscaling: 'http://autoscaling.amazonaws.com/doc/2011-01-01/',
  elasticloadbalancing: 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/',
  sns: 'http://sns.amazonaws.com/doc/2010-03-31/',
  sqs: 'http://queue.amazonaws.com/doc/2012-11-05/',
} as const;

export function queryReply(action: string, namespace: string, resultXml: string): Reply {
  const body =
    `<${action}Response xmlns="${namespace}">` +
    (resultXml === '' ? `<${action}Result/>` : `<${action}Result>${resultXml}</${action}Result>`) +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
  return { status: 200, headers: { 'content-type': 'text/xml' }, body };
}

export function queryError(namespace: string, error: ApiError): Reply {
  const body =
    `<ErrorResponse xmlns="${namespace}"><Error><Type>Sender</Type>${el('Code', error.code)}${el('Message', error.message)}</Error>` +
    `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
  return { status: error.status, headers: { 'content-type': 'text/xml' }, body };
}

/** EC2's Query error shape (Response/Errors/Error), not the awsQuery ErrorResponse. */
export function ec2QueryError(error: ApiError): Reply {
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>${el('Code', error.code)}${el('Message', error.message)}</Error></Errors>` +
    `${el('RequestID', randomUUID())}</Response>`;
  return { status: error.status, headers: { 'content-type': 'text/xml' }, body };
}

export function jsonReply(value: unknown): Reply {
  return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() }, body: JSON.stringify(value) };
}

export function jsonError(error: ApiError): Reply {
  return {
    status: error.status,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': error.code, 'x-amzn-requestid': randomUUID() },
    body: JSON.stringify({ __type: error.code, message: error.message }),
  };
}

/** awsQuery `Targets.member.1.Id=..&Targets.member.1.Port=..` -> [{Id, Port}]. */
export function memberList(form: URLSearchParams, prefix: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (let i = 1; i <= 1000; i += 1) {
    const entry: Record<string, string> = {};
    let found = false;
    for (const [key, value] of form) {
      const head = `${prefix}.member.${i}.`;
      if (key.startsWith(head)) {
        entry[key.slice(head.length)] = value;
        found = true;
      } else if (key === `${prefix}.member.${i}`) {
        entry[''] = value;
        found = true;
      }
    }
    if (!found) break;
    out.push(entry);
  }
  return out;
}

export function requiredParam(form: URLSearchParams, name: string): string {
  const value = form.get(name);
  if (value === null || value === '') throw new ApiError('ValidationError', `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`);
  return value;
}

/** AWS event time format: seconds precision, Z. */
export function awsTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
