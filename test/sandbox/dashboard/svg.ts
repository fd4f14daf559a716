/**
 * The dashboard as an SVG picture: every widget at its place on the
 * 24-column grid, metric widgets as time-series charts (a line per series,
 * horizontal annotations as dashed threshold lines, a legend that says when a
 * series has no data), text widgets as their text. Pure: same input, same
 * picture.
 */
import { DashboardError, GRID_COLUMNS, type Dashboard, type MetricWidget, type TextWidget, type Widget } from './body';
import type { DashboardData, SeriesData } from './data';

export const CANVAS_WIDTH = 1200;
export const COLUMN_PX = CANVAS_WIDTH / GRID_COLUMNS;
export const ROW_PX = 40;
export const HEADER_PX = 48;
const GAP = 4;
const FONT = 'font-family="Helvetica, Arial, sans-serif"';
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const CHAR_PX = 6.6; // average glyph width at 12 px

export interface RenderOptions {
  readonly name: string;
  readonly start: Date;
  readonly end: Date;
  /** A line under the title (e.g. the period used). */
  readonly subtitle?: string;
}

export interface Box {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** Where a widget lands in the picture (pixels). */
export function widgetBox(widget: Pick<Widget, 'x' | 'y' | 'width' | 'height'>): Box {
  return {
    left: widget.x * COLUMN_PX + GAP,
    top: HEADER_PX + widget.y * ROW_PX + GAP,
    width: widget.width * COLUMN_PX - 2 * GAP,
    height: widget.height * ROW_PX - 2 * GAP,
  };
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** Cuts `text` to about `px` pixels, with an ellipsis when it was longer. */
function fit(text: string, px: number): string {
  const max = Math.max(1, Math.floor(px / CHAR_PX));
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

function fmtNumber(v: number): string {
  if (Math.abs(v) >= 1000) return v.toFixed(0);
  if (Number.isInteger(v)) return String(v);
  return String(Math.round(v * 100) / 100);
}

function fmtTime(t: number): string {
  return new Date(t).toISOString().slice(11, 19);
}

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${FONT} ${attrs}>${escapeXml(content)}</text>`;
}

interface Range {
  readonly min: number;
  readonly max: number;
}

/** The smallest of 1, 2, 4, 6, 8 x 10^k at or above `v` (v > 0): quarters of it read well as tick labels. */
export function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 4, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function rangeOf(values: readonly number[], fixedMin?: number, fixedMax?: number): Range {
  const min = fixedMin ?? Math.min(0, ...values);
  // No data, or a flat line at the floor (a healthy cluster's 0s): a 0..1 axis, not one of identical 0 labels.
  const hi = values.length === 0 || Math.max(...values) <= min ? min + 0.95 : Math.max(...values);
  let max = fixedMax ?? min + niceCeil(Math.max(hi - min, 1e-9) * 1.05);
  if (!(max > min)) max = min + 4;
  return { min, max };
}

function metricWidget(widget: MetricWidget, series: readonly SeriesData[], box: Box, opts: RenderOptions): string {
  const out: string[] = [];
  const pad = 8;
  out.push(text(box.left + pad, box.top + 18, fit(widget.title || '(untitled)', box.width - 2 * pad), 'font-size="13" font-weight="bold" fill="#16191f"'));
  const legendLines = Math.max(1, Math.ceil(series.length / 2));
  const plot: Box = {
    left: box.left + 44,
    top: box.top + 30,
    width: box.width - 44 - (series.some((s) => s.yAxis === 'right') ? 44 : 16),
    height: box.height - 30 - 22 - legendLines * 15,
  };
  if (plot.height < 20 || plot.width < 40) {
    out.push(text(box.left + pad, box.top + 36, 'widget too small to draw', 'font-size="11" fill="#687078"'));
    return out.join('\n');
  }
  const t0 = opts.start.getTime();
  const t1 = opts.end.getTime();
  const xOf = (t: number) => plot.left + ((t - t0) / (t1 - t0)) * plot.width;
  const leftValues = [...series.filter((s) => s.yAxis === 'left').flatMap((s) => s.points.map((p) => p.v)), ...widget.annotations.map((a) => a.value)];
  const rightValues = series.filter((s) => s.yAxis === 'right').flatMap((s) => s.points.map((p) => p.v));
  const left = rangeOf(leftValues, widget.yMin, widget.yMax);
  const right = rangeOf(rightValues);
  const yOf = (v: number, r: Range) => plot.top + plot.height - ((v - r.min) / (r.max - r.min)) * plot.height;

  // axes and grid
  out.push(`<rect x="${plot.left.toFixed(1)}" y="${plot.top.toFixed(1)}" width="${plot.width.toFixed(1)}" height="${plot.height.toFixed(1)}" fill="#ffffff" stroke="#d5dbdb"/>`);
  for (let i = 0; i <= 4; i += 1) {
    const v = left.min + ((left.max - left.min) * i) / 4;
    const y = yOf(v, left);
    out.push(`<line x1="${plot.left.toFixed(1)}" x2="${(plot.left + plot.width).toFixed(1)}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#eaeded"/>`);
    out.push(text(plot.left - 4, y + 4, fmtNumber(v), 'font-size="10" fill="#687078" text-anchor="end"'));
    if (rightValues.length > 0) out.push(text(plot.left + plot.width + 4, y + 4, fmtNumber(right.min + ((right.max - right.min) * i) / 4), 'font-size="10" fill="#687078"'));
  }
  const ticks = Math.max(2, Math.min(5, Math.floor(plot.width / 90)));
  for (let i = 0; i <= ticks; i += 1) {
    const t = t0 + ((t1 - t0) * i) / ticks;
    out.push(text(xOf(t), plot.top + plot.height + 13, fmtTime(t), `font-size="10" fill="#687078" text-anchor="${i === 0 ? 'start' : i === ticks ? 'end' : 'middle'}"`));
  }

  // thresholds
  for (const a of widget.annotations) {
    const y = yOf(a.value, left);
    out.push(`<line class="annotation" x1="${plot.left.toFixed(1)}" x2="${(plot.left + plot.width).toFixed(1)}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#d13212" stroke-dasharray="6 4"/>`);
    out.push(text(plot.left + plot.width - 4, y - 3, `${a.label} ${fmtNumber(a.value)}`.trim(), 'font-size="10" fill="#d13212" text-anchor="end"'));
  }

  // series
  series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length] ?? '#000000';
    const r = s.yAxis === 'right' ? right : left;
    const pts = s.points.filter((p) => p.t >= t0 && p.t <= t1);
    if (pts.length === 1) {
      const p = pts[0] as { t: number; v: number };
      out.push(`<circle class="series" cx="${xOf(p.t).toFixed(1)}" cy="${yOf(p.v, r).toFixed(1)}" r="3" fill="${colour}"/>`);
    } else if (pts.length > 1) {
      const d = pts.map((p) => `${xOf(p.t).toFixed(1)},${yOf(p.v, r).toFixed(1)}`).join(' ');
      out.push(`<polyline class="series" points="${d}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    }
  });
  if (series.every((s) => s.points.length === 0)) {
    out.push(text(plot.left + plot.width / 2, plot.top + plot.height / 2, 'No data available.', 'class="no-data" font-size="13" fill="#687078" text-anchor="middle"'));
  }

