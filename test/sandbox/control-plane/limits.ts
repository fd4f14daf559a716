/**
 * Request limits AWS enforces and moto 5.2.1 does not, for the services the control plane forwards
 * to moto untouched (SNS Publish, Parameter Store PutParameter, EC2 CreateTags). Each check answers
 * the ApiError AWS would answer, or undefined; the caller (front.ts, where each protocol is decoded)
 * sends it instead of forwarding. Sources: test/contracts/catalogue/{sns,parameter-store,ec2}.yml.
 */
import { ApiError } from './wire';

/** SNS Publish: "Subjects must be UTF-8 text with no line breaks or control characters, and less than 100 characters long." */
export const SNS_SUBJECT_MAX = 99;
/** SNS Publish: "at most 256 KB in size (262,144 bytes, not 262,144 characters)". */
export const SNS_MESSAGE_MAX_BYTES = 262_144;
/** SNS message attribute names: letters, digits, _ - ., at most 256, no AWS./Amazon. prefix, no leading/trailing/double dot. */
const SNS_ATTRIBUTE_NAME = /^(?!\.)(?!aws\.)(?!amazon\.)(?!.*\.\.)[A-Za-z0-9_.-]{1,256}(?<!\.)$/i;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The SNS Publish request (awsQuery form) as AWS would refuse it. */
export function snsPublishRefusal(form: URLSearchParams): ApiError | undefined {
  const subject = form.get('Subject');
  if (subject !== null) {
    if ([...subject].length > SNS_SUBJECT_MAX) return new ApiError('InvalidParameter', 'Invalid parameter: Subject (must be less than 100 characters long)');
    if (CONTROL.test(subject)) return new ApiError('InvalidParameter', 'Invalid parameter: Subject (no line breaks or control characters)');
  }
  const message = form.get('Message') ?? '';
  if (message === '') return new ApiError('InvalidParameter', 'Invalid parameter: Empty message');
  // "All parts of the message attribute, including name, type, and value, are included in the message size restriction".
  if (Buffer.byteLength(message, 'utf8') + snsAttributeBytes(form) > SNS_MESSAGE_MAX_BYTES) return new ApiError('InvalidParameter', 'Invalid parameter: Message too long');
  for (const [key, name] of form) {
    if (!/^MessageAttributes\.entry\.\d+\.Name$/.test(key)) continue;
    if (!SNS_ATTRIBUTE_NAME.test(name)) return new ApiError('InvalidParameterValue', `Invalid attribute name: ${name}`);
  }
  if (form.get('MessageStructure') === 'json') return messageStructureRefusal(message);
  return undefined;
}

/** Bytes of the message attributes (names, data types, values) of an awsQuery Publish. */
function snsAttributeBytes(form: URLSearchParams): number {
  let bytes = 0;
  for (const [key, value] of form) {
    if (/^MessageAttributes\.entry\.\d+\.(Name|Value\.DataType|Value\.StringValue|Value\.BinaryValue)$/.test(key)) bytes += Buffer.byteLength(value, 'utf8');
  }
  return bytes;
}

/**
 * The keys of a MessageStructure=json message that reach a topic's subscribers: `default` and the
 * Subscribe protocols (API_Subscribe, Protocol). Mobile platform keys (APNS, GCM...) address
 * platform endpoints, which the sandbox has none of, so they are dropped here with the rest.
 */
export const SNS_PROTOCOL_KEYS: readonly string[] = ['default', 'http', 'https', 'email', 'email-json', 'sms', 'sqs', 'application', 'lambda', 'firehose'];

/**
 * MessageStructure=json (responses recorded against SNS by LocalStack's validated tests): a body
 * that is not a JSON object "failed to parse"; no `default` entry, or a `default` that is not a
 * string, is "No default entry in JSON message body". moto 5.2.1 checks only while delivering,
 * after earlier subscribers got the message, and not at all without subscribers.
 */
function messageStructureRefusal(message: string): ApiError | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return new ApiError('InvalidParameter', 'Invalid parameter: Message Structure - JSON message body failed to parse');
  }
  if (typeof (parsed as Record<string, unknown>).default !== 'string') {
    return new ApiError('InvalidParameter', 'Invalid parameter: Message Structure - No default entry in JSON message body');
  }
  return undefined;
}

/**
 * The Publish moto should see for one SNS would accept: with MessageStructure=json, SNS ignores a
 * key whose value is not a string ("Non-string values will cause the key to be ignored") and keys
 * that name no protocol; moto would deliver such an object as the message. Undefined: unchanged.
 */
