/**
 * How each service refuses a call its caller may not make, in that service's
 * own protocol (sources in test/contracts/catalogue/iam.yml):
 *
 * - Auto Scaling, ELBv2 (awsQuery): `AccessDenied`, HTTP 403, XML ErrorResponse.
 * - SNS (awsQuery): `AuthorizationError`, HTTP 403 ("Indicates that the user has
 *   been denied access to the requested resource").
 * - EC2 (EC2 query): `UnauthorizedOperation`, HTTP 403, with an encoded
 *   authorization failure message.
 * - SSM (JSON 1.1): `AccessDeniedException`, HTTP 400.
 * - SQS and CloudWatch (JSON 1.0, awsQueryCompatible): `__type` AccessDeniedException
 *   plus `x-amzn-query-error: AccessDenied;Sender`, HTTP 400; the SDK reports the
 *   query-compatible code, `AccessDenied`.
 * - DynamoDB (JSON 1.0): `AccessDeniedException`, HTTP 400.
 */
import { randomUUID } from 'node:crypto';
import type { Reply } from '../control-plane/wire';
import { escapeXml } from '../control-plane/wire';
import { LITERAL_STAR } from './checks';
import type { Protocol } from './request';

const QUERY_NAMESPACE: Readonly<Record<string, string>> = {
  autoscaling: 'http://autoscaling.amazonaws.com/doc/2011-01-01/',
  elasticloadbalancing: 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/',
  sns: 'http://sns.amazonaws.com/doc/2010-03-31/',
};

/** JSON 1.0 services whose SDK reads the query-compatible code from x-amzn-query-error. */
const QUERY_COMPATIBLE = new Set(['sqs', 'monitoring']);
/** JSON services on protocol 1.0 (the rest of the JSON ones, SSM, are 1.1). */
const JSON_1_0 = new Set([...QUERY_COMPATIBLE, 'dynamodb']);

export interface Refusal {
  readonly signingName: string;
  readonly protocol: Protocol;
  readonly message: string;
}

/** The message AWS gives a role session refused by its identity policies. */
export function deniedMessage(sessionArn: string, action: string, resource: string, explicit: boolean): string {
  const on = resource === '*' ? '' : ` on resource: ${resource.replaceAll(LITERAL_STAR, '*')}`;
  const why = explicit ? 'with an explicit deny in an identity-based policy' : `because no identity-based policy allows the ${action} action`;
  return `User: ${sessionArn} is not authorized to perform: ${action}${on} ${why}`;
}

function queryReply(namespace: string, code: string, message: string, status: number): Reply {
  const body =
    `<ErrorResponse xmlns="${namespace}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>` +
    `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
  return { status, headers: { 'content-type': 'text/xml' }, body };
}

function ec2Reply(code: string, message: string, status: number): Reply {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`;
  return { status, headers: { 'content-type': 'text/xml' }, body };
}

function jsonReply(type: string, queryCode: string | undefined, message: string, status: number, contentType: string): Reply {
  return {
    status,
    headers: {
      'content-type': contentType,
      'x-amzn-errortype': type,
      'x-amzn-requestid': randomUUID(),
      ...(queryCode !== undefined ? { 'x-amzn-query-error': `${queryCode};Sender` } : {}),
    },
    body: JSON.stringify({ __type: type, message }),
  };
}

/** The refusal of an IAM denial, as the service answers it. */
export function accessDenied(r: Refusal): Reply {
  if (r.protocol === 'ec2') return ec2Reply('UnauthorizedOperation', `You are not authorized to perform this operation. ${r.message}. Encoded authorization failure message: ${Buffer.from(r.message).toString('base64')}`, 403);
  if (r.protocol === 'query') {
    const namespace = QUERY_NAMESPACE[r.signingName] ?? 'https://sandbox.invalid/doc/';
    return queryReply(namespace, r.signingName === 'sns' ? 'AuthorizationError' : 'AccessDenied', r.message, 403);
  }
  if (QUERY_COMPATIBLE.has(r.signingName)) return jsonReply('com.amazon.coral.service#AccessDeniedException', 'AccessDenied', r.message, 400, 'application/x-amz-json-1.0');
  if (JSON_1_0.has(r.signingName)) return jsonReply('com.amazon.coral.service#AccessDeniedException', undefined, r.message, 400, 'application/x-amz-json-1.0');
  return jsonReply('AccessDeniedException', undefined, r.message, 400, 'application/x-amz-json-1.1');
}

/** An access key id nobody issued (a function key the front was not told about). */
export function invalidToken(r: Omit<Refusal, 'message'>): Reply {
  const message = 'The security token included in the request is invalid.';
  if (r.protocol === 'ec2') return ec2Reply('AuthFailure', message, 401);
  if (r.protocol === 'query') return queryReply(QUERY_NAMESPACE[r.signingName] ?? 'https://sandbox.invalid/doc/', 'InvalidClientTokenId', message, 403);
  return jsonReply('UnrecognizedClientException', QUERY_COMPATIBLE.has(r.signingName) ? 'InvalidClientTokenId' : undefined, message, 400, JSON_1_0.has(r.signingName) ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1');
}

/** The sandbox cannot tell what IAM would decide: fail loudly, never pass. */
export function cannotAuthorize(r: Refusal): Reply {
  const message = `sandbox IAM check: ${r.message}`;
  if (r.protocol === 'ec2') return ec2Reply('InternalError', message, 500);
  if (r.protocol === 'query') return queryReply(QUERY_NAMESPACE[r.signingName] ?? 'https://sandbox.invalid/doc/', 'InternalFailure', message, 500);
  return jsonReply('InternalFailure', undefined, message, 500, 'application/x-amz-json-1.1');
}
