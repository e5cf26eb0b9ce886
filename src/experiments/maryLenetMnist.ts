/**
 * Chien & Chang, Bayesian asymmetric M-ary quantized LeNet-5 on MNIST (their README's `train_nonsymLeNet.py`,
 * which was never published; the MNIST variant of its model is): M = 2, 3, 4 with the multiple
 * spike-and-slab prior and with the Gaussian prior, against the float LeNet-5 trained the same way.
 * Figures: per-layer histograms of the weight means with the learned levels (their densenet-M3 figure),
 * quantization loss and test accuracy against epochs for both priors (their comparison figure), and the
 * accuracy of every variant.
 */
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { initFromFloat, RECIPE_NAMES, recipeConfig, type ThetaInit } from '../bayes';
import { DEFAULT_VALIDATION_COUNT, holdOutValidation, loadDataset, type ImageDataset } from '../data';
import { buildModel } from '../models';
import type { HistoryRow } from '../train';
import { trainFloatLenet5 } from './lenetMnist';
import { curves, methodBars, savePlot, weightHistogram } from '../plots';
import { checkMaryOptions, trainMaryVariant, variantName, type MaryTrainConfig } from './maryCommon';
import type { Experiment, VariantSummary } from './types';

export interface MaryLenetMnistConfig extends MaryTrainConfig {
  [key: string]: unknown;
  dataset: string;
  /** The training recipe whose knobs are the defaults: 'qnnlab' or 'paper' (src/bayes/recipes.ts). */
  recipe: string;
  /** Training examples held out for validation: the last ones of the training file (0 = none). */
  validation: number;
  /** Initialiser of the means when training from scratch ('published' = the code's). */
  thetaInit: string;
  Ms: number[];
  priors: string[];
  /** Also train the float LeNet-5 baseline (variant 'fp'). */
  fp: boolean;
  fpEpochs: number;
  /** Learning rate x0.1 at these epochs of the float baseline (as lenet-mnist). */
  fpMilestones: number[];
  logSigma2Init: number;
  /** First convolution 'valid' (the code's MNIST LeNet) or 'same' (the float LeNet-5 baseline's network). */
  conv1Padding: string;
  /** BatchNorm momentum of the Bayesian LeNet (0.9 = the code's PyTorch 0.1). */
  bnMomentum: number;
  limitTrain: number;
  limitTest: number;
}

/** The Bayesian M-ary LeNet-5 of a run's configuration, started from `floatModel` when the config says so. */
export function buildMaryLenet(cfg: MaryLenetMnistConfig, ds: ImageDataset, M: number, floatModel: tf.LayersModel | null): tf.LayersModel {
  const { trainForward, freezeLayerOptions } = checkMaryOptions(cfg, cfg.priors);
  const model = buildModel('mary-lenet5', {
    M, seed: cfg.seed, inputShape: [ds.height, ds.width, ds.channels], numClasses: ds.numClasses, logSigma2Init: cfg.logSigma2Init, trainForward,
    conv1Padding: cfg.conv1Padding as 'valid' | 'same', bnMomentum: cfg.bnMomentum, thetaInit: cfg.thetaInit as ThetaInit, ...freezeLayerOptions,
  });
  if (cfg.initFromFloat) {
    if (!floatModel) throw new Error('initFromFloat: no trained float model given');
    initFromFloat(model, floatModel);
  }
  return model;
}

/** Checks between options of a mary-lenet-mnist configuration (each option's own range is its rule in validate.ts). */
export function checkMaryLenetConfig(cfg: MaryLenetMnistConfig): void {
  checkMaryOptions(cfg, cfg.priors);
  if (cfg.conv1Padding !== 'same' && cfg.initFromFloat) throw new Error(`--initFromFloat needs --conv1Padding same (the float LeNet-5's network)`);
}

