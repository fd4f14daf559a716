/**
 * One SNS notification as an SQS subscriber of the ops topic receives it (the
 * JSON envelope SNS wraps it in, raw delivery off). The autoscaler publishes
 * with MessageStructure=json, and SNS sends no message attributes with such a
 * message ("Message attributes are sent only when the message structure is
 * String, not JSON"): the facts come from the `sqs` entry's JSON (lib/aws/sns.ts
 * MachineNotice), never from the envelope's MessageAttributes, which moto adds
 * anyway. Anything else on the topic (a CloudWatch alarm) is text, without facts.
 */
export interface OpsMessage {
  readonly subject: string;
  readonly message: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** Epoch ms of the envelope's Timestamp, when it has one. */
  readonly at?: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The machine form the autoscaler sends its SQS and Lambda subscribers, or undefined. */
function machineNotice(text: string): { text: string; attributes: Record<string, string> } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed) || parsed.source !== 'pydio-autoscaler' || typeof parsed.text !== 'string' || !isRecord(parsed.attributes)) return undefined;
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed.attributes)) if (typeof value === 'string') attributes[name] = value;
  return { text: parsed.text, attributes };
}

/** Reads the SNS envelope of an SQS message body. */
export function readOpsMessage(body: string): OpsMessage {
  const envelope: unknown = JSON.parse(body);
  if (!isRecord(envelope)) throw new Error('an SNS notification envelope must be a JSON object');
  const subject = typeof envelope.Subject === 'string' ? envelope.Subject : '';
  const raw = typeof envelope.Message === 'string' ? envelope.Message : '';
  const at = typeof envelope.Timestamp === 'string' ? Date.parse(envelope.Timestamp) : Number.NaN;
  const notice = machineNotice(raw);
  return {
    subject,
    message: notice?.text ?? raw,
    attributes: notice?.attributes ?? {},
    ...(Number.isNaN(at) ? {} : { at }),
  };
}
