/**
 * Shared by the Bayesian M-ary experiments: train one (M, prior) variant with the negative ELBO, log the
 * quantization loss and both test accuracies every epoch, and report levels, memory and MC uncertainty.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { numBatches, type ImageDataset, type SplitName } from '../data';
import {
  checkFreezeOptions, DEFAULT_LOG_ALPHA_CLIP, evaluateMode, mcEvaluate, posteriorSigma, trainedModes, klTerm,
  type SpikeSlabGate, klWarmup, quantizationLoss, levelReport, variationalLayers,
  type PriorSpec,
} from '../bayes';
import { evaluate, fit, type FitConfig, type HistoryRow, type ScheduleConfig } from '../train';
import { maryMemory } from '../summary';
import { median } from '../util/stats';
import type { ExperimentContext, VariantSummary } from './types';

export type PriorName = 'spikeslab' | 'gaussian';

export interface MaryTrainConfig {
  epochs: number;
  batchSize: number;
  lr: number;
  milestones: number[];
  klWarmupEpochs: number;
  /** λ in loss = CE + β·λ·KL/N; λ = 1 is the ELBO itself (KL summed over weights, N training examples). */
  klLambda: number;
  /**
   * 'elbo': λ·KL/N with KL summed over all weights. 'layerMean': λ·Σ_layers KL_l/n_l, the published code's
   * scaling (each layer's KL averaged over its n_l weights), which weighs small layers (conv1, the classifier)
   * hundreds of times more than the ELBO does.
   */
  klNormalization?: string;
  /**
   * With 'elbo': weigh layer l's KL by (N/n_l)^α (0 = the ELBO, 1 = the published per-layer mean), a prior
   * stronger on the small layers only (see klTerm). Ignored with 'layerMean' (which is α = 1).
   */
  klLayerExponent?: number;
  /**
   * After every step, adjacent levels of a layer closer than this fraction of its mean level spacing are
   * pushed apart (0 = off), so no two levels merge and every layer deploys M distinct values.
   */
  minLevelGap?: number;
  /**
   * The levels' learning rate relative to the other parameters (the published code trains its scales at
   * 0.01·lr). Applied by shrinking each optimizer step of the levels by this factor (Adam's step is otherwise
   * invariant to gradient scale).
   */
  levelLrScale?: number;
  /**
   * Iterative freezing of weights whose level index oscillates (Nagel et al. 2022; layer option
   * `freezeThreshold`): freeze where the EMA oscillation frequency exceeds this. 0 = off.
   */
  freezeThreshold?: number;
  /** EMA momentum of that frequency (default 0.01). */
  freezeMomentum?: number;
  /**
   * Start every Bayesian variant from the trained float network (θ, biases, batch norm; levels spread over
   * each layer's trained weights), as soft weight-sharing (Ullrich et al. 2017) and sparse VD do. The float
   * net is trained (or resumed from its checkpoint) even when it is not reported.
   */
  initFromFloat?: boolean;
  /** Training forward pass: 'mean' (θ with local reparameterization) or 'ste' (Q(θ), straight-through to θ). */
  trainForward: string;
  /** Replaces the multistep schedule built from `milestones` (e.g. Chien & Chang's linear decay). */
  schedule?: ScheduleConfig;
  slabWidth: number;
  /** log α of the spike-and-slab KL is clipped to ±this (the code: 3). */
  logAlphaClip?: number;
  /** 'normalized' (a mixture) or 'window' (the code's raw slab windows), see priors.ts. */
  spikeSlabGate?: string;
  /** Adam's epsilon (the code: 1e-6; TensorFlow.js: 1e-7). */
  adamEpsilon?: number;
  /** 'multistep' (lr x0.1 at `milestones`) or 'linearDecay' (lr -= decayPerEpoch per epoch from decayStart). */
  lrSchedule?: string;
  decayStart?: number;
  decayPerEpoch?: number;
  gaussianPriorLogSigma2: number;
  clipValue: number;
  mcSamples: number;
  seed: number;
  augment?: FitConfig['augment'];
  normalize?: FitConfig['normalize'];
}

export function priorSpec(name: string, cfg: MaryTrainConfig): PriorSpec {
  if (name === 'spikeslab') {
    return { kind: 'spikeSlab', slabWidth: cfg.slabWidth, clip: cfg.logAlphaClip ?? DEFAULT_LOG_ALPHA_CLIP, gate: (cfg.spikeSlabGate ?? 'normalized') as SpikeSlabGate };
  }
  if (name === 'gaussian') return { kind: 'gaussian', priorMean: 0, priorLogSigma2: cfg.gaussianPriorLogSigma2 };
  throw new Error(`Unknown prior '${name}': use spikeslab or gaussian.`);
}

