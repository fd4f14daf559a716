/**
 * Our own metrics. Implemented with Powertools EMF (createEmfMetrics in
 * lib/usecases/context.ts), flushed once per invocation.
 */
import type { MetricName } from '../core/scaling/metric-names';

/** Our own metrics (EMF). `flush` writes them; call it once per invocation. */
export interface MetricsSink {
  count(name: MetricName, value: number): void;
  seconds(name: MetricName, value: number): void;
  flush(): void;
}
