/**
 * What the front refuses before forwarding a request to moto: the limits AWS
 * enforces and moto 5.2.1 does not (limits.ts), answered in each service's
 * own protocol; and what AWS may answer in parts that moto answers whole (a
 * DynamoDB Scan page), asked of moto in parts. Requests these rules do not
 * cover go to moto unchanged.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { cloudWatchRefusal, createTagsRefusal, deleteParametersRefusal, documentRefusal, putParameterRefusal, queryAttributes, queueAttributesRefusal, snsPublishRefusal, snsPublishRewrite } from './limits';
import { scheduleExpressionRefusal } from './schedule-expression';
import { ApiError, ec2QueryError, jsonError, NS, queryError, type Reply } from './wire';

function parseJson(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** awsJson1_0 errors (CloudWatch): the JSON 1.1 shape with the 1.0 content type. */
function json10Error(error: ApiError): Reply {
  const reply = jsonError(error);
  return { ...reply, headers: { ...reply.headers, 'content-type': 'application/x-amz-json-1.0' } };
}

/** The refusal AWS would answer for this request, in the service's protocol; undefined to forward it. */
export function forwardRefusal(service: string | undefined, headers: IncomingHttpHeaders, body: Buffer): Reply | undefined {
  const target = typeof headers['x-amz-target'] === 'string' ? headers['x-amz-target'] : '';
  if (service === 'sns') {
    const form = new URLSearchParams(body.toString('utf8'));
    const refused = form.get('Action') === 'Publish' ? snsPublishRefusal(form) : undefined;
    return refused && queryError(NS.sns, refused);
  }
  if (service === 'ec2') {
    const form = new URLSearchParams(body.toString('utf8'));
    const refused = form.get('Action') === 'CreateTags' ? createTagsRefusal(form) : undefined;
    return refused && ec2QueryError(refused);
  }
  if (service === 'ssm' && target === 'AmazonSSM.PutParameter') {
    const input = parseJson(body);
    const refused = input && putParameterRefusal(input);
    return refused && jsonError(refused);
  }
  if (service === 'ssm' && target === 'AmazonSSM.DeleteParameters') {
    const input = parseJson(body);
    const refused = input && deleteParametersRefusal(input);
    return refused && jsonError(refused);
  }
  if (service === 'ssm' && (target === 'AmazonSSM.CreateDocument' || target === 'AmazonSSM.UpdateDocument')) {
    const input = parseJson(body);
    const refused = input && documentRefusal(input);
    return refused && jsonError(refused);
  }
  if (service === 'sqs' && (target === 'AmazonSQS.CreateQueue' || target === 'AmazonSQS.SetQueueAttributes')) {
    const input = parseJson(body);
    const attributes = input?.Attributes;
    const refused = typeof attributes === 'object' && attributes !== null ? queueAttributesRefusal(attributes as Record<string, unknown>) : undefined;
    return refused && json10Error(refused);
  }
  if (service === 'sqs' && target === '') {
    const form = new URLSearchParams(body.toString('utf8'));
    const action = form.get('Action');
    const refused = action === 'CreateQueue' || action === 'SetQueueAttributes' ? queueAttributesRefusal(queryAttributes(form)) : undefined;
    return refused && queryError(NS.sqs, refused);
  }
  if (service === 'events' && target === 'AWSEvents.PutRule') {
    const input = parseJson(body);
    const refused = input && scheduleExpressionRefusal(input);
    return refused && jsonError(refused);
  }
  if (service === 'monitoring' && target.startsWith('GraniteServiceVersion20100801.')) {
    const input = parseJson(body);
    const refused = input && cloudWatchRefusal(target.slice('GraniteServiceVersion20100801.'.length), input);
    return refused && json10Error(refused);
  }
  return undefined;
}

/**
 * A DynamoDB Scan page ends at 1 MB read "or earlier" (a LastEvaluatedKey "does not necessarily mean
 * that there is more data"); moto answers a whole small table in one page, so a reader that ignored
 * LastEvaluatedKey would pass here and miss items on AWS. A Scan without its own Limit is therefore
 * forwarded with this many items a page: every reader of a table of more items must page.
 */
export const SCAN_PAGE_ITEMS = 3;

/** The body to forward instead of this one (undefined: forward it unchanged). */
export function forwardRewrite(service: string | undefined, headers: IncomingHttpHeaders, body: Buffer): Buffer | undefined {
  if (service !== 'dynamodb' || headers['x-amz-target'] !== 'DynamoDB_20120810.Scan') return undefined;
  const input = parseJson(body);
  if (input === undefined || input.Limit !== undefined) return undefined;
  return Buffer.from(JSON.stringify({ ...input, Limit: SCAN_PAGE_ITEMS }), 'utf8');
}

/**
 * The body moto gets for a request the front forwards: unchanged, except where AWS reads less
 * than moto would (an SNS MessageStructure=json message: keys SNS ignores are dropped).
 */
export function forwardBody(service: string | undefined, body: Buffer): Buffer {
  if (service !== 'sns') return body;
  const rewritten = snsPublishRewrite(new URLSearchParams(body.toString('utf8')));
  return rewritten ? Buffer.from(rewritten.toString(), 'utf8') : body;
}
