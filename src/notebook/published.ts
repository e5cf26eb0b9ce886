/**
 * Numbers published by the sources the notebooks reproduce (see docs/methods.md#published-numbers), and
 * tables that put our numbers next to them. Accuracies are fractions (0.91 = 91 %).
 */
import type { Row } from '../plots/types';

export interface PublishedColumn {
  /** Column title in the comparison table. */
  label: string;
  /** Where the numbers come from. */
  source: string;
  /** Test accuracy by method name (our method names). */
  accuracy: Record<string, number>;
}

/**
 * Stochastic quantization, VGG-9 on CIFAR-10 (Dong et al., BMVC 2017, arXiv 1708.01001, Table 1), quoted from
 * the third-party report JonahMiller/Stochastic-Quantization report.pdf Table 2 ("Their SQ" row): a secondary
 * source, the paper's own table could not be read. FWN is the full-precision network ('fp' here).
 */
export const SQ_PAPER_VGG9_CIFAR10: PublishedColumn = {
  label: 'paper (Dong et al. 2017)',
  source: 'Dong et al., BMVC 2017, arXiv 1708.01001, VGG-9 / CIFAR-10 (as quoted in JonahMiller/Stochastic-Quantization report.pdf, Table 2)',
  accuracy: { 'fp': 0.91, 'bwn': 0.8933, 'sq-bwn': 0.9087, 'twn': 0.9013, 'sq-twn': 0.9163 },
};

/** The same report's own PyTorch reproduction: what a re-implementation typically gets. */
export const SQ_REIMPL_VGG9_CIFAR10: PublishedColumn = {
  label: 'PyTorch re-implementation',
  source: 'JonahMiller/Stochastic-Quantization report.pdf (third-party PyTorch reproduction), VGG-9 / CIFAR-10',
  accuracy: { 'fp': 0.8776, 'bwn': 0.8372, 'sq-bwn': 0.8542, 'twn': 0.8472, 'sq-twn': 0.8638 },
};

/** Same report, ResNet-20 / CIFAR-10 (the paper's ResNet numbers were not found). */
export const SQ_REIMPL_RESNET20_CIFAR10: PublishedColumn = {
  label: 'PyTorch re-implementation (ResNet-20)',
  source: 'JonahMiller/Stochastic-Quantization report.pdf (third-party PyTorch reproduction), ResNet-20 / CIFAR-10',
  accuracy: { 'fp': 0.8531, 'bwn': 0.827, 'sq-bwn': 0.8348, 'twn': 0.8369, 'sq-twn': 0.8424 },
};

/** SQ's name for each method, for table labels. */
export const SQ_LABELS: Record<string, string> = { 'fp': 'FWN (fp)', 'bwn': 'BWN', 'twn': 'TWN', 'sq-bwn': 'SQ-BWN', 'sq-twn': 'SQ-TWN' };

/**
 * One row per method: our final test accuracy, each published column, and ours minus the first column
 * (in percentage points). Methods without a published number get an empty cell.
 */
export function compareWithPublished(
  variants: Array<{ name: string; testAccuracy: number }>, columns: PublishedColumn[], labels: Record<string, string> = SQ_LABELS,
): Row[] {
  return variants.map((v) => {
    const row: Row = { method: labels[v.name] ?? v.name, 'ours (%)': pct(v.testAccuracy) };
    for (const c of columns) row[`${c.label} (%)`] = c.accuracy[v.name] != null ? pct(c.accuracy[v.name]) : null;
    const first = columns[0]?.accuracy[v.name];
    row['ours − paper (pp)'] = first != null ? Number((100 * (v.testAccuracy - first)).toFixed(2)) : null;
    return row;
  });
}

/** Rows {method, source, testAccuracy} (ours and each published column) for grouped bars. */
export function comparisonRows(
  variants: Array<{ name: string; testAccuracy: number }>, columns: PublishedColumn[], labels: Record<string, string> = SQ_LABELS,
): Row[] {
  return variants.flatMap((v) => [
    { method: labels[v.name] ?? v.name, source: 'ours', testAccuracy: v.testAccuracy },
    ...columns.filter((c) => c.accuracy[v.name] != null).map((c) => ({ method: labels[v.name] ?? v.name, source: c.label, testAccuracy: c.accuracy[v.name] })),
  ]);
}

function pct(x: number): number {
  return Number((100 * x).toFixed(2));
}

/**
 * Chien & Chang publish figures, no tables (README of susan0720/Su-Ting-Chang-Adaptive-Quantization-Method-
 * for-Deep-Bayesian-Neural-Network: comparison.png, quantizedloss.png). What those figures show, as text.
 */
export const CHIEN_CHANG_CLAIMS = [
  { claim: 'quantized loss Σ(Q(θ)−θ)² with the multiple spike-and-slab prior', published: 'falls to about 0 within about 3 epochs (quantizedloss.png, comparison.png)' },
  { claim: 'quantized loss with the Gaussian prior', published: 'falls slowly, stays well above the spike-and-slab curve (comparison.png)' },
  { claim: 'weight means after training (DenseNet, M = 3)', published: 'pile up on the 3 levels, a spike per level (densenet-M3.png)' },
  { claim: 'accuracy of the M-ary network', published: '"similar performance as FPNN" with less memory and test time (Pattern Recognition 2023 abstract); no table' },
];

/**
 * How fast the quantization loss falls, per Bayesian variant: its first and last value and the first epoch at
 * which it is below `fraction` (default 10 %) of the first epoch's value (null: never).
 */
export function quantLossSpeed(history: Row[], fraction = 0.1): Row[] {
  const byVariant = new Map<string, Row[]>();
  for (const r of history) {
    if (typeof r.quantizationLoss !== 'number' || !Number.isFinite(r.quantizationLoss)) continue;
    const k = String(r.variant);
    if (!byVariant.has(k)) byVariant.set(k, []);
    byVariant.get(k)!.push(r);
  }
  return [...byVariant.entries()].map(([variant, rows]) => {
    const first = rows[0].quantizationLoss as number;
    const last = rows[rows.length - 1].quantizationLoss as number;
    const hit = rows.find((r) => (r.quantizationLoss as number) <= fraction * first);
    return {
      variant, 'epoch 1': Number(first.toPrecision(4)), 'last epoch': Number(last.toPrecision(4)),
      'last / first': Number((last / first).toPrecision(3)), [`first epoch below ${Math.round(fraction * 100)} %`]: hit ? (hit.epoch as number) : null,
    };
  });
}
