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
  /**
   * A value as it is now (unit Count), with the default dimension only or
   * with extra dimensions (e.g. Volume); values with the same dimensions go
   * out in one EMF document.
   */
  gauge(name: MetricName, value: number, dimensions?: Readonly<Record<string, string>>): void;
  flush(): void;
}
