import type { TopLevelSpec } from 'vega-lite';
import { theme } from './theme';

export interface WeightHistogramOptions {
  /** Weight means (or weights), one array per layer. */
  values: Array<Float32Array | number[]>;
  layerNames: string[];
  /** Learned quantization levels per layer, drawn as vertical rules (the "spikes"). */
  levels?: number[][];
  /** Bins per layer (default 60). */
  bins?: number;
  /** 'sqrt' (default) keeps the slabs visible next to tall spikes; 'linear' shows raw counts. */
  yScale?: 'linear' | 'sqrt';
  title?: string;
  xTitle?: string;
  /** Panels per row (default 3). */
  columns?: number;
  width?: number;
  height?: number;
}

/** One bar of a layer's histogram, or one level rule; a single table so one facet can draw both. */
type Row = { layer: string; kind: 'bin'; x0: number; x1: number; count: number } | { layer: string; kind: 'level'; level: number };

/** Min and max of the weights and levels (levels widen the range so every rule is on the panel). */
function extent(values: ArrayLike<number>, levels: number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  for (const l of levels) {
    lo = Math.min(lo, l);
    hi = Math.max(hi, l);
  }
  if (!Number.isFinite(lo)) return [-1, 1];
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

/**
 * Bin in JavaScript rather than in vega-lite: a layer can hold millions of weights, and embedding them
 * in the spec (and the saved .vl.json) would be slow and huge; the bins are a few hundred rows.
 */
export function binValues(layer: string, values: ArrayLike<number>, levels: number[], bins: number): Row[] {
  const [lo, hi] = extent(values, levels);
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
  }
  return counts.map((count, i) => ({ layer, kind: 'bin' as const, x0: lo + i * width, x1: lo + (i + 1) * width, count }));
}

/**
 * Per-layer histograms of weight means with the learned quantization levels as dashed red rules:
 * after training with a spike-and-slab prior the bars pile up on the rules (spikes) with a thin slab around.
 */
export function weightHistogram(opts: WeightHistogramOptions): TopLevelSpec {
  const { values, layerNames, levels = [], bins = 60, yScale = 'sqrt' } = opts;
  if (values.length !== layerNames.length) throw new Error(`weightHistogram: ${values.length} value arrays but ${layerNames.length} layer names`);
  const rows: Row[] = [];
  layerNames.forEach((name, i) => {
    const lv = levels[i] ?? [];
    rows.push(...binValues(name, values[i], lv, bins));
    for (const level of lv) rows.push({ layer: name, kind: 'level', level });
  });
  // Short: a rotated title longer than the panel height pushes the panels apart.
  const yTitle = yScale === 'sqrt' ? 'weights per bin (sqrt)' : 'weights per bin';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: opts.title ?? 'Weight distribution per layer (red: quantization levels)',
    config: theme,
    data: { values: rows },
    facet: { field: 'layer', type: 'nominal', sort: layerNames, title: null },
    columns: opts.columns ?? Math.min(3, layerNames.length),
    spec: {
      width: opts.width ?? 260,
      height: opts.height ?? 180,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'bin'" }],
          // rect, not bar: with x, x2 and y all quantitative a bar is not anchored at 0, y2 says where it starts.
          mark: { type: 'rect', color: '#4e79a7' },
          encoding: {
            x: { field: 'x0', type: 'quantitative', title: opts.xTitle ?? 'weight value (posterior mean)', scale: { zero: false, nice: false } },
            x2: { field: 'x1' },
            y: { field: 'count', type: 'quantitative', title: yTitle, scale: { type: yScale } },
            y2: { datum: 0 },
          },
        },
        {
          transform: [{ filter: "datum.kind === 'level'" }],
          mark: { type: 'rule', color: '#d62728', strokeDash: [5, 3], strokeWidth: 1.5 },
          encoding: {
            x: { field: 'level', type: 'quantitative' },
            tooltip: [{ field: 'level', type: 'quantitative', title: 'level', format: '.4f' }],
          },
        },
      ],
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  };
}
