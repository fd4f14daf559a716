import type { SQSEvent } from 'aws-lambda';
import { consumeSqsBatch } from '../../../lib/lambda/sqs-batch';
import type { QueueMessage } from '../../../lib/ports/sqs';
import type { Log } from '../../../lib/logger';

function sqsEvent(...bodies: string[]): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `m-${i}`, receiptHandle: `r-${i}`, body, attributes: {} as never, messageAttributes: {},
      md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:q', awsRegion: 'eu-west-1',
    })),
  };
}

interface LogLine {
  readonly level: keyof Log;
  readonly message: string;
  readonly fields: unknown;
}

/** A Log that keeps every line, in order. */
function recordingLog(): { log: Log; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: keyof Log) => ((message: string, fields?: unknown) => void lines.push({ level, message, fields })) as Log[typeof level];
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

describe('consumeSqsBatch', () => {
  it('hands each record to the use case one after the other, in order, as { messageId, body }', async () => {
    // Prepare: the first record is slow; a second started before it ended would be seen.
    const seen: string[] = [];
    const handle = async (message: QueueMessage) => {
      seen.push(`start ${message.messageId} ${message.body}`);
      await new Promise((resolve) => setTimeout(resolve, message.messageId === 'm-0' ? 20 : 0));
      seen.push(`end ${message.messageId}`);
      return 'completed';
    };
    // Act
    const response = await consumeSqsBatch(sqsEvent('a', 'b', 'c'), handle, { log: recordingLog().log });
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual(['start m-0 a', 'end m-0', 'start m-1 b', 'end m-1', 'start m-2 c', 'end m-2']);
  });

  it.each([
    ['none fails', [false, false], []],
    ['the first fails', [true, false], ['m-0']],
    ['the middle one fails', [false, true, false], ['m-1']],
    ['every record fails: reported, not thrown', [true, true], ['m-0', 'm-1']],
  ])('%s: batch item failures %j', async (_case, failing, expected) => {
    // Prepare
    const handle = async ({ messageId }: QueueMessage) => {
      if (failing[Number(messageId.slice(2))]) throw new Error(`throttled on ${messageId}`);
      return 'completed';
    };
    // Act
    const response = await consumeSqsBatch(sqsEvent(...failing.map(String)), handle, { log: recordingLog().log });
    // Assess
    expect(response).toEqual({ batchItemFailures: expected.map((itemIdentifier) => ({ itemIdentifier })) });
  });

  it('answers an event without records with no failure', async () => {
    const response = await consumeSqsBatch({} as SQSEvent, async () => 'completed', { log: recordingLog().log });
    expect(response).toEqual({ batchItemFailures: [] });
  });

  it('logs each outcome and each failure with its messageId, in the words of its noun', async () => {
    // Prepare
    const { log, lines } = recordingLog();
    const error = new Error('throttled');
    const handle = async ({ messageId }: QueueMessage) => {
      if (messageId === 'm-1') throw error;
      return 'waiting';
    };
    // Act
    await consumeSqsBatch(sqsEvent('a', 'b'), handle, { log, noun: 'storage message' });
    // Assess
    expect(lines).toEqual([
      { level: 'info', message: 'storage message handled', fields: { messageId: 'm-0', outcome: 'waiting' } },
      { level: 'error', message: 'storage message failed: the queue will re-deliver it', fields: { messageId: 'm-1', error } },
    ]);
  });
});
