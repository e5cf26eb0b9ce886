/**
 * Chien & Chang's Bayesian M-ary DenseNet-40 (k = 12) on CIFAR-10 with M = 3 (their train_densenet.py
 * and its densenet-M3 histogram figure): Adam 5e-3, batch 64, 195 epochs, lr -= 0.001/100 per epoch from
 * epoch 50, KL warm-up over 15 epochs, gradients clamped to [-1, 1], images scaled to [0, 1] without
 * augmentation. Fixed here: a 10-class head (the code builds a 100-class head for CIFAR-10), every layer's KL
 * counted once, the multiple spike-and-slab prior of the paper (the code wires a Gaussian prior; `--priors`
 * runs both). Needs `npm run data -- cifar10`; --smoke runs on generated CIFAR-format files.
 */
import * as path from 'node:path';
import { buildModel } from '../models';
import { curves, methodBars, savePlot, weightHistogram } from '../plots';
import type { HistoryRow } from '../train';
import { loadCifarForExperiment, type CifarDataConfig } from './cifarData';
import { checkMaryOptions, trainMaryVariant, variantName, type MaryTrainConfig } from './maryCommon';
import type { Experiment, VariantSummary } from './types';
import { positiveInt, valueRule } from './validate';

export interface MaryDensenetConfig extends MaryTrainConfig, CifarDataConfig {
  [key: string]: unknown;
  M: number;
  priors: string[];
  depth: number;
  growthRate: number;
  logSigma2Init: number;
  /** Epoch from which the learning rate falls linearly (Chien & Chang's code: 50) and by how much per epoch. */
  decayStart: number;
  decayPerEpoch: number;
}

export const maryDensenetCifar10: Experiment<MaryDensenetConfig> = {
  name: 'mary-densenet40-cifar10',
  description: 'Bayesian M-ary (M = 3) DenseNet-40 on CIFAR-10 (Chien & Chang; needs `npm run data -- cifar10`).',
  defaults: {
    dataset: 'cifar10', dataDir: '', fixture: false, limitTrain: 0, limitTest: 0,
    M: 3, priors: ['spikeslab', 'gaussian'], depth: 40, growthRate: 12, logSigma2Init: -8,
    epochs: 195, batchSize: 64, lr: 5e-3, milestones: [], decayStart: 50, decayPerEpoch: 0.001 / 100,
    klWarmupEpochs: 15, klLambda: 1, klNormalization: 'elbo', minLevelGap: 0.25, trainForward: 'mean', slabWidth: 0.075, gaussianPriorLogSigma2: -4,
    clipValue: 1, mcSamples: 10, seed: 1,
  },
  smoke: { fixture: true, depth: 10, epochs: 2, limitTrain: 256, limitTest: 100, klWarmupEpochs: 1, mcSamples: 2, decayStart: 1 },
  options: {
    depth: valueRule('an integer 3n + 4 >= 7 (DenseNet: three dense blocks of n layers)', (v) => typeof v === 'number' && Number.isInteger(v) && v >= 7 && (v - 4) % 3 === 0, { kind: 'int', bounds: { min: 7 } }),
    growthRate: positiveInt,
  },
  check: (cfg) => void checkMaryOptions(cfg, cfg.priors),
  async run(cfg, ctx) {
    const { trainForward, freezeLayerOptions } = checkMaryOptions(cfg, cfg.priors);
    const ds = await loadCifarForExperiment(cfg, ctx.outDir);
    const history: HistoryRow[] = [];
    const variants: VariantSummary[] = [];
    const figures: string[] = [];
    const train: MaryTrainConfig = { ...cfg, schedule: { name: 'linearDecay', start: cfg.decayStart, decrement: cfg.decayPerEpoch, minLr: 0 } };
    for (const prior of cfg.priors) {
      const model = buildModel('mary-densenet40', {
        M: cfg.M, depth: cfg.depth, growthRate: cfg.growthRate, seed: cfg.seed, numClasses: ds.numClasses,
        inputShape: [ds.height, ds.width, ds.channels], logSigma2Init: cfg.logSigma2Init, trainForward, ...freezeLayerOptions,
      });
      const r = await trainMaryVariant(model, ds, cfg.M, prior, train, ctx, history);
      history.push(...r.history);
      variants.push(r.variant);
      // Chien & Chang's densenet-M3 figure shows layers 1-4; show the first four and the last variational layers.
      const pick = [0, 1, 2, 3, r.means.length - 1].filter((i, k, a) => i < r.means.length && a.indexOf(i) === k);
      const fig = `histogram-${variantName(cfg.M, prior)}`;
      await savePlot(weightHistogram({
        values: pick.map((i) => r.means[i]), layerNames: pick.map((i) => r.layerNames[i]), levels: pick.map((i) => r.levels[i]),
        title: `DenseNet-${cfg.depth} M=${cfg.M} (${prior}): weight means with learned levels`,
      }), path.join(ctx.outDir, fig));
      figures.push(fig);
      model.dispose();
    }
    await savePlot(curves({ rows: history, x: 'epoch', y: ['quantizationLoss', 'testAccuracy'], color: 'variant', title: `DenseNet-${cfg.depth} / CIFAR-10: quantization loss and quantized test accuracy` }), path.join(ctx.outDir, 'comparison'));
    figures.push('comparison');
    const table = variants.map((v) => ({ method: v.name, testAccuracy: v.testAccuracy, memoryKiB: Number((v.memoryKiB as number).toFixed(1)) }));
    await savePlot(methodBars({ rows: table, x: 'method', y: 'testAccuracy', memory: 'memoryKiB', title: `DenseNet-${cfg.depth} / CIFAR-10, M = ${cfg.M}` }), path.join(ctx.outDir, 'accuracy'));
    figures.push('accuracy');
    return { history, variants, figures, extra: { config: cfg } };
  },
};