export function snsPublishRewrite(form: URLSearchParams): URLSearchParams | undefined {
  if (form.get('Action') !== 'Publish' || form.get('MessageStructure') !== 'json') return undefined;
  const parsed = JSON.parse(form.get('Message') ?? '{}') as Record<string, unknown>;
  const kept = Object.fromEntries(Object.entries(parsed).filter(([key, value]) => typeof value === 'string' && SNS_PROTOCOL_KEYS.includes(key)));
  if (Object.keys(kept).length === Object.keys(parsed).length) return undefined;
  const rewritten = new URLSearchParams(form);
  rewritten.set('Message', JSON.stringify(kept));
  return rewritten;
}

/** Parameter Store: names of a-zA-Z0-9_.-/ only, at most 1011 characters, 15 levels, not prefixed aws or ssm. */
export const PARAMETER_NAME_MAX = 1011;
export const PARAMETER_LEVELS_MAX = 15;
/** PutParameter Value: "Standard parameters have a value limit of 4 KB. Advanced parameters have a value limit of 8 KB." */
export const PARAMETER_VALUE_MAX = { Standard: 4096, Advanced: 8192 } as const;

/** The PutParameter request (JSON body) as AWS would refuse it. */
export function putParameterRefusal(input: Record<string, unknown>): ApiError | undefined {
  const name = typeof input.Name === 'string' ? input.Name : '';
  const value = typeof input.Value === 'string' ? input.Value : '';
  if (!/^[A-Za-z0-9_.\-/]+$/.test(name)) return new ApiError('ValidationException', `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive) and must only contain a-zA-Z0-9_.-/: ${name}`);
  if (/^\/?(aws|ssm)/i.test(name)) return new ApiError('ValidationException', `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive): ${name}`);
  if (name.length > PARAMETER_NAME_MAX) return new ApiError('ValidationException', `Parameter name is longer than ${PARAMETER_NAME_MAX} characters`);
  const levels = name.split('/').filter((part) => part !== '').length;
  if (levels > PARAMETER_LEVELS_MAX) return new ApiError('HierarchyLevelLimitExceededException', 'A hierarchy can have a maximum of 15 levels.');
  const tier = input.Tier === 'Advanced' ? 'Advanced' : 'Standard';
  if (value.length > PARAMETER_VALUE_MAX[tier]) {
    return new ApiError('ValidationException', `${tier} tier parameters support a maximum parameter value of ${PARAMETER_VALUE_MAX[tier]} characters.`);
  }
  return undefined;
}

/**
 * DeleteParameters Names: "Array Members: Minimum number of 1 item. Maximum number of 10 items"
 * (SSM API Reference). moto 5.2.1 deletes 11 names in one call (tried: DeletedParameters 11).
 */
export const DELETE_PARAMETERS_NAMES_MAX = 10;

/** The DeleteParameters request (JSON body) as AWS would refuse it. */
export function deleteParametersRefusal(input: Record<string, unknown>): ApiError | undefined {
  const names = Array.isArray(input.Names) ? input.Names : [];
  if (names.length < 1 || names.length > DELETE_PARAMETERS_NAMES_MAX) {
    return new ApiError('ValidationException', `1 validation error detected: Value '[${names.join(', ')}]' at 'names' failed to satisfy constraint: Member must have length less than or equal to ${DELETE_PARAMETERS_NAMES_MAX} and greater than or equal to 1`);
  }
  return undefined;
}

/**
 * SSM CreateDocument / UpdateDocument: "The content of the document must not exceed 64KB"
 * (API reference, CreateDocument Content; error MaxDocumentSizeExceeded). moto 5.2.1 has no
 * such check (no MaxDocumentSizeExceeded anywhere in moto/ssm).
 */
export const DOCUMENT_CONTENT_MAX_BYTES = 64 * 1024;

export function documentRefusal(input: Record<string, unknown>): ApiError | undefined {
  const content = typeof input.Content === 'string' ? input.Content : '';
  const bytes = Buffer.byteLength(content, 'utf8');
  if (bytes > DOCUMENT_CONTENT_MAX_BYTES) return new ApiError('MaxDocumentSizeExceeded', `The size limit of a document is 64 KB; this one is ${bytes} bytes.`);
  return undefined;
}

