import { PublishCommand, SNSClient, type MessageAttributeValue } from '@aws-sdk/client-sns';
import { chatbotNotification } from '../core/chatbot';
import { locationOfArn, type NoticeContext } from '../core/console-links';
import { NOTICE_LOGGED, type LoggedNotice } from '../core/log-messages';
import { fitSubject, type Notification } from '../core/notification';
import { MAX_ATTEMPTS, callAws, type AdapterOptions } from './call';
import type { NotifierPort } from '../ports/sns';

/** Builds the client once per cold start: region and AWS_ENDPOINT_URL come from the standard environment. */
export function createSnsClient(): SNSClient {
  return new SNSClient({ maxAttempts: MAX_ATTEMPTS });
}

export const DRY_RUN_SUBJECT_PREFIX = '[dry run] ';

/** SNS attribute names: letters, digits, `-_.`, at most 256, not starting with AWS./Amazon. nor with a dot. */
const ATTRIBUTE_NAME = /^(?!\.)(?!aws\.)(?!amazon\.)(?!.*\.\.)[A-Za-z0-9_.-]{1,256}(?<!\.)$/i;

/**
 * Publish: "messages must be UTF-8 encoded strings and at most 256 KB in size (262,144 bytes,
 * not 262,144 characters)"; "All parts of the message attribute, including name, type, and
 * value, are included in the message size restriction".
 */
export const MESSAGE_MAX_BYTES = 262_144;

/** Ends a text cut to fit the message size. */
export const TEXT_CUT_MARKER = '\n… (cut: the message was over the 256 KB SNS takes; the function log has every fact)';

/**
 * The machine form sqs and lambda subscribers get: SNS does not send message
 * attributes with a MessageStructure=json message ("Message attributes are
 * sent only when the message structure is String, not JSON"), so the facts a
 * program filters on travel in the body.
 */
export interface MachineNotice {
  readonly source: 'pydio-autoscaler';
  readonly subject: string;
  readonly text: string;
  readonly eventType: string;
  readonly severity: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** The per-protocol message of one publish: `default` is required, each other key is what that protocol's subscribers get. */
export interface StructuredMessage {
  /** The readable text: e-mail (and every protocol without its own key) gets this. */
  readonly default: string;
  /** AWS Chatbot's custom notification JSON: Chatbot subscribes to a topic with an HTTPS endpoint. */
  readonly https: string;
  readonly sqs: string;
  readonly lambda: string;
}

function attributeBytes(attributes: Record<string, MessageAttributeValue>): number {
  return Object.entries(attributes).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '') + Buffer.byteLength(value.StringValue ?? ''), 0);
}

/**
 * One notification as the MessageStructure=json message: the text for e-mail,
 * the Chatbot payload for HTTPS, the machine form for SQS and Lambda; the text
 * cut (with TEXT_CUT_MARKER) when the whole would pass SNS's size limit.
 */
export function structuredMessage(
  notification: Notification,
  subject: string,
  context: NoticeContext,
  attributes: Record<string, string>,
  maxBytes = MESSAGE_MAX_BYTES,
): StructuredMessage {
  // SNS refuses an empty message; the subject then is the whole story.
  const fullText = notification.body.trim() === '' ? subject : notification.body;
  const https = JSON.stringify(chatbotNotification(notification, context, subject));
  const build = (text: string): StructuredMessage => {
    const machine: MachineNotice = { source: 'pydio-autoscaler', subject, text, eventType: notification.eventType, severity: notification.severity, attributes };
    const sqs = JSON.stringify(machine);
    return { default: text, https, sqs, lambda: sqs };
  };
  const fits = (candidate: StructuredMessage) => Buffer.byteLength(JSON.stringify(candidate)) <= maxBytes;
  const whole = build(fullText);
  if (fits(whole)) return whole;
  // The text is in three keys, escaped once or twice: find the longest head that fits (binary search).
  const cut = (keep: number) => {
    // Never split a surrogate pair: half a character is not UTF-8.
    const end = keep > 0 && /[\uD800-\uDBFF]/.test(fullText.charAt(keep - 1)) ? keep - 1 : keep;
    return build(`${fullText.slice(0, end)}${TEXT_CUT_MARKER}`);
  };
  let low = 0;
  let high = fullText.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(cut(mid))) low = mid;
    else high = mid - 1;
  }
  return cut(low);
}

/**
 * Publishes to the ops topic. Notifications are NOT suppressed in dry run:
 * a dry run still tells ops what would happen, with "[dry run] " before the subject.
 * `context` names what the console links of a notification point at; the
 * region and account come from the topic's ARN.
 */
export function createNotifierPort(client: SNSClient, topicArn: string, opts: AdapterOptions, context: NoticeContext = {}): NotifierPort {
  const { dryRun, log } = opts;
  const location = locationOfArn(topicArn);
  const links: NoticeContext = { ...context, ...(location ? { location } : {}) };

  function messageAttributes(notification: Notification): Record<string, MessageAttributeValue> {
    const attributes: Record<string, MessageAttributeValue> = {};
    // eventType and severity last: filter policies rely on them, an extra attribute cannot override them.
    const entries = [...Object.entries(notification.attributes), ['eventType', notification.eventType], ['severity', notification.severity]];
    for (const [name, value] of entries) {
      if (!ATTRIBUTE_NAME.test(name)) {
        log.warn('notification attribute dropped: SNS refuses its name', { attribute: name });
        continue;
      }
      // SNS refuses empty attribute values; an empty value carries no filterable fact anyway.
      if (value === '') continue;
      attributes[name] = { DataType: 'String', StringValue: value };
    }
    return attributes;
  }

  async function publish(notification: Notification): Promise<void> {
    const operation = 'Publish';
    const subject = fitSubject(`${dryRun ? DRY_RUN_SUBJECT_PREFIX : ''}${notification.subject}`);
    const attributes = messageAttributes(notification);
    const plain = Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, value.StringValue ?? '']));
    const message = structuredMessage(notification, subject, links, plain, MESSAGE_MAX_BYTES - attributeBytes(attributes));
    const input = {
      TopicArn: topicArn,
      Subject: subject,
      MessageStructure: 'json',
      Message: JSON.stringify(message),
      // Kept for subscription filter policies (FilterPolicyScope MessageAttributes).
      MessageAttributes: attributes,
    };
    await callAws(operation, () => client.send(new PublishCommand(input)));
    // The operator CLI's `decisions` reads this line from CloudWatch Logs (lib/core/log-messages.ts).
    const notice: LoggedNotice = { subject, eventType: notification.eventType, severity: notification.severity };
    log.info(NOTICE_LOGGED, { ...notice });
  }

  return { publish };
}
