/**
 * Tables of the mary-robustness-mnist experiment (issue 12) for notebook 06, read from its summary.json: per
 * predictor metrics and OOD AUROCs, the posterior σ of the Bayesian nets, and one metric across the shifts of a kind.
 */
import type { Row } from '../plots';
import type { OodResult, ShiftMetrics } from '../experiments/robustnessProtocol';

/** One line per predictor with its clean-test metrics and the OOD AUROCs of each score. */
export function robustnessTable(summary: Record<string, unknown>): Row[] {
  const variants = (summary.variants ?? []) as Array<{ name: string; kind: string; clean: ShiftMetrics; ood: OodResult[] }>;
  return variants.map((v) => {
    const row: Row = { model: v.name, kind: v.kind, accuracy: v.clean.accuracy, nll: v.clean.nll, brier: v.clean.brier, ece: v.clean.ece };
    for (const o of v.ood) row[`AUROC ${o.set} ${o.score}`] = o.auroc;
    return row;
  });
}

/** The posterior σ per layer of every Bayesian net, and whether it left its initial value. */
export function sigmaTable(summary: Record<string, unknown>): Row[] {
  const nets = (summary.nets ?? []) as Array<{ name: string; sigma?: { name: string; median: number; p90: number; initial: number }[]; sigmaAtInitial?: boolean }>;
  return nets.filter((n) => n.sigma).flatMap((n) => n.sigma!.map((s) => ({
    net: n.name, layer: s.name, median: s.median, p90: s.p90, initial: s.initial, atInitial: n.sigmaAtInitial ? 'yes' : 'no',
  })));
}

/** One metric (default accuracy) per predictor at every shift of one kind ('rotate', 'contrast', ...). */
export function shiftTable(summary: Record<string, unknown>, kind: string, metric: keyof ShiftMetrics = 'accuracy'): Row[] {
  const variants = (summary.variants ?? []) as Array<{ name: string; shifts: Record<string, ShiftMetrics> }>;
  return variants.map((v) => {
    const row: Row = { model: v.name };
    for (const [name, m] of Object.entries(v.shifts)) if (name.startsWith(`${kind}-`)) row[name] = m[metric] as number;
    return row;
  });
}
