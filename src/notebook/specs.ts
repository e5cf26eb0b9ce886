/**
 * Figures only the notebooks draw (the experiments' own figures are in src/plots): quantizer transfer curves,
 * a scatter, grouped bars and a heatmap. Same theme and method colours as src/plots.
 */
import type { TopLevelSpec } from 'vega-lite';
import { colorScale } from '../plots/palette';
import { distinct, humanize, quantityAxis, numbers, theme } from '../plots/theme';
import type { Row } from '../plots/types';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

export interface TransferOptions {
  /** Rows {quantizer, x, q}: one curve per quantizer. */
  rows: Row[];
  title?: string;
  columns?: number;
}

/**
 * q(x) against x, one small panel per quantizer, with the identity y = x dashed for reference: the staircase
 * shows the levels and where each quantizer saturates.
 */
export function transferCurves(opts: TransferOptions): TopLevelSpec {
  const names = distinct(opts.rows, 'quantizer');
  return {
    $schema: SCHEMA,
    title: opts.title ?? 'Forward transfer curve q(x) of each quantizer (dashed: y = x)',
    config: theme,
    data: { values: opts.rows },
    facet: { field: 'quantizer', type: 'nominal', sort: names, title: null },
    columns: opts.columns ?? 4,
    spec: {
      width: 170,
      height: 130,
      layer: [
        {
          mark: { type: 'line', color: '#999999', strokeDash: [4, 3], strokeWidth: 1 },
          encoding: { x: { field: 'x', type: 'quantitative', title: 'x' }, y: { field: 'x', type: 'quantitative', title: 'q(x)' } },
        },
        {
          mark: { type: 'line', strokeWidth: 2, interpolate: 'linear' },
          encoding: {
            x: { field: 'x', type: 'quantitative', title: 'x' },
            y: { field: 'q', type: 'quantitative', title: 'q(x)' },
            color: { field: 'quantizer', type: 'nominal', scale: colorScale(names), legend: null },
          },
        },
      ],
    },
  } as TopLevelSpec;
}

export interface ScatterOptions {
  rows: Row[];
  x: string;
  y: string;
  color?: string;
  title?: string;
  titles?: Record<string, string>;
  /** Connect the points of each colour in x order (default false). */
  line?: boolean;
  /** Colours of the `color` values in first-seen order (default: the method palette). */
  colors?: string[];
  width?: number;
  height?: number;
}

export function scatter(opts: ScatterOptions): TopLevelSpec {
  const t = opts.titles ?? {};
  const color = opts.color;
  const ax = quantityAxis(opts.x, numbers(opts.rows, opts.x), t[opts.x]);
  const ay = quantityAxis(opts.y, numbers(opts.rows, opts.y), t[opts.y]);
  const enc: Record<string, unknown> = {
    x: { field: opts.x, type: 'quantitative', title: ax.title, axis: { format: ax.format }, scale: { zero: false } },
    y: { field: opts.y, type: 'quantitative', title: ay.title, axis: { format: ay.format } },
  };
  if (color) {
    const names = distinct(opts.rows, color);
    const scale = opts.colors ? { domain: names, range: opts.colors.slice(0, names.length) } : colorScale(names);
    enc.color = { field: color, type: 'nominal', title: humanize(color), scale };
  }
  return {
    $schema: SCHEMA,
    title: opts.title ?? `${humanize(opts.y)} against ${humanize(opts.x)}`,
    config: theme,
    data: { values: opts.rows },
    width: opts.width ?? 380,
    height: opts.height ?? 260,
    mark: opts.line ? { type: 'line', point: { size: 50 }, strokeWidth: 1.5 } : { type: 'point', filled: true, size: 60 },
    encoding: enc,
  } as TopLevelSpec;
}

export interface GroupedBarsOptions {
  rows: Row[];
  /** Category on the x axis (e.g. 'variant'). */
  x: string;
  /** Bars side by side inside each category (e.g. 'predictions': correct / wrong). */
  group: string;
  y: string;
  title?: string;
  titles?: Record<string, string>;
  /** One colour per group, in first-seen order (default: green, red, blue, orange: correct / wrong first). */
  colors?: string[];
  width?: number;
  height?: number;
}

export function groupedBars(opts: GroupedBarsOptions): TopLevelSpec {
  const t = opts.titles ?? {};
  const ay = quantityAxis(opts.y, numbers(opts.rows, opts.y), t[opts.y]);
  const groups = distinct(opts.rows, opts.group);
  return {
    $schema: SCHEMA,
    title: opts.title ?? `${humanize(opts.y)} by ${humanize(opts.x)} and ${humanize(opts.group)}`,
    config: theme,
    data: { values: opts.rows },
    width: opts.width ?? Math.max(240, 70 * distinct(opts.rows, opts.x).length),
    height: opts.height ?? 240,
    mark: { type: 'bar' },
    encoding: {
      x: { field: opts.x, type: 'nominal', sort: distinct(opts.rows, opts.x), title: t[opts.x] ?? humanize(opts.x), axis: { labelAngle: -30 } },
      xOffset: { field: opts.group, type: 'nominal', sort: groups },
      y: { field: opts.y, type: 'quantitative', title: ay.title, axis: { format: ay.format } },
      color: {
        field: opts.group, type: 'nominal', sort: groups, title: t[opts.group] ?? humanize(opts.group),
        scale: { domain: groups, range: (opts.colors ?? ['#59a14f', '#e15759', '#4e79a7', '#f28e2b']).slice(0, Math.max(1, groups.length)) },
      },
    },
  } as TopLevelSpec;
}

export interface HeatmapOptions {
  rows: Row[];
  x: string;
  y: string;
  value: string;
  title?: string;
  /** d3 number format of the printed values (default '.1f'). */
  format?: string;
  cellWidth?: number;
  cellHeight?: number;
}

/** A table as coloured cells with the value printed in each (e.g. compression ratio by model and method). */
export function heatmap(opts: HeatmapOptions): TopLevelSpec {
  const enc = {
    x: { field: opts.x, type: 'nominal', sort: distinct(opts.rows, opts.x), title: humanize(opts.x), axis: { labelAngle: -40, labelLimit: 220 } },
    y: { field: opts.y, type: 'nominal', sort: distinct(opts.rows, opts.y), title: humanize(opts.y) },
  };
  return {
    $schema: SCHEMA,
    title: opts.title ?? `${humanize(opts.value)} by ${humanize(opts.x)} and ${humanize(opts.y)}`,
    config: theme,
    data: { values: opts.rows },
    // Cells wide enough for a printed value such as "30.0".
    width: { step: opts.cellWidth ?? 46 },
    height: { step: opts.cellHeight ?? 28 },
    layer: [
      { mark: 'rect', encoding: { ...enc, color: { field: opts.value, type: 'quantitative', title: humanize(opts.value), scale: { scheme: 'blues' } } } },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          ...enc,
          text: { field: opts.value, type: 'quantitative', format: opts.format ?? '.1f' },
          // White text on the darker ~40 % of the blues scale.
          color: { condition: { test: `datum[${JSON.stringify(opts.value)}] > ${darkFrom(numbers(opts.rows, opts.value))}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  } as TopLevelSpec;
}

function darkFrom(v: number[]): number {
  if (v.length === 0) return 0;
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  return lo + 0.6 * (hi - lo);
}