/** The priors of the Bayesian M-ary experiments (`--priors`). */
export const PRIOR_NAMES: readonly string[] = ['spikeslab', 'gaussian'];

/**
 * Check a Bayesian run's options, typed. The experiments call it before any training (the float baseline
 * included), so a misspelt option fails in seconds, not after the first model.
 */
export function checkMaryOptions(cfg: MaryTrainConfig, priors: string[]) {
  for (const p of priors) if (!PRIOR_NAMES.includes(p)) throw new Error(`--priors: unknown prior '${p}' (use ${PRIOR_NAMES.join(', ')})`);
  const trainForward = cfg.trainForward;
  if (trainForward !== 'mean' && trainForward !== 'ste') throw new Error(`--trainForward must be 'mean' or 'ste', got '${trainForward}'`);
  const klNormalization = cfg.klNormalization ?? 'elbo';
  if (klNormalization !== 'elbo' && klNormalization !== 'layerMean') {
    throw new Error(`--klNormalization must be 'elbo' or 'layerMean', got '${klNormalization}'`);
  }
  let layerExponent = cfg.klLayerExponent ?? 0;
  if (!(layerExponent >= 0 && layerExponent <= 1)) throw new Error(`--klLayerExponent must be in [0, 1], got ${layerExponent}`);
  if (klNormalization === 'layerMean') layerExponent = 0; // 'layerMean' is the exponent 1 and replaces it
  const minLevelGap = cfg.minLevelGap ?? 0;
  if (!(minLevelGap >= 0 && minLevelGap < 1)) throw new Error(`--minLevelGap must be in [0, 1), got ${minLevelGap}`);
  const levelLrScale = cfg.levelLrScale ?? 1;
  if (!(levelLrScale > 0 && levelLrScale <= 1)) throw new Error(`--levelLrScale must be in (0, 1], got ${levelLrScale}`);
  const freeze = { threshold: cfg.freezeThreshold ?? 0, momentum: cfg.freezeMomentum ?? 0.01 };
  try {
    checkFreezeOptions(freeze);
  } catch (e) {
    throw new Error(`--freezeThreshold / --freezeMomentum: ${(e as Error).message}`);
  }
  const clip = cfg.logAlphaClip ?? DEFAULT_LOG_ALPHA_CLIP;
  if (!(clip > 0)) throw new Error(`--logAlphaClip must be > 0, got ${clip}`);
  const gate = cfg.spikeSlabGate ?? 'normalized';
  if (gate !== 'normalized' && gate !== 'window') throw new Error(`--spikeSlabGate must be 'normalized' or 'window', got '${gate}'`);
  const eps = cfg.adamEpsilon ?? 1e-7;
  if (!(eps > 0 && eps < 1)) throw new Error(`--adamEpsilon must be in (0, 1), got ${eps}`);
  if (!cfg.schedule) {
    const sched = cfg.lrSchedule ?? 'multistep';
    if (sched !== 'multistep' && sched !== 'linearDecay') throw new Error(`--lrSchedule must be 'multistep' or 'linearDecay', got '${sched}'`);
    if (sched === 'linearDecay') {
      if (!(Number.isInteger(cfg.decayStart) && (cfg.decayStart as number) >= 0)) throw new Error(`--decayStart must be a non-negative integer, got ${cfg.decayStart}`);
      if (!((cfg.decayPerEpoch as number) >= 0)) throw new Error(`--decayPerEpoch must be >= 0, got ${cfg.decayPerEpoch}`);
    }
  }
  if (!(Number.isInteger(cfg.epochs) && cfg.epochs >= 1)) throw new Error(`--epochs must be a positive integer, got ${cfg.epochs}`);
  if (!(Number.isInteger(cfg.batchSize) && cfg.batchSize >= 1)) throw new Error(`--batchSize must be a positive integer, got ${cfg.batchSize}`);
  if (!(cfg.lr > 0)) throw new Error(`--lr must be > 0, got ${cfg.lr}`);
  if (!(cfg.klLambda >= 0)) throw new Error(`--klLambda must be >= 0, got ${cfg.klLambda}`);
  if (!(Number.isInteger(cfg.mcSamples) && cfg.mcSamples >= 1)) throw new Error(`--mcSamples must be a positive integer, got ${cfg.mcSamples}`);
  if (!(cfg.clipValue >= 0)) throw new Error(`--clipValue must be >= 0, got ${cfg.clipValue}`);
  return {
    trainForward: trainForward as 'mean' | 'ste', perLayerMean: klNormalization === 'layerMean', layerExponent, minLevelGap, levelLrScale,
    /** Layer options for the model builder. */
    freezeLayerOptions: { freezeThreshold: freeze.threshold, freezeMomentum: freeze.momentum },
  };
}

