/**
 * Who calls the emulator. Each function signs with an access key id derived
 * from its execution role, so the front can tell a function's request from the
 * sandbox's own setup (which signs with `testing`, unrestricted) and evaluate
 * it against that role's policies.
 *
 * Lambda hands a function temporary credentials of its role; temporary (STS)
 * access key ids start with `ASIA` (IAM User Guide, "IAM identifiers": "ASIA:
 * Temporary (AWS STS) access key IDs"), so the derived ids do too.
 */
import { createHash } from 'node:crypto';
import type { DeployedRole } from '../stack/deploy';

export const ROLE_KEY_PREFIX = 'ASIA';

/**
 * 20 characters, `ASIA` + 16 upper-case hex digits of a hash of the role ARN and the function
 * name: one key per function (its role session), even when functions share a role.
 */
export function accessKeyIdOf(fn: { readonly role: Pick<DeployedRole, 'arn'>; readonly functionName: string }): string {
  return `${ROLE_KEY_PREFIX}${createHash('sha256').update(`${fn.role.arn}\n${fn.functionName}`).digest('hex').slice(0, 16).toUpperCase()}`;
}

/** Whether `accessKeyId` is one the runner hands to functions (then it must be known to the front). */
export function isRoleAccessKey(accessKeyId: string): boolean {
  return /^ASIA[0-9A-F]{16}$/.test(accessKeyId);
}

/** `Credential=AKID/20240101/eu-west-1/autoscaling/aws4_request` -> `AKID`. */
export function accessKeyIdOfRequest(authorization: string | undefined): string | undefined {
  const m = /Credential=([^/,\s]+)\//.exec(authorization ?? '');
  return m?.[1];
}

/** The assumed-role session ARN AWS names in an AccessDenied message for a Lambda function. */
export function sessionArnOf(role: Pick<DeployedRole, 'arn' | 'name'>, functionName: string): string {
  const account = role.arn.split(':')[4] ?? '';
  return `arn:aws:sts::${account}:assumed-role/${role.name}/${functionName}`;
}