  // legend, two entries a line
  const legendTop = plot.top + plot.height + 30;
  const half = (box.width - 2 * pad) / 2;
  series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length] ?? '#000000';
    const x = box.left + pad + (i % 2) * half;
    const y = legendTop + Math.floor(i / 2) * 15;
    const last = s.points[s.points.length - 1];
    const suffix = s.points.length === 0 ? ` (no data${s.note ? `: ${s.note}` : ''})` : ` (last ${fmtNumber(last?.v ?? 0)}${s.source === 'emf' ? ', from EMF logs' : ''})`;
    out.push(`<rect x="${x.toFixed(1)}" y="${(y - 8).toFixed(1)}" width="10" height="3" fill="${colour}"/>`);
    out.push(text(x + 14, y, fit(`${s.label}${s.yAxis === 'right' ? ' (right)' : ''}${suffix}`, half - 18), 'font-size="11" fill="#16191f"'));
  });
  return out.join('\n');
}

/** Markdown shown as its lines (headings bold, no other formatting). */
function textWidget(widget: TextWidget, box: Box): string {
  const out: string[] = [];
  const lines = widget.markdown.split('\n');
  let y = box.top + 18;
  for (const line of lines) {
    if (y > box.top + box.height - 6) break;
    const heading = /^#+\s*/.exec(line);
    const content = line.replace(/^#+\s*/, '').replace(/\*\*|__|`/g, '');
    out.push(text(box.left + 8, y, fit(content, box.width - 16), heading ? 'font-size="13" font-weight="bold" fill="#16191f"' : 'font-size="12" fill="#16191f"'));
    y += 16;
  }
  return out.join('\n');
}

export function renderDashboardSvg(dashboard: Dashboard, data: DashboardData, opts: RenderOptions): string {
  if (data.length !== dashboard.widgets.length) throw new DashboardError(`data has ${data.length} widget entries for ${dashboard.widgets.length} widgets`);
  if (!(opts.end.getTime() > opts.start.getTime())) throw new DashboardError('the time window must end after it starts');
  const rows = Math.max(1, ...dashboard.widgets.map((w) => w.y + w.height));
  const height = HEADER_PX + rows * ROW_PX + 8;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CANVAS_WIDTH}" height="${height}" viewBox="0 0 ${CANVAS_WIDTH} ${height}">`,
    `<rect width="${CANVAS_WIDTH}" height="${height}" fill="#f2f3f3"/>`,
    text(8, 20, opts.name, 'font-size="16" font-weight="bold" fill="#16191f"'),
    text(8, 38, `${opts.start.toISOString().slice(0, 19)}Z .. ${opts.end.toISOString().slice(0, 19)}Z (UTC)${opts.subtitle ? ` · ${opts.subtitle}` : ''}`, 'font-size="11" fill="#687078"'),
  ];
  dashboard.widgets.forEach((w, i) => {
    const box = widgetBox(w);
    parts.push(`<g class="widget" data-index="${i}" data-grid="${w.x},${w.y},${w.width},${w.height}">`);
    parts.push(`<rect x="${box.left}" y="${box.top}" width="${box.width}" height="${box.height}" fill="#ffffff" stroke="#aab7b8" rx="2"/>`);
    parts.push(w.type === 'metric' ? metricWidget(w, data[i] ?? [], box, opts) : textWidget(w, box));
    parts.push('</g>');
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
