/**
 * Figures of the robustness protocol (docs/robustness.md): reliability diagrams and histograms of an uncertainty
 * score in and out of distribution, one small panel per model. The data are computed in JavaScript (calibration
 * bins from `expectedCalibrationError`, histogram bins from `histogramRows`), so a spec holds a few hundred rows
 * however many test images there were.
 */
import type { TopLevelSpec } from 'vega-lite';
import { colorScale } from './palette';
import { distinct, theme } from './theme';
import type { Row } from './types';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** Fixed colours for the protocol's sets (in-distribution blue, OOD warm); other sets take the palette's. */
const SET_COLORS: Record<string, string> = { clean: '#4e79a7', 'fashion-mnist': '#f28e2b', 'uniform-noise': '#e15759' };

function setColorScale(sets: string[]): { domain: string[]; range: string[] } {
  const others = colorScale(sets.filter((s) => !SET_COLORS[s]));
  return { domain: sets, range: sets.map((s) => SET_COLORS[s] ?? others.range[others.domain.indexOf(s)]) };
}

export interface ReliabilityOptions {
  /**
   * One row per non-empty confidence bin: {model, set, confidence, accuracy, count}. `set` tells the curves of a
   * panel apart (e.g. 'clean' and 'rotate-60').
   */
  rows: Row[];
  title?: string;
  columns?: number;
  width?: number;
  height?: number;
}

/**
 * Reliability diagrams: the accuracy of each confidence bin against its mean confidence, one panel per model and one
 * line per test set, with the diagonal of perfect calibration dashed. Points below the diagonal are over-confident.
 */
export function reliabilityDiagram(opts: ReliabilityOptions): TopLevelSpec {
  const models = distinct(opts.rows, 'model');
  const sets = distinct(opts.rows, 'set');
  // The diagonal as data of every panel (a facet's layers share its data).
  const diagonal = models.flatMap((model) => [0, 1].map((v) => ({ model, kind: 'diagonal', confidence: v, accuracy: v })));
  const bins = opts.rows.map((r) => ({ ...r, kind: 'bin' }));
  return {
    $schema: SCHEMA,
    title: opts.title ?? 'Reliability diagrams: accuracy against confidence per bin (dashed: perfect calibration)',
    config: theme,
    data: { values: [...diagonal, ...bins] },
    facet: { field: 'model', type: 'nominal', sort: models, title: null },
    columns: opts.columns ?? 4,
    spec: {
      width: opts.width ?? 170,
      height: opts.height ?? 150,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'diagonal'" }],
          mark: { type: 'line', color: '#999999', strokeDash: [4, 3], strokeWidth: 1 },
          encoding: {
            x: { field: 'confidence', type: 'quantitative', title: 'confidence', scale: { domain: [0, 1] } },
            y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] } },
          },
        },
        {
          transform: [{ filter: "datum.kind === 'bin'" }],
          mark: { type: 'line', point: { size: 25 }, strokeWidth: 1.5 },
          encoding: {
            x: { field: 'confidence', type: 'quantitative' },
            y: { field: 'accuracy', type: 'quantitative' },
            color: { field: 'set', type: 'nominal', title: 'test set', scale: setColorScale(sets) },
            tooltip: [
              { field: 'set', type: 'nominal' },
              { field: 'confidence', type: 'quantitative', format: '.3f' },
              { field: 'accuracy', type: 'quantitative', format: '.3f' },
              { field: 'count', type: 'quantitative' },
            ],
          },
        },
      ],
    },
  } as TopLevelSpec;
}

/**
 * Histogram rows of `values` over [lo, hi] in `bins` equal bins, as fractions of the set (so sets of different sizes
 * compare): {x0, x1, fraction, count} plus the given labels. Values outside [lo, hi] are clipped into the end bins.
 */
export function histogramRows(values: ArrayLike<number>, lo: number, hi: number, bins: number, labels: Row = {}): Row[] {
  if (!(hi > lo) || !(Number.isInteger(bins) && bins >= 1)) throw new Error(`histogramRows: need hi > lo and bins >= 1, got [${lo}, ${hi}], ${bins}`);
  const counts = new Array<number>(bins).fill(0);
  let n = 0;
  const width = (hi - lo) / bins;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    counts[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)))]++;
    n++;
  }
  return counts.map((count, i) => ({ ...labels, x0: lo + i * width, x1: lo + (i + 1) * width, count, fraction: n > 0 ? count / n : 0 }));
}

