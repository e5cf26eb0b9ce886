/**
 * Ablation of the qnnlab recipe of mary-lenet-mnist (M = 3, multiple spike-and-slab prior): the full recipe, each
 * of its departures from the paper's procedure removed one at a time, and the control that isolates the prior
 * (learned levels + straight-through forward from the float net, KL switched off). Every row trains the same
 * network from the same float net with the same seeds; model choices are read from validation accuracy.
 */
import type * as tf from '@tensorflow/tfjs';
import { holdOutValidation, loadDataset } from '../data';
import type { HistoryRow } from '../train';
import { curves, savePlot } from '../plots';
import { trainFloatLenet5 } from './lenetMnist';
import { trainMaryVariant } from './maryCommon';
import { buildMaryLenet, checkMaryLenetConfig, maryLenetMnist, type MaryLenetMnistConfig } from './maryLenetMnist';
import type { Experiment, VariantSummary } from './types';
import { listOf, oneOf, seedRule } from './validate';

/** Each row: the knobs it changes on top of the qnnlab recipe, and what that removes. */
export const ABLATION_ROWS: Record<string, { overrides: Partial<MaryLenetMnistConfig>; removes: string }> = {
  qnnlab: { overrides: {}, removes: 'nothing (the full qnnlab recipe)' },
  'no-float-init': { overrides: { initFromFloat: false }, removes: 'the start from the trained float net (from scratch)' },
  'mean-forward': { overrides: { trainForward: 'mean' }, removes: 'the straight-through forward (the noisy pass around θ)' },
  'no-layer-weighting': { overrides: { klLayerExponent: 0 }, removes: 'the (N/n_l)^0.5 per-layer KL weight (the plain ELBO)' },
  'no-freezing': { overrides: { freezeThreshold: 0 }, removes: 'the freezing of oscillating weights' },
  'no-level-gap': { overrides: { minLevelGap: 0 }, removes: 'the minimum gap between levels' },
  'no-prior': { overrides: { klLambda: 0 }, removes: 'the prior (control: learned levels + STE from the float net, no KL)' },
};

export interface MaryAblationConfig extends MaryLenetMnistConfig {
  rows: string[];
  /** Seeds of every row (the float net is trained once, with the first seed). */
  seeds: number[];
  /** Rows that decide a claim, trained with `extraSeeds` too. */
  decisiveRows: string[];
  extraSeeds: number[];
}

/** The ablation's checks between options, before any data loads: known rows, and every row's configuration. */
export function checkAblationConfig(cfg: MaryAblationConfig): void {
  for (const r of [...cfg.rows, ...cfg.decisiveRows]) {
    if (!ABLATION_ROWS[r]) throw new Error(`--rows: unknown ablation row '${r}' (known: ${Object.keys(ABLATION_ROWS).join(', ')})`);
  }
  if (cfg.seeds.length === 0 || ![...cfg.seeds, ...cfg.extraSeeds].every((s) => Number.isInteger(s))) throw new Error('--seeds: give at least one integer seed');
  for (const r of cfg.rows) checkMaryLenetConfig({ ...cfg, ...ABLATION_ROWS[r].overrides } as MaryAblationConfig);
}

const rowName = oneOf(() => Object.keys(ABLATION_ROWS));

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

export const maryLenetAblation: Experiment<MaryAblationConfig> = {
  name: 'mary-lenet-mnist-ablation',
  description: 'Ablation of the qnnlab recipe (M = 3, spike-and-slab): each departure from the paper removed in turn, and the no-prior control.',
  defaults: {
    ...maryLenetMnist.defaults, recipe: 'qnnlab', Ms: [3], priors: ['spikeslab'], fp: false,
    rows: Object.keys(ABLATION_ROWS), seeds: [1], decisiveRows: ['qnnlab', 'no-prior'], extraSeeds: [2],
  },
  smoke: { epochs: 2, fpEpochs: 1, milestones: [], fpMilestones: [], limitTrain: 512, limitTest: 200, validation: 128, mcSamples: 2, rows: ['qnnlab', 'no-prior'], extraSeeds: [] },
  options: { rows: listOf(rowName), decisiveRows: listOf(rowName), seeds: listOf(seedRule, { minLength: 1 }), extraSeeds: listOf(seedRule) },
  check: checkAblationConfig,
  async run(cfg, ctx) {
    const rowConfigs = cfg.rows.map((r) => ({ row: r, cfg: { ...cfg, ...ABLATION_ROWS[r].overrides } as MaryAblationConfig }));
    const ds = holdOutValidation(await loadDataset(cfg.dataset, { limitTrain: cfg.limitTrain || undefined, limitTest: cfg.limitTest || undefined }), cfg.validation);
    const history: HistoryRow[] = [];
    const variants: VariantSummary[] = [];
    let floatModel: tf.LayersModel | null = null;
    if (rowConfigs.some((r) => r.cfg.initFromFloat)) {
      const f = await trainFloatLenet5(ds, { ...cfg, seed: cfg.seeds[0], epochs: cfg.fpEpochs, milestones: cfg.fpMilestones }, ctx, history, true);
      floatModel = f.model;
    }
    const table: Record<string, unknown>[] = [];
    for (const { row, cfg: c } of rowConfigs) {
      const seeds = cfg.decisiveRows.includes(row) ? [...cfg.seeds, ...cfg.extraSeeds] : cfg.seeds;
      const runs: VariantSummary[] = [];
      for (const seed of seeds) {
        const rc = { ...c, seed };
        const model = buildMaryLenet(rc, ds, 3, floatModel);
        const r = await trainMaryVariant(model, ds, 3, 'spikeslab', rc, ctx, history, `${row}-s${seed}`);
        model.dispose();
        history.push(...r.history);
        variants.push({ ...r.variant, row, seed });
        runs.push(r.variant);
      }
      const ql = runs.map((v) => v.quantizationLoss as number[]);
      const val = runs.map((v) => v.validationAccuracy as number);
      const test = runs.map((v) => v.testAccuracy as number);
      table.push({
        row, removes: ABLATION_ROWS[row].removes, seeds,
        validationAccuracy: mean(val), validationAccuracyMin: Math.min(...val), validationAccuracyMax: Math.max(...val),
        testAccuracy: mean(test), testAccuracyMin: Math.min(...test), testAccuracyMax: Math.max(...test),
        quantizationLossEpoch1: mean(ql.map((q) => q[0])), quantizationLossEpoch3: ql[0].length >= 3 ? mean(ql.map((q) => q[2])) : null,
        quantizationLossRatio: ql[0].length >= 3 ? mean(ql.map((q) => q[2] / q[0])) : null,
        frozenFraction: runs[0].frozenFraction != null ? mean(runs.map((v) => v.frozenFraction as number)) : 0,
      });
    }
    floatModel?.dispose();
    const bayesRows = history.filter((r) => r.variant !== 'fp');
    await savePlot(curves({ rows: bayesRows, x: 'epoch', y: ['quantizationLoss', ds.validation ? 'valAccuracy' : 'testAccuracy'], color: 'variant', title: 'Ablation of the qnnlab recipe (M = 3, spike-and-slab): quantization loss and quantized accuracy' }), `${ctx.outDir}/ablation`);
    return { history, variants, figures: ['ablation'], extra: { ablation: table, config: cfg } };
  },
};
