/**
 * One request to the emulator, as IAM sees it: the service (from the SigV4
 * credential scope), the operation and its parameters, whatever the wire
 * protocol (awsQuery / EC2 forms with `Action=`, or JSON 1.0 / 1.1 with
 * `X-Amz-Target: <prefix>.<Operation>`).
 */
import type { IncomingHttpHeaders } from 'node:http';

export type Protocol = 'query' | 'ec2' | 'json';

export interface ApiCall {
  /** SigV4 signing name, e.g. `autoscaling`, `monitoring`. */
  readonly signingName: string;
  readonly protocol: Protocol;
  readonly operation: string;
  /** Form fields (query, ec2) flattened as sent; for JSON the parsed body. */
  readonly form: URLSearchParams;
  readonly json: Readonly<Record<string, unknown>>;
}

export class RequestParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestParseError';
  }
}

/** `Credential=AKID/20240101/eu-west-1/autoscaling/aws4_request` -> `autoscaling`. */
export function signingNameOf(authorization: string | undefined): string | undefined {
  return /Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization ?? '')?.[1];
}

export function parseCall(headers: IncomingHttpHeaders, body: Buffer): ApiCall {
  const signingName = signingNameOf(headers.authorization);
  if (signingName === undefined) throw new RequestParseError('the request carries no SigV4 credential scope');
  const target = headers['x-amz-target'];
  if (typeof target === 'string' && target !== '') {
    let json: Record<string, unknown> = {};
    if (body.length > 0) {
      try {
        const parsed: unknown = JSON.parse(body.toString('utf8'));
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
      } catch {
        throw new RequestParseError(`${target}: the body is not JSON`);
      }
    }
    return { signingName, protocol: 'json', operation: target.slice(target.lastIndexOf('.') + 1), form: new URLSearchParams(), json };
  }
  const form = new URLSearchParams(body.toString('utf8'));
  const operation = form.get('Action');
  if (operation === null || operation === '') throw new RequestParseError(`${signingName}: no X-Amz-Target and no Action in the form`);
  return { signingName, protocol: signingName === 'ec2' ? 'ec2' : 'query', operation, form, json: {} };
}

/** awsQuery / EC2 list members: `InstanceIds.member.1`, `ResourceId.1`, ... in order. */
export function formList(form: URLSearchParams, name: string): string[] {
  const out: string[] = [];
  for (let i = 1; i <= 1000; i += 1) {
    const value = form.get(`${name}.member.${i}`) ?? form.get(`${name}.${i}`);
    if (value === null) break;
    out.push(value);
  }
  return out;
}
