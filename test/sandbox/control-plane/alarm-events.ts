/**
 * The "CloudWatch Alarm State Change" event CloudWatch sends to EventBridge
 * (moto changes alarm states but emits nothing). Shape as documented for a
 * single-metric alarm: detail.alarmName, detail.state / detail.previousState
 * (value, reason, reasonData, timestamp), detail.configuration (description,
 * metrics[].metricStat).
 */
import { randomUUID } from 'node:crypto';
import type { AwsEvent } from './event-bus';

export interface AlarmStateValueInput {
  readonly value: string;
  readonly reason: string;
  /** JSON text, as CloudWatch writes it (StateReasonData). */
  readonly reasonData?: string;
  /** CloudWatch's format: 2019-10-02T17:04:40.989+0000 (any ISO time is accepted). */
  readonly timestamp: string;
}

export interface AlarmMetricStat {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly period: number;
  readonly stat: string;
}

export interface AlarmStateChangeInput {
  readonly alarmArn: string;
  readonly alarmName: string;
  readonly description?: string;
  readonly state: AlarmStateValueInput;
  readonly previousState: AlarmStateValueInput;
  /** The alarm's metric (configuration.metrics), when known. */
  readonly metric?: AlarmMetricStat;
}

/** CloudWatch's event timestamp format: milliseconds and +0000. */
export function cloudWatchTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '+0000');
}

export function alarmStateChangeEvent(input: AlarmStateChangeInput): AwsEvent {
  const account = /^arn:aws:cloudwatch:[^:]+:(\d+):/.exec(input.alarmArn)?.[1] ?? '123456789012';
  const region = /^arn:aws:cloudwatch:([^:]+):/.exec(input.alarmArn)?.[1] ?? 'eu-west-1';
  const time = Date.parse(input.state.timestamp);
  const configuration: Record<string, unknown> = { description: input.description ?? '' };
  if (input.metric !== undefined) {
    configuration.metrics = [
      {
        id: randomUUID(),
        metricStat: {
          metric: { namespace: input.metric.namespace, name: input.metric.name, dimensions: { ...input.metric.dimensions } },
          period: input.metric.period,
          stat: input.metric.stat,
        },
        returnData: true,
      },
    ];
  }
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account,
    // The envelope time has seconds precision (EventBridge).
    time: Number.isNaN(time) ? input.state.timestamp : new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [input.alarmArn],
    detail: {
      alarmName: input.alarmName,
      state: { ...input.state },
      previousState: { ...input.previousState },
      configuration,
    },
  };
}
