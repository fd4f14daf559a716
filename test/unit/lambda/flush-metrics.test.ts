import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { flushMetrics } from '../../../lib/lambda/flush-metrics';
import type { MetricsSink } from '../../../lib/ports/metrics';

const context = { functionName: 'f', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

/** A sink that counts its flushes and what was pending at each. */
function countingSink(): MetricsSink & { readonly flushed: number[] } {
  let pending = 0;
  const flushed: number[] = [];
  return {
    flushed,
    count: () => void (pending += 1),
    seconds: () => void (pending += 1),
    gauge: () => void (pending += 1),
    flush: () => {
      flushed.push(pending);
      pending = 0;
    },
  };
}

describe('flushMetrics', () => {
  it('flushes once after the handler returned, with what it counted, and keeps its answer', async () => {
    // Prepare
    const sink = countingSink();
    const handler = middy(async () => {
      sink.count('ScaleOut', 1);
      return { batchItemFailures: [] };
    }).use(flushMetrics(sink));
    // Act
    const answer = await handler({}, context);
    // Assess
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(sink.flushed).toEqual([1]);
  });

  it('flushes once when the handler threw, and lets the error through', async () => {
    // Prepare
    const sink = countingSink();
    const handler = middy(async () => {
      sink.seconds('LifecycleDurationSeconds', 12);
      throw new Error('boom');
    }).use(flushMetrics(sink));
    // Act
    const invoked = handler({}, context);
    // Assess
    await expect(invoked).rejects.toThrow('boom');
    expect(sink.flushed).toEqual([1]);
  });
});
