import { PublishCommand, SNSClient, type MessageAttributeValue } from '@aws-sdk/client-sns';
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
 * Publishes to the ops topic. Notifications are NOT suppressed in dry run:
 * a dry run still tells ops what would happen, with "[dry run] " before the subject.
 */
export function createNotifierPort(client: SNSClient, topicArn: string, opts: AdapterOptions): NotifierPort {
  const { dryRun, log } = opts;

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
    const input = {
      TopicArn: topicArn,
      Subject: subject,
      // SNS refuses an empty message; the subject then is the whole story.
      Message: notification.body.trim() === '' ? subject : notification.body,
      MessageAttributes: messageAttributes(notification),
    };
    await callAws(operation, () => client.send(new PublishCommand(input)));
    // The operator CLI's `decisions` reads this line from CloudWatch Logs (lib/core/log-messages.ts).
    const notice: LoggedNotice = { subject, eventType: notification.eventType, severity: notification.severity };
    log.info(NOTICE_LOGGED, { ...notice });
  }

  return { publish };
}