export const variantName = (M: number, prior: string) => `M${M}-${prior}`;

/** The learning-rate schedule of a run: an explicit one, or the one `lrSchedule` names. */
export function scheduleOf(cfg: MaryTrainConfig): ScheduleConfig {
  if (cfg.schedule) return cfg.schedule;
  if ((cfg.lrSchedule ?? 'multistep') === 'linearDecay') {
    return { name: 'linearDecay', start: cfg.decayStart ?? 50, decrement: cfg.decayPerEpoch ?? 0, minLr: 0 };
  }
  return { name: 'multistep', milestones: cfg.milestones, gamma: 0.1 };
}

/**
 * The training configuration of one Bayesian variant named `name` (checkpoint folder `<outDir>/checkpoints/<name>`):
 * what trainMaryVariant trains with. Exported so that another experiment can recognise a finished run's checkpoint
 * by its fingerprint (`fingerprintOf`).
 */
export function maryFitConfig(prior: string, cfg: MaryTrainConfig, outDir: string, ctx: Pick<ExperimentContext, 'resume' | 'progress'>, name: string): FitConfig {
  const spec = priorSpec(prior, cfg);
  const { perLayerMean, layerExponent, minLevelGap, levelLrScale, freezeLayerOptions } = checkMaryOptions(cfg, [prior]);
  return {
    epochs: cfg.epochs, batchSize: cfg.batchSize, seed: cfg.seed, variant: name,
    optimizer: { name: 'adam', lr: cfg.lr, ...(cfg.adamEpsilon != null && cfg.adamEpsilon !== 1e-7 ? { epsilon: cfg.adamEpsilon } : {}) },
    schedule: scheduleOf(cfg),
    clipValue: cfg.clipValue > 0 ? cfg.clipValue : undefined, augment: cfg.augment, normalize: cfg.normalize,
    checkpointDir: path.join(outDir, 'checkpoints', name), resume: ctx.resume, progress: ctx.progress,
    fingerprint: JSON.stringify({
      spec, klLambda: cfg.klLambda, klWarmupEpochs: cfg.klWarmupEpochs,
      ...(perLayerMean ? { klNormalization: 'layerMean' } : {}), ...(layerExponent > 0 ? { klLayerExponent: layerExponent } : {}),
      ...(minLevelGap > 0 ? { minLevelGap } : {}),
      ...(levelLrScale !== 1 ? { levelLrScale } : {}),
      ...(freezeLayerOptions.freezeThreshold > 0 ? freezeLayerOptions : {}), ...(cfg.initFromFloat ? { initFromFloat: true } : {}),
    }),
  };
}

/**
 * Train one (M, prior) variant on the negative ELBO. Every epoch logs the quantization loss and, on the split fit
 * evaluates (validation when the data set has one), the accuracy of the deployed quantized net as the training
 * left it, and of the other deterministic mode with batch norm re-estimated for it. At the end it evaluates the
 * validation and test splits: the trained deterministic mode, the deployed quantized net (batch norm re-estimated
 * when training did not see Q(θ)), and the Monte-Carlo predictive sampling around the trained centre.
 */
