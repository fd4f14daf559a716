/**
 * The stack's CloudWatch dashboard as data: the ClusterDashboard resource's
 * DashboardBody resolved from the packaged template (its Fn::Sub, as
 * CloudFormation would), then parsed into widgets the renderer can draw.
 *
 * Only what the dashboard JSON format defines is read: widgets on the
 * 24-column grid (x, y, width, height), metric widgets (title, period, stat,
 * metrics arrays with the "." shorthand and a trailing options object,
 * expressions, horizontal annotations, yAxis min/max) and text widgets.
 * Anything malformed is refused naming the widget and the field.
 */

export class DashboardError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DashboardError';
  }
}

export const GRID_COLUMNS = 24;

export interface Annotation {
  readonly label: string;
  readonly value: number;
}

export interface MetricSeriesSpec {
  readonly kind: 'metric';
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly stat: string;
  readonly period: number;
  readonly yAxis: 'left' | 'right';
  readonly label: string;
}

export interface ExpressionSeriesSpec {
  readonly kind: 'expression';
  readonly id: string;
  readonly expression: string;
  readonly label: string;
  readonly yAxis: 'left' | 'right';
}

export type SeriesSpec = MetricSeriesSpec | ExpressionSeriesSpec;

interface Placement {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface MetricWidget extends Placement {
  readonly type: 'metric';
  readonly title: string;
  readonly view: string;
  readonly period: number;
  readonly series: readonly SeriesSpec[];
  readonly annotations: readonly Annotation[];
  readonly yMin?: number;
  readonly yMax?: number;
}

export interface TextWidget extends Placement {
  readonly type: 'text';
  readonly markdown: string;
}

export type Widget = MetricWidget | TextWidget;

export interface Dashboard {
  readonly widgets: readonly Widget[];
}

type Json = unknown;
type JsonObject = Record<string, Json>;

function isObject(v: Json): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: Json, where: string): string {
  if (typeof v !== 'string') throw new DashboardError(`${where} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function optionalNumber(v: Json, where: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new DashboardError(`${where} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function gridInt(v: Json, where: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new DashboardError(`${where} must be an integer ${min}-${max}, got ${JSON.stringify(v)}`);
  return v;
}

function parseMetricArray(row: readonly Json[], previous: readonly Json[] | undefined, widget: { stat: string; period: number }, where: string): SeriesSpec {
  const last = row[row.length - 1];
  const options: JsonObject = isObject(last) ? last : {};
  const parts = isObject(last) ? row.slice(0, -1) : row;
  const yAxisRaw = options.yAxis ?? 'left';
  if (yAxisRaw !== 'left' && yAxisRaw !== 'right') throw new DashboardError(`${where} yAxis must be "left" or "right", got ${JSON.stringify(yAxisRaw)}`);
  const yAxis: 'left' | 'right' = yAxisRaw;
  if (parts.length === 0) {
    if (typeof options.expression !== 'string') throw new DashboardError(`${where} has neither a metric nor an expression`);
    return {
      kind: 'expression',
      id: options.id === undefined ? 'e1' : str(options.id, `${where} id`),
      expression: options.expression,
      label: options.label === undefined ? options.expression : str(options.label, `${where} label`),
      yAxis,
    };
  }
  // "." repeats the value at the same position of the previous metric (CloudWatch's shorthand).
  const values = parts.map((p, i) => {
    if (p === '.') {
      const prev = previous?.[i];
      if (typeof prev !== 'string' || prev === '.') throw new DashboardError(`${where} position ${i} is "." but the previous metric has no value there`);
      return prev;
    }
    return str(p, `${where} position ${i}`);
  });
  if (values.length < 2 || values.length % 2 !== 0) {
    throw new DashboardError(`${where} must be [namespace, metricName, (dimensionName, dimensionValue)*, options?], got ${JSON.stringify(row)}`);
  }
  const [namespace, metricName, ...dims] = values as [string, string, ...string[]];
  const dimensions: Record<string, string> = {};
  for (let i = 0; i < dims.length; i += 2) dimensions[dims[i] as string] = dims[i + 1] as string;
  const stat = options.stat === undefined ? widget.stat : str(options.stat, `${where} stat`);
  const period = options.period === undefined ? widget.period : gridInt(options.period, `${where} period`, 1, 31_536_000);
  return {
    kind: 'metric',
    namespace,
    metricName,
    dimensions,
    stat,
    period,
    yAxis,
    label: options.label === undefined ? metricName : str(options.label, `${where} label`),
  };
}

function parseWidget(raw: Json, index: number): Widget {
  const where = `widget ${index}`;
  if (!isObject(raw)) throw new DashboardError(`${where} must be an object`);
  const type = raw.type;
  const x = gridInt(raw.x ?? 0, `${where} x`, 0, GRID_COLUMNS - 1);
  const width = gridInt(raw.width ?? 6, `${where} width`, 1, GRID_COLUMNS);
  if (x + width > GRID_COLUMNS) throw new DashboardError(`${where} x ${x} + width ${width} passes the ${GRID_COLUMNS}-column grid`);
  const y = gridInt(raw.y ?? 0, `${where} y`, 0, 10_000);
  const height = gridInt(raw.height ?? 6, `${where} height`, 1, 1000);
  const props = raw.properties;
  if (!isObject(props)) throw new DashboardError(`${where} has no properties object`);
  if (type === 'text') {
    return { type: 'text', x, y, width, height, markdown: str(props.markdown, `${where} properties.markdown`) };
  }
  if (type !== 'metric') throw new DashboardError(`${where} type must be "metric" or "text", got ${JSON.stringify(type)}`);
  const title = props.title === undefined ? '' : str(props.title, `${where} title`);
  const named = title === '' ? where : `${where} ("${title}")`;
  const period = props.period === undefined ? 300 : gridInt(props.period, `${named} period`, 1, 31_536_000);
  const stat = props.stat === undefined ? 'Average' : str(props.stat, `${named} stat`);
  if (!Array.isArray(props.metrics) || props.metrics.length === 0) throw new DashboardError(`${named} needs a non-empty metrics array`);
  const series: SeriesSpec[] = [];
  let previous: readonly Json[] | undefined;
  for (const [i, row] of props.metrics.entries()) {
    if (!Array.isArray(row)) throw new DashboardError(`${named} metrics[${i}] must be an array`);
    series.push(parseMetricArray(row, previous, { stat, period }, `${named} metrics[${i}]`));
    previous = row;
  }
  const annotations: Annotation[] = [];
  const ann = props.annotations;
  if (ann !== undefined) {
    if (!isObject(ann)) throw new DashboardError(`${named} annotations must be an object`);
    const horizontal = ann.horizontal ?? [];
    if (!Array.isArray(horizontal)) throw new DashboardError(`${named} annotations.horizontal must be an array`);
    for (const [i, h] of horizontal.entries()) {
      if (!isObject(h)) throw new DashboardError(`${named} annotations.horizontal[${i}] must be an object`);
      const value = optionalNumber(h.value, `${named} annotations.horizontal[${i}].value`);
      if (value === undefined) throw new DashboardError(`${named} annotations.horizontal[${i}] needs a value`);
      annotations.push({ label: h.label === undefined ? '' : str(h.label, `${named} annotations.horizontal[${i}].label`), value });
    }
  }
  const left = isObject(props.yAxis) && isObject(props.yAxis.left) ? props.yAxis.left : {};
  const yMin = optionalNumber(left.min, `${named} yAxis.left.min`);
  const yMax = optionalNumber(left.max, `${named} yAxis.left.max`);
  return {
    type: 'metric',
    x, y, width, height,
    title,
    view: props.view === undefined ? 'timeSeries' : str(props.view, `${named} view`),
    period,
    series,
    annotations,
    ...(yMin !== undefined ? { yMin } : {}),
    ...(yMax !== undefined ? { yMax } : {}),
  };
}

/** Parses a DashboardBody (JSON text or the parsed object). */
export function parseDashboardBody(body: string | Json): Dashboard {
  let raw: Json = body;
  if (typeof body === 'string') {
    try {
      raw = JSON.parse(body);
    } catch (error) {
      throw new DashboardError(`DashboardBody is not JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
  if (!isObject(raw) || !Array.isArray(raw.widgets)) throw new DashboardError('DashboardBody must be an object with a widgets array');
  return { widgets: raw.widgets.map((w, i) => parseWidget(w, i)) };
}

// ---------------------------------------------------------------- template resolution

export interface ResolveOptions {
  readonly region: string;
  readonly accountId?: string;
  /** Template parameter values (missing ones take their Default). */
  readonly parameters?: Readonly<Record<string, string>>;
  /** Physical ids of deployed resources (what Ref returns). */
  readonly physicalIds?: Readonly<Record<string, string>>;
  /** Exact strings replaced in the result (as the deploy does for placeholders baked in at package time). */
  readonly replace?: Readonly<Record<string, string>>;
}

/**
 * The DashboardBody of `logicalId` (default ClusterDashboard) in a packaged
 * CloudFormation template, with Fn::Sub, Ref, Fn::Select, Fn::Split, Fn::Join
 * and Fn::If (the template's Conditions, from parameter values: Fn::Equals,
 * Fn::Not, Fn::And, Fn::Or, Condition) resolved; only the chosen branch of an
 * Fn::If is resolved, as CloudFormation does. Anything else is refused by name.
 */
export function resolveDashboardBody(template: Json, options: ResolveOptions, logicalId = 'ClusterDashboard'): string {
  if (!isObject(template) || !isObject(template.Resources)) throw new DashboardError('the template has no Resources');
  const resource = template.Resources[logicalId];
  if (!isObject(resource) || resource.Type !== 'AWS::CloudWatch::Dashboard') throw new DashboardError(`the template has no AWS::CloudWatch::Dashboard ${logicalId}`);
  if (!isObject(resource.Properties) || resource.Properties.DashboardBody === undefined) throw new DashboardError(`${logicalId} has no DashboardBody`);
  const declared = isObject(template.Parameters) ? template.Parameters : {};
  const refOf = (name: string, where: string): string => {
    switch (name) {
      case 'AWS::Region':
        return options.region;
      case 'AWS::AccountId':
        return options.accountId ?? '123456789012';
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      default:
        break;
    }
    const given = options.parameters?.[name];
    if (given !== undefined) return given;
    const param = declared[name];
    if (isObject(param)) {
      if (param.Default === undefined) throw new DashboardError(`${where}: parameter ${name} has no value and no Default`);
      return String(param.Default);
    }
    const physical = options.physicalIds?.[name];
    if (physical !== undefined) return physical;
    throw new DashboardError(`${where}: Ref ${name} is neither a parameter, a pseudo parameter nor a known resource`);
  };
  const conditions = isObject(template.Conditions) ? template.Conditions : {};
  const condition = (name: string, where: string, seen: readonly string[] = []): boolean => {
    if (!(name in conditions)) throw new DashboardError(`${where}: condition ${name} is not defined`);
    if (seen.includes(name)) throw new DashboardError(`${where}: condition ${name} refers to itself`);
    const evaluate = (expr: Json): boolean => {
      if (!isObject(expr)) throw new DashboardError(`${where}: condition ${name} is not a condition expression`);
      const [fn, arg] = Object.entries(expr)[0] ?? [];
      if (fn === 'Condition') return condition(str(arg, where), where, [...seen, name]);
      if (!Array.isArray(arg)) throw new DashboardError(`${where}: ${String(fn)} in condition ${name} needs a list`);
      switch (fn) {
        case 'Fn::Equals':
          return str(resolve(arg[0], where), where) === str(resolve(arg[1], where), where);
        case 'Fn::Not':
          return !evaluate(arg[0]);
        case 'Fn::And':
          return arg.every(evaluate);
        case 'Fn::Or':
          return arg.some(evaluate);
        default:
          throw new DashboardError(`${where}: ${String(fn)} in condition ${name} is not supported`);
      }
    };
    return evaluate(conditions[name]);
  };
  // Placeholders baked in at package time are swapped in the template's strings before
  // resolving (a placeholder ARN inside Fn::Split would otherwise never reach the body whole).
  const swap = (text: string): string => Object.entries(options.replace ?? {}).reduce((t, [from, to]) => t.split(from).join(to), text);
  const resolve = (value: Json, where: string): Json => {
    if (Array.isArray(value)) return value.map((v, i) => resolve(v, `${where}[${i}]`));
    if (typeof value === 'string') return swap(value);
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    if (keys.length !== 1) return Object.fromEntries(keys.map((k) => [k, resolve(value[k], `${where}.${k}`)]));
    const [fn] = keys as [string];
    const arg = value[fn];
    switch (fn) {
      case 'Ref':
        return refOf(str(arg, `${where} Ref`), where);
      case 'Fn::Sub': {
        const [text, vars] = Array.isArray(arg) ? [arg[0], arg[1] ?? {}] : [arg, {}];
        if (typeof text !== 'string' || !isObject(vars)) throw new DashboardError(`${where}: malformed Fn::Sub`);
        return swap(text).replace(/\$\{([^}!][^}]*)\}/g, (_m, name: string) => {
          if (name in vars) {
            const v = resolve(vars[name], `${where} Fn::Sub variable ${name}`);
            if (typeof v !== 'string' && typeof v !== 'number') throw new DashboardError(`${where}: Fn::Sub variable ${name} is not a string`);
            return String(v);
          }
          if (name.includes('.')) throw new DashboardError(`${where}: Fn::Sub \${${name}} (GetAtt) is not supported for dashboards`);
          return refOf(name, where);
        }).replace(/\$\{!/g, '${'); // ${!Literal} is a literal ${Literal}
      }
      case 'Fn::Select': {
        if (!Array.isArray(arg) || arg.length !== 2) throw new DashboardError(`${where}: malformed Fn::Select`);
        const list = resolve(arg[1], `${where} Fn::Select list`);
        const index = Number(resolve(arg[0], `${where} Fn::Select index`));
        if (!Array.isArray(list) || !Number.isInteger(index) || index < 0 || index >= list.length) throw new DashboardError(`${where}: Fn::Select index ${String(arg[0])} out of range`);
        return list[index];
      }
      case 'Fn::Split': {
        if (!Array.isArray(arg) || arg.length !== 2) throw new DashboardError(`${where}: malformed Fn::Split`);
        return str(resolve(arg[1], where), `${where} Fn::Split source`).split(str(arg[0], `${where} Fn::Split delimiter`));
      }
      case 'Fn::If': {
        if (!Array.isArray(arg) || arg.length !== 3) throw new DashboardError(`${where}: malformed Fn::If`);
        return resolve(condition(str(arg[0], `${where} Fn::If`), where) ? arg[1] : arg[2], `${where} Fn::If`);
      }
      case 'Fn::Join': {
        if (!Array.isArray(arg) || arg.length !== 2) throw new DashboardError(`${where}: malformed Fn::Join`);
        const list = resolve(arg[1], where);
        if (!Array.isArray(list)) throw new DashboardError(`${where}: Fn::Join needs a list`);
        return list.map((v) => str(v, `${where} Fn::Join item`)).join(str(arg[0], `${where} Fn::Join delimiter`));
      }
      default:
        if (fn.startsWith('Fn::')) throw new DashboardError(`${where}: ${fn} is not supported for dashboards`);
        return { [fn]: resolve(arg, `${where}.${fn}`) };
    }
  };
  let body = str(resolve(resource.Properties.DashboardBody, `${logicalId}.DashboardBody`), `${logicalId}.DashboardBody (resolved)`);
  for (const [from, to] of Object.entries(options.replace ?? {})) body = body.split(from).join(to);
  return body;
}
