/**
 * The dashboard's layout in plain text (for the README): an ASCII picture of
 * the 24-column grid with one letter per widget, and a table of what each
 * widget shows. Generated from the real template so a test can check the
 * README still matches it.
 */
import yaml from 'js-yaml';
import { DashboardError, GRID_COLUMNS, parseDashboardBody, resolveDashboardBody, type Dashboard, type Widget } from './body';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** One letter per widget on a 24-character-wide grid; each grid row unit (the gcd of every y and height) is one text line. */
export function layoutGrid(dashboard: Dashboard): string {
  if (dashboard.widgets.length > LETTERS.length) throw new DashboardError(`layoutGrid draws at most ${LETTERS.length} widgets, got ${dashboard.widgets.length}`);
  const unit = dashboard.widgets.reduce((g, w) => gcd(gcd(g, w.y), w.height), 0) || 1;
  const rows = Math.max(1, ...dashboard.widgets.map((w) => (w.y + w.height) / unit));
  const grid = Array.from({ length: rows }, () => Array.from({ length: GRID_COLUMNS }, () => '.'));
  dashboard.widgets.forEach((w, i) => {
    for (let r = w.y / unit; r < (w.y + w.height) / unit; r += 1) {
      for (let c = w.x; c < w.x + w.width; c += 1) {
        const row = grid[r];
        if (row !== undefined) row[c] = LETTERS[i] ?? '?';
      }
    }
  });
  return grid.map((row) => row.join('')).join('\n');
}

function shows(w: Widget): string {
  if (w.type === 'text') return 'text';
  const series = w.series.map((s) => (s.kind === 'metric' ? `${s.namespace} ${s.metricName} (${s.stat}${s.yAxis === 'right' ? ', right axis' : ''})` : `${s.label} (expression)`));
  const thresholds = w.annotations.map((a) => `${a.label} ${a.value}`);
  return [series.join(', '), thresholds.length > 0 ? `thresholds: ${thresholds.join(', ')}` : ''].filter((s) => s !== '').join('; ');
}

/** Markdown table: letter, title, grid place (x,y w×h), what it shows. */
export function layoutTable(dashboard: Dashboard): string {
  const escape = (s: string) => s.replace(/\|/g, '\\|');
  const lines = ['| | widget | x,y w×h | shows |', '| --- | --- | --- | --- |'];
  dashboard.widgets.forEach((w, i) => {
    const title = w.type === 'metric' ? w.title : w.markdown.split('\n')[0] ?? '';
    lines.push(`| ${LETTERS[i] ?? '?'} | ${escape(title)} | ${w.x},${w.y} ${w.width}×${w.height} | ${escape(shows(w))} |`);
  });
  return lines.join('\n');
}

/** The README block: the grid in a text fence, then the table. */
export function layoutMarkdown(dashboard: Dashboard): string {
  return ['```text', layoutGrid(dashboard), '```', '', layoutTable(dashboard)].join('\n');
}

// ---------------------------------------------------------------- from serverless.yml

const TAGS: readonly [string, 'scalar' | 'sequence' | 'mapping', string][] = [];
for (const fn of ['Sub', 'Select', 'Split', 'Join', 'If', 'Not', 'Equals', 'And', 'Or', 'FindInMap', 'GetAZs', 'Base64', 'Cidr', 'ImportValue']) {
  for (const kind of ['scalar', 'sequence', 'mapping'] as const) (TAGS as [string, typeof kind, string][]).push([`!${fn}`, kind, `Fn::${fn}`]);
}
for (const kind of ['scalar', 'sequence', 'mapping'] as const) {
  (TAGS as [string, typeof kind, string][]).push(['!Ref', kind, 'Ref'], ['!Condition', kind, 'Condition'], ['!GetAtt', kind, 'Fn::GetAtt']);
}
const CFN_SCHEMA = yaml.DEFAULT_SCHEMA.extend(
  TAGS.map(([tag, kind, key]) => new yaml.Type(tag, { kind, construct: (data: unknown) => ({ [key]: key === 'Fn::GetAtt' && typeof data === 'string' ? data.split('.') : data }) })),
);