export const maryLenetMnist: Experiment<MaryLenetMnistConfig> = {
  name: 'mary-lenet-mnist',
  description: 'Bayesian asymmetric M-ary LeNet-5 on MNIST (Chien & Chang): M = 2, 3, 4, multiple spike-and-slab vs Gaussian prior, vs float.',
  defaults: {
    dataset: 'mnist', recipe: 'qnnlab', validation: DEFAULT_VALIDATION_COUNT, Ms: [2, 3, 4], priors: ['spikeslab', 'gaussian'], fp: true,
    fpEpochs: 12, fpMilestones: [8, 11], mcSamples: 10, seed: 1, limitTrain: 0, limitTest: 0,
    ...recipeConfig('qnnlab'),
  } as MaryLenetMnistConfig,
  presets: { key: 'recipe', names: RECIPE_NAMES, values: (name) => recipeConfig(name) as Partial<MaryLenetMnistConfig> },
  smoke: { Ms: [3], epochs: 2, fpEpochs: 1, milestones: [], fpMilestones: [], limitTrain: 1024, limitTest: 500, validation: 256, mcSamples: 3 },
  // Every option has a shared rule (validate.ts); the checks between options are checkMaryLenetConfig's.
  check: checkMaryLenetConfig,
  async run(cfg, ctx) {
    const ds = holdOutValidation(await loadDataset(cfg.dataset, { limitTrain: cfg.limitTrain || undefined, limitTest: cfg.limitTest || undefined }), cfg.validation);
    const history: HistoryRow[] = [];
    const variants: VariantSummary[] = [];
    const figures: string[] = [];

    let floatModel: tf.LayersModel | null = null;
    if (cfg.fp || cfg.initFromFloat) {
      const r = await trainFloatLenet5(ds, { ...cfg, epochs: cfg.fpEpochs, milestones: cfg.fpMilestones }, ctx, history, cfg.initFromFloat);
      if (cfg.fp) {
        history.push(...r.history);
        variants.push(r.variant);
      }
      floatModel = r.model;
    }

    for (const M of cfg.Ms) {
      for (const prior of cfg.priors) {
        const model = buildMaryLenet(cfg, ds, M, floatModel);
        const r = await trainMaryVariant(model, ds, M, prior, cfg, ctx, history);
        history.push(...r.history);
        variants.push(r.variant);
        const fig = `histogram-${variantName(M, prior)}`;
        await savePlot(weightHistogram({
          values: r.means, layerNames: r.layerNames, levels: r.levels,
          title: `Weight means of the Bayesian M=${M} LeNet-5 (${prior === 'spikeslab' ? 'multiple spike-and-slab' : 'Gaussian'} prior), learned levels dashed`,
        }), path.join(ctx.outDir, fig));
        figures.push(fig);
        model.dispose();
      }
    }

    floatModel?.dispose();
    const bayesRows = history.filter((r) => r.variant !== 'fp');
    if (bayesRows.length > 0) {
      await savePlot(curves({
        rows: bayesRows, x: 'epoch', y: ['quantizationLoss', ds.validation ? 'valAccuracy' : 'testAccuracy'], color: 'variant',
        title: `Quantization loss Σ(Q(θ)−θ)² and quantized ${ds.validation ? 'validation' : 'test'} accuracy: spike-and-slab vs Gaussian prior (${cfg.recipe} recipe)`,
      }), path.join(ctx.outDir, 'comparison'));
      figures.push('comparison');
    }
    const table = variants.map((v) => ({
      method: v.name, testAccuracy: v.testAccuracy,
      ...(v.memoryKiB != null ? { memoryKiB: Number((v.memoryKiB as number).toFixed(2)) } : {}),
    }));
    await savePlot(methodBars({ rows: table, x: 'method', y: 'testAccuracy', title: 'LeNet-5 / MNIST: float vs Bayesian M-ary (quantized weights)' }), path.join(ctx.outDir, 'accuracy'));
    figures.push('accuracy');
    return { history, variants, figures, extra: { config: cfg } };
  },
};
