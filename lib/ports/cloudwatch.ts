/**
 * CloudWatch alarms and metrics, read-only, as the scaling decisions see them.
 * Implemented by lib/aws/cloudwatch.ts.
 */
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface AlarmDescription {
  readonly name: string;
  readonly state: AlarmState;
  readonly stateReason: string;
  readonly stateUpdated: Date;
  /** Absent for alarms on metric math (no single metric/threshold). */
  readonly threshold?: number;
  readonly metricName?: string;
}

/** Read-only: alarms and metrics for the alarm-driven scaling decisions. */
export interface MetricsPort {
  /** Metric alarms among `names`; unknown names are simply not returned. */
  describeAlarms(names: readonly string[]): Promise<AlarmDescription[]>;
  /**
   * The largest `Maximum` over the last `minutes`, at `periodSeconds`
   * resolution; undefined when there is no datapoint.
   */
  getMetricMax(
    namespace: string,
    metricName: string,
    dimensions: Readonly<Record<string, string>>,
    periodSeconds: number,
    minutes: number,
  ): Promise<number | undefined>;
}
