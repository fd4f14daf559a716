/** Where the storage function's own signed EC2 calls go: the Lambda runtime's region, or an emulator's endpoint. */
import { ConfigurationError } from '../errors';
import type { Env } from './env';

export interface Ec2Endpoint {
  readonly region: string;
  /** Full URL, e.g. https://ec2.eu-west-1.amazonaws.com or http://127.0.0.1:5000 */
  readonly url: string;
}

/**
 * The variables ec2Endpoint reads (test/unit/config/variables.test.ts proves it):
 * set by the Lambda runtime (AWS_REGION) or an emulator, never by serverless.yml.
 */
export const EC2_ENDPOINT_VARIABLES = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ENDPOINT_URL_EC2', 'AWS_ENDPOINT_URL'] as const;

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/**
 * The EC2 endpoint: AWS_ENDPOINT_URL_EC2, else AWS_ENDPOINT_URL (emulators),
 * else the regional endpoint (the SDK clients find theirs themselves; EC2 is
 * our own Query call, lib/aws/ec2-volumes.ts createEc2Transport).
 */
export function ec2Endpoint(env: Env): Ec2Endpoint {
  const region = (env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? '').trim();
  if (!REGION.test(region)) throw new ConfigurationError(`EC2 endpoint: AWS_REGION must be a region name like eu-west-1, got ${JSON.stringify(region)}`);
  const override = (env.AWS_ENDPOINT_URL_EC2 ?? '').trim() || (env.AWS_ENDPOINT_URL ?? '').trim();
  const url = override || `https://ec2.${region}.amazonaws.com`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new ConfigurationError(`EC2 endpoint: ${JSON.stringify(url)} is not a URL`, { cause });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new ConfigurationError(`EC2 endpoint: ${url} must be http(s)`);
  return { region, url: parsed.toString() };
}