/**
 * The ClusterDashboard of serverless.yml for `stage` (default 'dev'), with
 * the Serverless variables `${param:*}`, `${sls:stage}`, `${self:service}`
 * filled from the file's params (default + stage) as `sls package` would,
 * then resolved as CloudFormation would (region eu-west-1).
 */
export function dashboardFromServerlessYml(text: string, stage = 'dev'): Dashboard {
  const doc = yaml.load(text, { schema: CFN_SCHEMA }) as {
    service?: string;
    custom?: Record<string, unknown>;
    params?: Record<string, Record<string, unknown>>;
    resources?: { Resources?: Record<string, unknown>; Parameters?: Record<string, unknown>; Conditions?: Record<string, unknown> };
  };
  const params: Record<string, unknown> = { ...(doc.params?.default ?? {}), ...(doc.params?.[stage] ?? {}) };
  // One source `source:address` (its own nested variables resolved first): its value, or undefined when it has none.
  const lookup = (source: string): string | undefined => {
    const m = /^(param|sls|self):([A-Za-z0-9._'-]+)$/.exec(variables(source.trim()));
    if (m === null) {
      const literal = /^'([^']*)'$/.exec(source.trim());
      if (literal) return literal[1];
      throw new DashboardError(`serverless.yml dashboard uses \${${source}}, which this reader does not resolve`);
    }
    const [, kind, name] = m as unknown as [string, string, string];
    if (kind === 'sls') return name === 'stage' ? stage : undefined;
    if (kind === 'param') return name in params ? String(params[name]) : undefined;
    let at: unknown = doc;
    for (const key of name.split('.')) at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[key] : undefined;
    return typeof at === 'string' || typeof at === 'number' || typeof at === 'boolean' ? String(at) : undefined;
  };
  // `${a, b, ...}`: the first source with a value (osls's fallbacks); the outermost variables of `s`, nested ones inside them.
  function variables(s: string): string {
    let out = '';
    for (let i = 0; i < s.length; ) {
      if (!s.startsWith('${', i)) {
        out += s[i];
        i += 1;
        continue;
      }
      let depth = 0;
      let end = i;
      for (; end < s.length; end += 1) {
        if (s.startsWith('${', end)) depth += 1;
        else if (s[end] === '}' && --depth === 0) break;
      }
      const inner = s.slice(i + 2, end);
      if (!/^\s*(param|sls|self):/.test(inner)) {
        // Not a Serverless variable (a CloudFormation Fn::Sub one such as ${AWS::Region}): kept as it is.
        out += '${';
        i += 2;
        continue;
      }
      const sources: string[] = [];
      let level = 0;
      let start = 0;
      for (let k = 0; k < inner.length; k += 1) {
        if (inner[k] === '{') level += 1;
        else if (inner[k] === '}') level -= 1;
        else if (inner[k] === ',' && level === 0) {
          sources.push(inner.slice(start, k));
          start = k + 1;
        }
      }
      sources.push(inner.slice(start));
      const value = sources.map(lookup).find((v) => v !== undefined);
      if (value === undefined) throw new DashboardError(`serverless.yml dashboard uses \${${inner}}, which the ${stage} stage does not define`);
      out += value;
      i = end + 1;
    }
    return out;
  }
  const fill = (v: unknown): unknown => {
    if (typeof v === 'string') return variables(v);
    if (Array.isArray(v)) return v.map(fill);
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    return v;
  };
  const resource = doc.resources?.Resources?.ClusterDashboard;
  if (resource === undefined) throw new DashboardError('serverless.yml has no resources.Resources.ClusterDashboard');
  const template = { Resources: { ClusterDashboard: fill(resource) }, Parameters: fill(doc.resources?.Parameters ?? {}), Conditions: fill(doc.resources?.Conditions ?? {}) };
  return parseDashboardBody(resolveDashboardBody(template, { region: 'eu-west-1' }));
}