export async function trainMaryVariant(
  model: tf.LayersModel, ds: ImageDataset, M: number, prior: string, cfg: MaryTrainConfig, ctx: ExperimentContext,
  history: HistoryRow[],
  /** Variant name (and checkpoint folder); default M<M>-<prior>. */
  name = variantName(M, prior),
): Promise<{ history: HistoryRow[]; variant: VariantSummary; means: Float32Array[]; layerNames: string[]; levels: number[][] }> {
  const spec = priorSpec(prior, cfg);
  const stepsPerEpoch = numBatches(ds, 'train', { batchSize: cfg.batchSize });
  const N = ds.train.count;
  const { trainForward, perLayerMean, layerExponent, minLevelGap, levelLrScale, freezeLayerOptions } = checkMaryOptions(cfg, [prior]);
  const vls = variationalLayers(model);
  const trained = trainedModes(trainForward);
  // The deterministic mode the training did not see, evaluated with batch norm re-estimated for it.
  const otherMode = trained.deterministic === 'quantized' ? 'mean' : 'quantized';
  const otherKey = otherMode === 'mean' ? 'AccuracyMean' : 'AccuracyQuantizedBnRecal';
  const evalSplit: SplitName = ds.validation ? 'validation' : 'test';
  const evalPrefix = ds.validation ? 'val' : 'test';
  let stepInEpoch = 0;
  let prevLevels: number[][] = []; // the levels after the previous step (set when each epoch starts, resume included)
  const fitCfg = maryFitConfig(prior, cfg, ctx.outDir, ctx, name);
  const res = await fit(model, ds, fitCfg, {
    beforeEpoch: ({ batch }) => {
      stepInEpoch = batch; // not 0 when resuming from a checkpoint written inside the epoch
      if (levelLrScale !== 1) prevLevels = vls.map((l) => l.levelSlots());
    },
    extraLoss: ({ epoch }) => {
      const beta = klWarmup(epoch + stepInEpoch / stepsPerEpoch, cfg.klWarmupEpochs);
      return klTerm(model, spec, { numExamples: N, klWeight: beta * cfg.klLambda, perLayerMean, layerExponent });
    },
    afterStep: () => {
      stepInEpoch++;
      if (levelLrScale !== 1) {
        vls.forEach((l, i) => l.writeLevelSlots(l.levelSlots().map((v, k) => prevLevels[i][k] + levelLrScale * (v - prevLevels[i][k]))));
      }
      if (minLevelGap > 0) for (const l of vls) l.separateLevels(minLevelGap);
      if (levelLrScale !== 1) prevLevels = vls.map((l) => l.levelSlots());
    },
    epochMetrics: ({ epoch }) => {
      const ql = quantizationLoss(model);
      const q = ql.dataSync()[0];
      ql.dispose();
      const other = evaluateMode(model, ds, evalSplit, otherMode, { recalibrate: true, normalize: cfg.normalize });
      const frozen: Record<string, number> = freezeLayerOptions.freezeThreshold > 0
        ? { frozenFraction: vls.reduce((s, l) => s + l.frozenCount(), 0) / vls.reduce((s, l) => s + l.numWeights(), 0) } : {};
      const sigma = posteriorSigma(model);
      return {
        quantizationLoss: q, [`${evalPrefix}${otherKey}`]: other.accuracy, klWeight: klWarmup(epoch + 1, cfg.klWarmupEpochs),
        sigmaMedian: median(sigma.map((s) => s.median)), ...frozen,
      };
    },
    onEpochEnd: (row) => {
      const all = [...history, row];
      ctx.live?.update(all);
      ctx.onEpoch?.(row, all);
    },
  });
  res.optimizer.dispose();

  // Final evaluation (validation and test): the trained mode as trained, the deployed quantized net, MC.
  const splits: SplitName[] = ds.validation ? ['validation', 'test'] : ['test'];
  const evals: Record<string, unknown> = {};
  for (const split of splits) {
    const key = split === 'validation' ? 'validation' : 'test';
    const quant = evaluateMode(model, ds, split, 'quantized', { recalibrate: trained.deterministic !== 'quantized', normalize: cfg.normalize });
    const mean = evaluateMode(model, ds, split, 'mean', { recalibrate: trained.deterministic !== 'mean', normalize: cfg.normalize });
    const mc = mcEvaluate(model, ds, split, { samples: cfg.mcSamples, sampleMode: trained.sample, normalize: cfg.normalize });
    evals[`${key}Accuracy`] = quant.accuracy;
    evals[`${key}Nll`] = quant.nll;
    evals[`${key}AccuracyMean`] = mean.accuracy;
    evals[`${key}AccuracyMc`] = mc.accuracy;
    evals[`${key}NllMc`] = mc.nll;
    if (split === 'test') {
      evals.meanEntropyCorrect = mc.meanEntropyCorrect;
      evals.meanEntropyWrong = mc.meanEntropyWrong;
      evals.meanMutualInformation = mc.meanMutualInformation;
    }
    if (trained.deterministic !== 'quantized') {
      // The paper's own test procedure: Q(θ) with the batch-norm statistics of training.
      evals[`${key}AccuracyQuantizedTrainBn`] = evaluateMode(model, ds, split, 'quantized', { normalize: cfg.normalize }).accuracy;
    }
  }
  const report = levelReport(model);
  const mem = maryMemory(model, M);
  const variant: VariantSummary = {
    name, M, prior,
    testAccuracy: evals.testAccuracy as number,
    ...evals,
    trainForward, trainedMode: trained.deterministic, mcSampleMode: trained.sample, mcSamples: cfg.mcSamples,
    quantizationLoss: res.history.map((r) => r.quantizationLoss as number),
    sigma: posteriorSigma(model),
    levels: report.map((r) => r.levels),
    partitions: report.map((r) => r.partitions),
    levelCounts: report.map((r) => r.counts),
    layers: report.map((r) => r.name),
    ...(freezeLayerOptions.freezeThreshold > 0 ? { frozenFraction: res.history[res.history.length - 1].frozenFraction } : {}),
    ...mem,
    epochs: res.history.length,
  };
  return {
    history: res.history, variant, means: vls.map((l) => l.meansValues()), layerNames: report.map((r) => r.name),
    levels: report.map((r) => r.levels),
  };
}

