/**
 * What CloudWatch Logs does with a Lambda function's embedded metric format
 * (EMF) log lines: it extracts the metrics into CloudWatch, where alarms and
 * dashboards read them. The sandbox has no CloudWatch Logs; the Lambda
 * runner hands every stdout line of the functions here, and the documents
 * that hold to the specification are put into the emulator's CloudWatch
 * (moto) with PutMetricData. A document that breaks the specification is
 * not extracted (it stays a log line), as in AWS; the sandbox logs why.
 *
 * Specification ("Specification: Embedded metric format", CloudWatch user
 * guide; catalogue cloudwatch.emf.*): the root is a JSON object with `_aws`
 * holding `Timestamp` (epoch ms) and `CloudWatchMetrics`, an array of
 * MetricDirectives, each with Namespace, Dimensions (an array of
 * DimensionSets, each at most 9 keys whose root members are strings; the
 * newer guide allows 30, 9 is the stricter) and Metrics (at most 100
 * MetricDefinitions, each a Name whose root member is a number or an array of
 * at most 100 numbers, and an optional Unit).
 */
import { CloudWatchClient, PutMetricDataCommand, type CloudWatchClientConfig, type MetricDatum, type StandardUnit } from '@aws-sdk/client-cloudwatch';

export const EMF_MAX_DIMENSION_KEYS = 9;
export const EMF_MAX_METRICS = 100;
export const EMF_MAX_VALUES = 100;
/** PutMetricData: at most 1,000 MetricDatum per request (botocore: MetricData max 1000). */
export const PUT_METRIC_DATA_MAX = 1000;

const UNITS = new Set([
  'Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes', 'Bits', 'Kilobits', 'Megabits', 'Gigabits', 'Terabits',
  'Percent', 'Count', 'Bytes/Second', 'Kilobytes/Second', 'Megabytes/Second', 'Gigabytes/Second', 'Terabytes/Second', 'Bits/Second', 'Kilobits/Second', 'Megabits/Second',
  'Gigabits/Second', 'Terabits/Second', 'Count/Second', 'None',
]);

export type EmfExtraction =
  /** Not an EMF document at all (an ordinary log line). */
  | { readonly kind: 'not-emf' }
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'metrics'; readonly data: ReadonlyArray<{ readonly namespace: string; readonly datum: MetricDatum }> };

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: Json): v is number => typeof v === 'number' && Number.isFinite(v);

