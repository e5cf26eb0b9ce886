/**
 * Tables and figure data of the Bayesian M-ary experiments (Chien & Chang) from a run's summary: the M sweep,
 * the Monte-Carlo predictive uncertainty and the deployed memory of each variant.
 */
import type { Row } from '../plots/types';

type Variant = Record<string, unknown>;

const num = (v: unknown, digits = 4): number | null => (typeof v === 'number' && Number.isFinite(v) ? Number(v.toPrecision(digits)) : null);
const pct = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? Number((100 * v).toFixed(2)) : null);

export const PRIOR_LABELS: Record<string, string> = { spikeslab: 'multiple spike-and-slab', gaussian: 'Gaussian' };

/** The Bayesian variants (those with an M), in the run's order. */
export function bayesVariants(variants: Variant[]): Variant[] {
  return variants.filter((v) => typeof v.M === 'number');
}

/**
 * One row per (M, prior): validation and test accuracy of the deployed quantized network, test accuracy of the
 * deterministic mode the network was trained in and of the Monte-Carlo predictive around it; bits per weight and
 * memory. The float network is the first row.
 */
export function mSweepTable(variants: Variant[]): Row[] {
  const fp = variants.find((v) => v.name === 'fp');
  const rows: Row[] = [];
  if (fp) rows.push({ M: 'float', prior: '-', 'quantized val. (%)': pct(fp.validationAccuracy), 'quantized test (%)': pct(fp.testAccuracy), 'trained mode test (%)': null, 'MC test (%)': null, 'bits / weight': 32, 'memory (KiB)': null });
  for (const v of bayesVariants(variants)) {
    rows.push({
      M: v.M as number, prior: PRIOR_LABELS[String(v.prior)] ?? String(v.prior),
      'quantized val. (%)': pct(v.validationAccuracy), 'quantized test (%)': pct(v.testAccuracy),
      'trained mode test (%)': pct(v.trainedMode === 'mean' ? v.testAccuracyMean : v.testAccuracy),
      'MC test (%)': pct(v.testAccuracyMc), 'bits / weight': num(v.bitsPerWeight), 'memory (KiB)': num(v.memoryKiB),
    });
  }
  return rows;
}

/** Posterior σ per layer of each Bayesian variant: median and 90th percentile against the initial σ. */
export function sigmaTable(variants: Variant[]): Row[] {
  return bayesVariants(variants).flatMap((v) => ((v.sigma ?? []) as { name: string; median: number; p90: number; initial: number }[]).map((s) => ({
    variant: String(v.name), layer: s.name, 'median σ': num(s.median, 3), 'p90 σ': num(s.p90, 3), 'initial σ': num(s.initial, 3),
  })));
}

/** Rows {variant, predictions: correct|wrong, entropy} for grouped bars: a calibrated model is less sure when wrong. */
export function entropyRows(variants: Variant[]): Row[] {
  return bayesVariants(variants).flatMap((v) => [
    { variant: String(v.name), predictions: 'correct', meanEntropy: num(v.meanEntropyCorrect) },
    { variant: String(v.name), predictions: 'wrong', meanEntropy: num(v.meanEntropyWrong) },
  ]).filter((r) => r.meanEntropy != null);
}

/** Deployed memory per variant: ceil(log2 M)-bit indices plus M float32 levels per layer, against float32. */
export function memoryRows(variants: Variant[]): Row[] {
  return bayesVariants(variants).map((v) => ({
    variant: String(v.name), 'bits / weight': num(v.bitsPerWeight), 'memory (KiB)': num(v.memoryKiB),
    'float32 (KiB)': num(v.float32KiB), compression: num(v.compressionRatio, 3),
  }));
}

/** The learned levels of each layer of one variant, one row per layer (the red rules of its histogram). */
export function levelsTable(variant: Variant): Row[] {
  const layers = (variant.layers ?? []) as string[];
  const levels = (variant.levels ?? []) as number[][];
  const counts = (variant.levelCounts ?? []) as number[][];
  return layers.map((name, i) => ({
    layer: name,
    levels: (levels[i] ?? []).map((l) => l.toFixed(4)).join(', '),
    'weights per level': (counts[i] ?? []).join(', '),
  }));
}

/** Names of the per-variant histogram figures a run saved (histogram-M3-spikeslab, ...). */
export function histogramFigures(figures: string[]): string[] {
  return figures.filter((f) => f.startsWith('histogram-'));
}