/**
 * SQS CreateQueue / SetQueueAttributes attribute ranges (Amazon SQS API reference, CreateQueue
 * "Valid values"): DelaySeconds 0..900, MessageRetentionPeriod 60..1,209,600 (14 days),
 * ReceiveMessageWaitTimeSeconds 0..20, VisibilityTimeout 0..43,200 (12 hours); a value outside
 * is InvalidAttributeValue. moto 5.2.1 accepts MessageRetentionPeriod 1209601 (checked with awscli).
 */
export const QUEUE_ATTRIBUTE_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  DelaySeconds: [0, 900],
  MessageRetentionPeriod: [60, 1_209_600],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  VisibilityTimeout: [0, 43_200],
};

export function queueAttributesRefusal(attributes: Readonly<Record<string, unknown>>): ApiError | undefined {
  for (const [name, [min, max]] of Object.entries(QUEUE_ATTRIBUTE_RANGES)) {
    const raw = attributes[name];
    if (raw === undefined) continue;
    const text = String(raw);
    const value = Number(text);
    if (!/^[0-9]+$/.test(text) || value < min || value > max) {
      return new ApiError('InvalidAttributeValue', `Invalid value for the parameter ${name}: ${text.slice(0, 20)} (valid values: ${min} to ${max})`);
    }
  }
  return undefined;
}

/** The attributes of an awsQuery CreateQueue / SetQueueAttributes (Attribute.N.Name / Attribute.N.Value). */
export function queryAttributes(form: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 1; i <= 100; i += 1) {
    const name = form.get(`Attribute.${i}.Name`);
    if (name === null) break;
    out[name] = form.get(`Attribute.${i}.Value`) ?? '';
  }
  return out;
}

/** EC2 CreateTags (Query form): keys 1..128, values at most 256, neither prefixed aws: in any case. */
export function createTagsRefusal(form: URLSearchParams): ApiError | undefined {
  for (const [key, value] of form) {
    const m = /^Tag\.(\d+)\.(Key|Value)$/.exec(key);
    if (m === null) continue;
    if (/^aws:/i.test(value)) return new ApiError('InvalidParameterValue', `Tag ${m[2].toLowerCase()}s starting with 'aws:' are reserved for internal use`);
    if (m[2] === 'Key' && (value.length < 1 || [...value].length > 128)) return new ApiError('InvalidParameterValue', `Tag key exceeds the maximum length of 128 characters: ${value.slice(0, 40)}`);
    if (m[2] === 'Value' && [...value].length > 256) return new ApiError('InvalidParameterValue', 'Tag value exceeds the maximum length of 256 characters');
  }
  return undefined;
}

/** CloudWatch DescribeAlarms: AlarmNames holds at most 100 names (AWS's model: AlarmNames max 100). */
export const ALARM_NAMES_MAX = 100;
/** GetMetricStatistics: "If you request more than 1,440 data points, CloudWatch returns an error." */
export const DATAPOINTS_MAX = 1440;

/** GetMetricStatistics' Period: 1, 5, 10, 30 or a multiple of 60 seconds. */
function isValidPeriod(period: number): boolean {
  return Number.isInteger(period) && period >= 1 && ([1, 5, 10, 30].includes(period) || period % 60 === 0);
}

function epochSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms / 1000;
  }
  return undefined;
}

/** A CloudWatch request (awsJson1_0, X-Amz-Target GraniteServiceVersion20100801.<op>) as AWS would refuse it. */
export function cloudWatchRefusal(operation: string, input: Record<string, unknown>): ApiError | undefined {
  if (operation === 'DescribeAlarms' && Array.isArray(input.AlarmNames) && input.AlarmNames.length > ALARM_NAMES_MAX) {
    return new ApiError('ValidationError', `1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to ${ALARM_NAMES_MAX}`);
  }
  if (operation === 'GetMetricStatistics') {
    const period = Number(input.Period);
    if (!isValidPeriod(period)) return new ApiError('InvalidParameterValue', `The parameter Period must be 1, 5, 10, 30 or a multiple of 60, got ${String(input.Period)}.`);
    const start = epochSeconds(input.StartTime);
    const end = epochSeconds(input.EndTime);
    if (start !== undefined && end !== undefined) {
      const datapoints = Math.ceil((end - start) / period);
      if (datapoints > DATAPOINTS_MAX) {
        return new ApiError('InvalidParameterCombination', `You have requested up to ${datapoints} datapoints, which exceeds the limit of ${DATAPOINTS_MAX}. You may reduce the datapoints requested by increasing Period, or decreasing the time range.`);
      }
    }
  }
  return undefined;
}
