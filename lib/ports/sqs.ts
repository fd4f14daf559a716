/**
 * The queues: what a consumer receives and how a flow sends its continuation.
 * Implemented by lib/aws/sqs.ts.
 */
/** What a queue consumer hands its use case: the SQS record reduced to what the use cases read. */
export interface QueueMessage {
  readonly messageId: string;
  readonly body: string;
}

export interface QueuePort {
  /** delaySeconds is clamped by the adapter to SQS's 0..900. */
  send(queueUrl: string, body: string, delaySeconds: number): Promise<void>;
}
