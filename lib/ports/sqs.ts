/**
 * The queues: what a consumer receives and how a flow sends its continuation.
 * Implemented by lib/aws/sqs.ts.
 */
export interface QueuePort {
  /** delaySeconds is clamped by the adapter to SQS's 0..900. */
  send(queueUrl: string, body: string, delaySeconds: number): Promise<void>;
}
