/**
 * Shared by the Bayesian M-ary experiments: train one (M, prior) variant with the negative ELBO, log the
 * quantization loss and both test accuracies every epoch, and report levels, memory and MC uncertainty.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { batches, numBatches, type ImageDataset } from '../data';
import {
  checkFreezeOptions, klTerm, klWarmup, quantizationLoss, setMode, restoreModes, mcPredict, levelReport, variationalLayers,
  type PriorSpec,
} from '../bayes';
import { evaluate, fit, type FitConfig, type HistoryRow, type ScheduleConfig } from '../train';
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
  /** Replaces the multistep schedule built from `milestones` (e.g. the seed's linear decay). */
  schedule?: ScheduleConfig;
  slabWidth: number;
  gaussianPriorLogSigma2: number;
  clipValue: number;
  mcSamples: number;
  seed: number;
  augment?: FitConfig['augment'];
  normalize?: FitConfig['normalize'];
}

export function priorSpec(name: string, cfg: MaryTrainConfig): PriorSpec {
  if (name === 'spikeslab') return { kind: 'spikeSlab', slabWidth: cfg.slabWidth };
  if (name === 'gaussian') return { kind: 'gaussian', priorMean: 0, priorLogSigma2: cfg.gaussianPriorLogSigma2 };
  throw new Error(`Unknown prior '${name}': use spikeslab or gaussian.`);
}

const PRIORS = ['spikeslab', 'gaussian'];

/**
 * Check a Bayesian run's options, typed. The experiments call it before any training (the float baseline
 * included), so a misspelt option fails in seconds, not after the first model.
 */
export function checkMaryOptions(cfg: MaryTrainConfig, priors: string[]) {
  for (const p of priors) if (!PRIORS.includes(p)) throw new Error(`--priors: unknown prior '${p}' (use ${PRIORS.join(', ')})`);
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
  return {
    trainForward: trainForward as 'mean' | 'ste', perLayerMean: klNormalization === 'layerMean', layerExponent, minLevelGap, levelLrScale,
    /** Layer options for the model builder. */
    freezeLayerOptions: { freezeThreshold: freeze.threshold, freezeMomentum: freeze.momentum },
  };
}

export const variantName = (M: number, prior: string) => `M${M}-${prior}`;

/** Evaluate the test set with every variational layer in `mode`. */
function evalInMode(model: tf.LayersModel, ds: ImageDataset, mode: 'mean' | 'quantized', normalize: FitConfig['normalize']) {
  const modes = setMode(model, mode);
  try {
    return evaluate(model, batches(ds, 'test', { batchSize: 500, normalize }));
  } finally {
    restoreModes(model, modes);
  }
}

/** Monte-Carlo predictive accuracy and mean predictive entropy on correct / wrong test predictions. */
function mcReport(model: tf.LayersModel, ds: ImageDataset, samples: number, normalize: FitConfig['normalize']) {
  let correct = 0;
  let n = 0;
  let hRight = 0;
  let nRight = 0;
  let hWrong = 0;
  let nWrong = 0;
  for (const b of batches(ds, 'test', { batchSize: 500, normalize })) {
    const p = mcPredict(model, b.x, { samples, seed: 12345 });
    const pred = tf.tidy(() => tf.argMax(p.probs, -1).dataSync());
    const ent = p.entropy.dataSync();
    for (let i = 0; i < b.size; i++) {
      const ok = pred[i] === b.labels[i];
      if (ok) {
        correct++;
        hRight += ent[i];
        nRight++;
      } else {
        hWrong += ent[i];
        nWrong++;
      }
      n++;
    }
    tf.dispose([p.probs, p.entropy, p.expectedEntropy, p.mutualInformation, b.x, b.y]);
  }
  return {
    testAccuracyMc: correct / n,
    meanEntropyCorrect: nRight ? hRight / nRight : null,
    meanEntropyWrong: nWrong ? hWrong / nWrong : null,
  };
}

/** Deployed memory: each mean stored as a ceil(log2 M)-bit index plus M float32 levels per layer. */
export function maryMemory(model: tf.LayersModel, M: number) {
  const vl = variationalLayers(model);
  const bitsPerWeight = Math.ceil(Math.log2(M));
  let quantized = 0;
  let levels = 0;
  let trainingOnly = 0;
  for (const l of vl) {
    const n = l.numWeights();
    quantized += n;
    // log σ² and the oscillation-tracking state are not deployed
    trainingOnly += n + l.nonTrainableWeights.reduce((s, w) => s + w.read().size, 0);
    levels += M;
  }
  const total = model.countParams();
  const float = total - quantized - trainingOnly - levels; // countParams counts the levels too
  const memoryKiB = (quantized * bitsPerWeight + (levels + float) * 32) / 8 / 1024;
  const float32KiB = ((quantized + float) * 32) / 8 / 1024;
  return { bitsPerWeight, memoryKiB, float32KiB, compressionRatio: float32KiB / memoryKiB };
}