export interface ScoreHistogramOptions {
  /** Rows of `histogramRows` with {model, set}: one panel per model, one colour per set. */
  rows: Row[];
  title?: string;
  xTitle?: string;
  /** 'sqrt' (default) keeps the small bins of the in-distribution set visible next to its tall first bin. */
  yScale?: 'linear' | 'sqrt';
  columns?: number;
  width?: number;
  height?: number;
}

/**
 * Histograms of an uncertainty score (e.g. the predictive entropy) on the in-distribution test set and on the OOD
 * sets, overlaid in one panel per model: the less the colours overlap, the better the score separates them.
 */
export function scoreHistogram(opts: ScoreHistogramOptions): TopLevelSpec {
  const models = distinct(opts.rows, 'model');
  const sets = distinct(opts.rows, 'set');
  const yScale = opts.yScale ?? 'sqrt';
  return {
    $schema: SCHEMA,
    title: opts.title ?? 'Predictive entropy in and out of distribution',
    config: theme,
    data: { values: opts.rows },
    facet: { field: 'model', type: 'nominal', sort: models, title: null },
    columns: opts.columns ?? 4,
    spec: {
      width: opts.width ?? 170,
      height: opts.height ?? 130,
      mark: { type: 'rect', opacity: 0.55 },
      encoding: {
        x: { field: 'x0', type: 'quantitative', title: opts.xTitle ?? 'predictive entropy (nats)', scale: { zero: true, nice: false } },
        x2: { field: 'x1' },
        y: { field: 'fraction', type: 'quantitative', title: yScale === 'sqrt' ? 'fraction of set (sqrt)' : 'fraction of set', scale: { type: yScale } },
        y2: { datum: 0 },
        color: { field: 'set', type: 'nominal', title: 'set', scale: setColorScale(sets) },
        tooltip: [
          { field: 'set', type: 'nominal' },
          { field: 'x0', type: 'quantitative', format: '.3f', title: 'from' },
          { field: 'x1', type: 'quantitative', format: '.3f', title: 'to' },
          { field: 'fraction', type: 'quantitative', format: '.3f' },
        ],
      },
    },
  } as TopLevelSpec;
}

export interface ScoreTableOptions {
  /** Rows {row, column, value}, e.g. {model, test: 'fashion-mnist · H', AUROC}; first-seen order is kept. */
  rows: Row[];
  x: string;
  y: string;
  value: string;
  /** The colour scale runs over this range, clamped (default [0.5, 1]: AUROC from chance to perfect). */
  domain?: [number, number];
  format?: string;
  title?: string;
  /** A second title line (e.g. what the column abbreviations mean). */
  subtitle?: string;
  cellWidth?: number;
}

/**
 * A table of scores in [0, 1] as a heatmap with the values printed in the cells (e.g. the OOD-detection AUROC per
 * predictor and per OOD set and score). Long row and column labels are shown whole.
 */
export function scoreTable(opts: ScoreTableOptions): TopLevelSpec {
  const [lo, hi] = opts.domain ?? [0.5, 1];
  const enc = {
    x: { field: opts.x, type: 'nominal', sort: distinct(opts.rows, opts.x), title: null, axis: { labelAngle: -35, labelLimit: 400, orient: 'top' } },
    y: { field: opts.y, type: 'nominal', sort: distinct(opts.rows, opts.y), title: null, axis: { labelLimit: 400 } },
  };
  return {
    $schema: SCHEMA,
    title: opts.subtitle ? { text: opts.title ?? opts.value, subtitle: opts.subtitle } : (opts.title ?? opts.value),
    config: theme,
    data: { values: opts.rows },
    width: { step: opts.cellWidth ?? 70 },
    height: { step: 26 },
    layer: [
      { mark: 'rect', encoding: { ...enc, color: { field: opts.value, type: 'quantitative', title: opts.value, scale: { scheme: 'blues', domain: [lo, hi], clamp: true } } } },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          ...enc,
          text: { field: opts.value, type: 'quantitative', format: opts.format ?? '.3f' },
          color: { condition: { test: `datum[${JSON.stringify(opts.value)}] > ${lo + 0.6 * (hi - lo)}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  } as TopLevelSpec;
}
