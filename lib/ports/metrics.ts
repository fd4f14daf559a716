/**
 * Our own metrics. Implemented with Powertools EMF (createEmfMetrics in
 * lib/usecases/context.ts), flushed once per invocation by the handler's
 * flushMetrics middleware (lib/lambda/flush-metrics.ts).
 */
import type { MetricName } from '../core/scaling/metric-names';

/** Our own metrics (EMF). `flush` writes what was counted (nothing when nothing was). */
export interface MetricsSink {
  count(name: MetricName, value: number): void;
  seconds(name: MetricName, value: number): void;
  flush(): void;
}