export async function trainMaryVariant(
  model: tf.LayersModel, ds: ImageDataset, M: number, prior: string, cfg: MaryTrainConfig, ctx: ExperimentContext,
  history: HistoryRow[],
): Promise<{ history: HistoryRow[]; variant: VariantSummary; means: Float32Array[]; layerNames: string[]; levels: number[][] }> {
  const spec = priorSpec(prior, cfg);
  const name = variantName(M, prior);
  const stepsPerEpoch = numBatches(ds, 'train', { batchSize: cfg.batchSize });
  const N = ds.train.count;
  const { perLayerMean, layerExponent, minLevelGap, levelLrScale, freezeLayerOptions } = checkMaryOptions(cfg, [prior]);
  const vls = variationalLayers(model);
  let stepInEpoch = 0;
  let prevLevels: number[][] = []; // the levels after the previous step (set when each epoch starts, resume included)
  const fitCfg: FitConfig = {
    epochs: cfg.epochs, batchSize: cfg.batchSize, seed: cfg.seed, variant: name,
    optimizer: { name: 'adam', lr: cfg.lr }, schedule: cfg.schedule ?? { name: 'multistep', milestones: cfg.milestones, gamma: 0.1 },
    clipValue: cfg.clipValue > 0 ? cfg.clipValue : undefined, augment: cfg.augment, normalize: cfg.normalize,
    checkpointDir: path.join(ctx.outDir, 'checkpoints', name), resume: ctx.resume, progress: ctx.progress,
    fingerprint: JSON.stringify({
      spec, klLambda: cfg.klLambda, klWarmupEpochs: cfg.klWarmupEpochs,
      ...(perLayerMean ? { klNormalization: 'layerMean' } : {}), ...(layerExponent > 0 ? { klLayerExponent: layerExponent } : {}),
      ...(minLevelGap > 0 ? { minLevelGap } : {}),
      ...(levelLrScale !== 1 ? { levelLrScale } : {}),
      ...(freezeLayerOptions.freezeThreshold > 0 ? freezeLayerOptions : {}), ...(cfg.initFromFloat ? { initFromFloat: true } : {}),
    }),
  };
  const res = await fit(model, ds, fitCfg, {
    beforeEpoch: () => {
      stepInEpoch = 0;
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
      const mean = evalInMode(model, ds, 'mean', cfg.normalize);
      const frozen: Record<string, number> = freezeLayerOptions.freezeThreshold > 0
        ? { frozenFraction: vls.reduce((s, l) => s + l.frozenCount(), 0) / vls.reduce((s, l) => s + l.numWeights(), 0) } : {};
      return { quantizationLoss: q, testAccuracyMean: mean.accuracy, klWeight: klWarmup(epoch + 1, cfg.klWarmupEpochs), ...frozen };
    },
    onEpochEnd: (row) => {
      const all = [...history, row];
      ctx.live?.update(all);
      ctx.onEpoch?.(row, all);
    },
  });
  res.optimizer.dispose();
  // The last epoch already evaluated both modes (quantized: the default evaluation; mean: epochMetrics).
  const last = res.history[res.history.length - 1];
  const quant = { accuracy: last.testAccuracy as number };
  const mean = { accuracy: last.testAccuracyMean as number };
  const mc = mcReport(model, ds, cfg.mcSamples, cfg.normalize);
  const report = levelReport(model);
  const mem = maryMemory(model, M);
  const variant: VariantSummary = {
    name, M, prior,
    testAccuracy: quant.accuracy,
    testAccuracyQuantized: quant.accuracy,
    testAccuracyMean: mean.accuracy,
    ...mc,
    quantizationLoss: res.history.map((r) => r.quantizationLoss as number),
    levels: report.map((r) => r.levels),
    partitions: report.map((r) => r.partitions),
    levelCounts: report.map((r) => r.counts),
    layers: report.map((r) => r.name),
    ...mem,
    epochs: res.history.length,
  };
  const vl = variationalLayers(model);
  return {
    history: res.history, variant, means: vl.map((l) => l.meansValues()), layerNames: report.map((r) => r.name),
    levels: report.map((r) => r.levels),
  };
}
