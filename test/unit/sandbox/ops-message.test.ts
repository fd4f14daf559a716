import { structuredMessage } from '../../../lib/aws/sns';
import { buildNotification } from '../../../lib/core/notification';
import { readOpsMessage } from '../../sandbox/ops-message';

/** The envelope SNS puts around a message for an SQS subscriber (raw delivery off). */
const envelope = (message: string, extra: Record<string, unknown> = {}) => JSON.stringify({ Type: 'Notification', Subject: '[prod] s', Message: message, Timestamp: '2026-11-21T10:00:00.000Z', ...extra });

describe('readOpsMessage', () => {
  const notification = buildNotification({ stage: 'prod', eventType: 'lifecycle.failed', severity: 'error', subject: 's', body: 'Step failed\n    output', attributes: { instanceId: 'i-1' } });
  const attributes = { stage: 'prod', instanceId: 'i-1', eventType: 'lifecycle.failed', severity: 'error' };

  it('reads the text and the facts from the sqs entry the product publishes', () => {
    const { sqs } = structuredMessage(notification, '[prod] s', {}, attributes);
    expect(readOpsMessage(envelope(sqs))).toEqual({ subject: '[prod] s', message: 'Step failed\n    output', attributes, at: Date.parse('2026-11-21T10:00:00.000Z') });
  });

  it('never takes facts from the envelope: SNS sends no message attributes with a JSON-structured message', () => {
    const { sqs } = structuredMessage(notification, '[prod] s', {}, { stage: 'prod' });
    const read = readOpsMessage(envelope(sqs, { MessageAttributes: { severity: { Type: 'String', Value: 'error' } } }));
    expect(read.attributes).toEqual({ stage: 'prod' });
    expect(readOpsMessage(envelope('plain text', { MessageAttributes: { severity: { Type: 'String', Value: 'error' } } })).attributes).toEqual({});
  });

  it('reads anything else on the topic (a CloudWatch alarm) as text without facts', () => {
    const alarm = JSON.stringify({ AlarmName: 'dlq', NewStateValue: 'ALARM' });
    expect(readOpsMessage(envelope(alarm))).toMatchObject({ message: alarm, attributes: {} });
  });
});
