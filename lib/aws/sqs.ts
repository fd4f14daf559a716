// PORT (interface) — implementation below is filled in by the adapter work.
export interface QueuePort {
  /** delaySeconds is clamped by the adapter to SQS's 0..900. */
  send(queueUrl: string, body: string, delaySeconds: number): Promise<void>;
}
