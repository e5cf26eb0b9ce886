import type { TopLevelSpec } from 'vega-lite';
import type { LayerSpec, UnitSpec } from 'vega-lite/build/src/spec';
import type { Field } from 'vega-lite/build/src/channeldef';
import { colorScale } from './palette';
import type { Row } from './types';
import { distinct, humanize, numbers, quantityAxis, theme } from './theme';

export type { Row };

export interface CurvesOptions {
  rows: Row[];
  /** The x column (default 'epoch'). */
  x?: string;
  /** One panel (or, layered, one axis) per column, e.g. ['quantLoss', 'testAccuracy']. */
  y: string[];
  /** Column that tells the lines apart (default 'variant'); coloured with the fixed palette. */
  color?: string;
  title?: string;
  /** Axis titles with units, by column; defaults are derived from the column name. */
  titles?: Record<string, string>;
  /** 'panels' (default): side by side; 'layered': two columns on one chart with left/right axes. */
  layout?: 'panels' | 'layered';
  width?: number;
  height?: number;
}

/** Axis definitions for x and each y, computed once so panels and layers agree. */
function axes(opts: CurvesOptions, x: string): { x: Axis; y: Axis[] } {
  const t = opts.titles ?? {};
  const y = opts.y.map((field) => ({ field, ...quantityAxis(field, numbers(opts.rows, field), t[field]) }));
  // Whole-number x (epochs, steps) gets integer ticks: "1, 2, 3", not "1.0, 1.5, 2.0" (tickMinStep does not
  // stop vega from ticking at halves over short ranges, so few values are listed explicitly).
  const xs = [...new Set(numbers(opts.rows, x))].sort((a, b) => a - b);
  const integral = xs.every(Number.isInteger);
  const axis: Axis = { field: x, title: t[x] ?? humanize(x), format: integral ? 'd' : undefined };
  if (integral && xs.length <= 12) axis.values = xs;
  return { x: axis, y };
}

interface Axis {
  field: string;
  title: string;
  format?: string;
  /** Explicit tick values (few whole-number epochs: vega would tick at 1.5, 2.5). */
  values?: number[];
}

/** Line + points for one y column; rows where that column is missing are skipped, not drawn at 0. */
function line(rows: Row[], x: Axis, color: string, y: Axis, extra: { orient?: 'left' | 'right'; dash?: number[] } = {}): UnitSpec<Field> {
  return {
    transform: [{ filter: `isValid(datum[${JSON.stringify(y.field)}]) && isFinite(datum[${JSON.stringify(y.field)}])` }],
    mark: { type: 'line', point: { size: 30 }, strokeWidth: 2, ...(extra.dash ? { strokeDash: extra.dash } : {}) },
    encoding: {
      x: { field: x.field, type: 'quantitative', title: x.title, axis: { format: x.format, values: x.values } },
      y: { field: y.field, type: 'quantitative', title: y.title, axis: { format: y.format, orient: extra.orient }, scale: { zero: false } },
      color: { field: color, type: 'nominal', title: humanize(color), scale: colorScale(distinct(rows, color)) },
      tooltip: [
        { field: color, type: 'nominal' },
        { field: x.field, type: 'quantitative' },
        { field: y.field, type: 'quantitative', format: y.format ?? '.4g' },
      ],
    },
  };
}

/**
 * Metrics against epochs for several variants, e.g. quantization loss and test accuracy for a Gaussian
 * prior vs a multi spike-and-slab prior. Each metric gets its own y scale: they differ by orders of magnitude.
 */
export function curves(opts: CurvesOptions): TopLevelSpec {
  const x = opts.x ?? 'epoch';
  const color = opts.color ?? 'variant';
  const ax = axes(opts, x);
  const y = ax.y;
  const width = opts.width ?? 300;
  const height = opts.height ?? 240;
  const head = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: opts.title ?? `${opts.y.map(humanize).join(' and ')} by ${humanize(x)}`,
    config: theme,
    data: { values: opts.rows },
  };
  if (opts.layout === 'layered') {
    if (y.length !== 2) throw new Error(`curves: layout 'layered' needs exactly 2 y columns, got ${y.length}`);
    // Solid = left axis, dashed = right axis; the axis titles say so because dash has no legend here.
    const left = line(opts.rows, ax.x, color, { ...y[0], title: `${y[0].title} (solid)` }, { orient: 'left' });
    const right = line(opts.rows, ax.x, color, { ...y[1], title: `${y[1].title} (dashed)` }, { orient: 'right', dash: [6, 4] });
    const layered: LayerSpec<Field> = { layer: [left, right], width, height, resolve: { scale: { y: 'independent' } } };
    return { ...head, ...layered } as TopLevelSpec;
  }
  return { ...head, hconcat: y.map((a) => ({ ...line(opts.rows, ax.x, color, a), width, height })) } as TopLevelSpec;
}
