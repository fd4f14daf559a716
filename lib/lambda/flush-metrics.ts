import type { MiddlewareObj } from '@middy/core';
import type { MetricsSink } from '../ports/metrics';

/**
 * Middy middleware that writes the invocation's metrics when the handler
 * returns or throws: the shape of Powertools' logMetrics, over our
 * MetricsSink, which writes nothing when nothing was counted (logMetrics
 * would warn "No application metrics to publish" on every such invocation).
 */
export function flushMetrics(metrics: MetricsSink): MiddlewareObj {
  function flushAfterHandler(): void {
    metrics.flush();
  }
  function flushOnError(): void {
    metrics.flush();
  }
  return { after: flushAfterHandler, onError: flushOnError };
}