/** One log line as CloudWatch Logs reads it for EMF. */
export function extractEmf(line: string): EmfExtraction {
  if (!line.includes('"_aws"')) return { kind: 'not-emf' };
  let root: Json;
  try {
    root = JSON.parse(line);
  } catch {
    return { kind: 'not-emf' };
  }
  if (!isObject(root) || !('_aws' in root)) return { kind: 'not-emf' };
  const refuse = (reason: string): EmfExtraction => ({ kind: 'refused', reason });
  const meta = root._aws;
  if (!isObject(meta)) return refuse('_aws must be an object');
  if (!isNumber(meta.Timestamp) || !Number.isInteger(meta.Timestamp)) return refuse('_aws.Timestamp must be an integer of milliseconds since the epoch');
  if (!Array.isArray(meta.CloudWatchMetrics)) return refuse('_aws.CloudWatchMetrics must be an array of MetricDirectives');
  const data: Array<{ namespace: string; datum: MetricDatum }> = [];
  for (const [d, directive] of meta.CloudWatchMetrics.entries()) {
    const at = `MetricDirective ${d}`;
    if (!isObject(directive)) return refuse(`${at} must be an object`);
    const { Namespace, Dimensions, Metrics } = directive;
    if (typeof Namespace !== 'string' || Namespace.length < 1 || Namespace.length > 255) return refuse(`${at}: Namespace must be a string of 1-255 characters`);
    if (!Array.isArray(Dimensions) || Dimensions.length < 1) return refuse(`${at}: Dimensions must be a non-empty array of DimensionSets`);
    if (!Array.isArray(Metrics)) return refuse(`${at}: Metrics must be an array`);
    if (Metrics.length > EMF_MAX_METRICS) return refuse(`${at}: ${Metrics.length} MetricDefinitions, at most ${EMF_MAX_METRICS}`);
    const sets: Array<Array<{ Name: string; Value: string }>> = [];
    for (const set of Dimensions) {
      if (!Array.isArray(set)) return refuse(`${at}: a DimensionSet must be an array of dimension keys`);
      if (set.length > EMF_MAX_DIMENSION_KEYS) return refuse(`${at}: a DimensionSet of ${set.length} keys, at most ${EMF_MAX_DIMENSION_KEYS}`);
      const dims: Array<{ Name: string; Value: string }> = [];
      for (const key of set) {
        if (typeof key !== 'string' || key.length < 1 || key.length > 255) return refuse(`${at}: a dimension key must be a string of 1-255 characters`);
        const value = root[key];
        if (typeof value !== 'string') return refuse(`${at}: dimension ${key} has no string target member on the root node`);
        dims.push({ Name: key, Value: value });
      }
      sets.push(dims);
    }
    for (const definition of Metrics) {
      if (!isObject(definition) || typeof definition.Name !== 'string' || definition.Name.length < 1) return refuse(`${at}: a MetricDefinition needs a Name`);
      const name = definition.Name;
      if (definition.Unit !== undefined && (typeof definition.Unit !== 'string' || !UNITS.has(definition.Unit))) return refuse(`${at}: ${name} has an invalid Unit ${JSON.stringify(definition.Unit)}`);
      const target = root[name];
      const values = Array.isArray(target) ? target : [target];
      if (values.length === 0 || !values.every(isNumber)) return refuse(`${at}: ${name} has no numeric target member (a number or an array of numbers) on the root node`);
      if (values.length > EMF_MAX_VALUES) return refuse(`${at}: ${name} has ${values.length} values, at most ${EMF_MAX_VALUES}`);
      const unit = (definition.Unit ?? 'None') as StandardUnit;
      for (const dims of sets) {
        const datum: MetricDatum = {
          MetricName: name,
          Dimensions: dims,
          Timestamp: new Date(meta.Timestamp),
          Unit: unit,
          ...(values.length === 1 ? { Value: values[0] as number } : { Values: values as number[] }),
        };
        data.push({ namespace: Namespace, datum });
      }
    }
  }
  return { kind: 'metrics', data };
}

export type EmfLog = (message: string, fields?: Record<string, unknown>) => void;

/** Extracts the lines it is handed into CloudWatch, in order, one PutMetricData per namespace and line (bounded batches). */
export class EmfExtractor {
  private readonly cw: CloudWatchClient;
  private chain: Promise<void> = Promise.resolve();
  private extractedCount = 0;
  private readonly refusals: Array<{ functionKey: string; reason: string }> = [];

  public constructor(private readonly options: { readonly clientConfig: CloudWatchClientConfig; readonly log: EmfLog }) {
    this.cw = new CloudWatchClient(options.clientConfig);
  }

  /** A stdout line of a function: extracted when it is an EMF document. Never throws. */
  public take(functionKey: string, line: string): void {
    const found = extractEmf(line);
    if (found.kind === 'not-emf') return;
    if (found.kind === 'refused') {
      this.refusals.push({ functionKey, reason: found.reason });
      this.options.log('EMF document not extracted (CloudWatch Logs would not either)', { functionKey, reason: found.reason });
      return;
    }
    this.chain = this.chain.then(() => this.put(functionKey, found.data));
  }

  private async put(functionKey: string, data: ReadonlyArray<{ namespace: string; datum: MetricDatum }>): Promise<void> {
    const byNamespace = new Map<string, MetricDatum[]>();
    for (const { namespace, datum } of data) byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), datum]);
    for (const [namespace, list] of byNamespace) {
      for (let i = 0; i < list.length; i += PUT_METRIC_DATA_MAX) {
        try {
          await this.cw.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: list.slice(i, i + PUT_METRIC_DATA_MAX) }));
          this.extractedCount += Math.min(PUT_METRIC_DATA_MAX, list.length - i);
        } catch (error) {
          this.options.log('EMF extraction: PutMetricData failed', { functionKey, namespace, error: error instanceof Error ? error.message : String(error) });
        }
      }
    }
  }

  /** Datapoints put into CloudWatch so far. */
  public extracted(): number {
    return this.extractedCount;
  }

  public refused(): ReadonlyArray<{ functionKey: string; reason: string }> {
    return this.refusals;
  }

  /** Waits until every line taken so far is in CloudWatch. */
  public async drain(): Promise<void> {
    await this.chain;
  }
}
