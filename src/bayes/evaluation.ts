/**
 * Evaluation of a Bayesian M-ary network in the mode it was trained for.
 *
 * A network trained with the noisy forward pass around θ (`trainForward: 'mean'`) has batch-norm statistics of
 * θ-weights; one trained straight-through has statistics of Q(θ)-weights. Evaluating the other mode with those
 * statistics measures a network that never existed, so `evaluateMode` re-estimates the batch-norm statistics on
 * training batches in the evaluated mode (`recalibrate: true`), and restores them afterwards. Monte-Carlo
 * prediction samples the distribution the likelihood saw in training: N(θ, σ²) under 'mean', N(Q(θ), σ²) under
 * 'ste'.
 */
import * as tf from '@tensorflow/tfjs';
import { batches, type ImageDataset, type NormalizeMode, type SplitName } from '../data';
import { mcPredict } from './mcPredict';
import { restoreModes, setMode, variationalLayers } from './modelOps';
import type { TrainForward, VariationalMode } from './variationalLayer';

export interface RecalibrationOptions {
  /** Training examples used to re-estimate the statistics (default 5,000, in a fixed seeded order). */
  examples?: number;
  batchSize?: number;
  normalize?: NormalizeMode;
}

interface BatchNormLike {
  momentum: number;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

function batchNormLayers(model: tf.LayersModel): BatchNormLike[] {
  return model.layers.filter((l) => l.getClassName() === 'BatchNormalization') as unknown as BatchNormLike[];
}

/**
 * Re-estimate every batch-norm layer's moving mean and variance as the average of per-batch statistics over
 * training batches, with the variational layers in `mode`. Returns a function that restores the previous
 * statistics exactly (so evaluation in the middle of training changes nothing).
 */
export function recalibrateBatchNorm(model: tf.LayersModel, ds: ImageDataset, mode: VariationalMode, opts: RecalibrationOptions = {}): () => void {
  const bns = batchNormLayers(model);
  const saved = bns.map((b) => [tf.clone(b.movingMean.read()), tf.clone(b.movingVariance.read())]);
  const momenta = bns.map((b) => b.momentum);
  const vls = variationalLayers(model);
  const modes = setMode(model, mode);
  vls.forEach((l) => (l.modeInTraining = true));
  try {
    const examples = Math.min(opts.examples ?? 5000, ds.train.count);
    let k = 0;
    for (const b of batches(ds, 'train', { batchSize: opts.batchSize ?? 250, shuffle: true, seed: 0x5eed, limit: undefined, normalize: opts.normalize })) {
      if (k * (opts.batchSize ?? 250) >= examples) {
        tf.dispose([b.x, b.y]);
        break;
      }
      // momentum k/(k+1): after batch k the moving value is the mean of the k+1 batch statistics.
      bns.forEach((bn) => (bn.momentum = k / (k + 1)));
      tf.tidy(() => {
        model.apply(b.x, { training: true });
      });
      tf.dispose([b.x, b.y]);
      k++;
    }
  } finally {
    bns.forEach((bn, i) => (bn.momentum = momenta[i]));
    vls.forEach((l) => (l.modeInTraining = false));
    restoreModes(model, modes);
  }
  return () => {
    bns.forEach((bn, i) => {
      bn.movingMean.write(saved[i][0]);
      bn.movingVariance.write(saved[i][1]);
    });
    tf.dispose(saved.flat());
  };
}

export interface ModeEvaluation {
  accuracy: number;
  /** Mean negative log-likelihood of the true class. */
  nll: number;
  count: number;
}

/** Accuracy and NLL of `split` with every variational layer in `mode` (deterministic modes). */
export function evaluateMode(
  model: tf.LayersModel, ds: ImageDataset, split: SplitName, mode: VariationalMode,
  opts: { recalibrate?: boolean; normalize?: NormalizeMode; recalibration?: RecalibrationOptions } = {},
): ModeEvaluation {
  const restoreBn = opts.recalibrate ? recalibrateBatchNorm(model, ds, mode, { normalize: opts.normalize, ...opts.recalibration }) : null;
  const modes = setMode(model, mode);
  try {
    let correct = 0;
    let nll = 0;
    let count = 0;
    for (const b of batches(ds, split, { batchSize: 500, normalize: opts.normalize })) {
      const [c, l] = tf.tidy(() => {
        const logits = model.apply(b.x, { training: false }) as tf.Tensor;
        const logp = tf.logSoftmax(logits);
        return [
          tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), tf.argMax(b.y, -1)), 'float32')).dataSync()[0],
          -tf.sum(tf.mul(logp, b.y)).dataSync()[0],
        ];
      });
      correct += c;
      nll += l;
      count += b.size;
      tf.dispose([b.x, b.y]);
    }
    return { accuracy: correct / count, nll: nll / count, count };
  } finally {
    restoreModes(model, modes);
    restoreBn?.();
  }
}

/** The deterministic mode a training forward trains, and the Monte-Carlo mode that samples around it. */
export function trainedModes(trainForward: TrainForward): { deterministic: VariationalMode; sample: VariationalMode } {
  return trainForward === 'ste' ? { deterministic: 'quantized', sample: 'sampleQuantized' } : { deterministic: 'mean', sample: 'sample' };
}

export interface McEvaluation {
  accuracy: number;
  nll: number;
  /** Mean predictive entropy over correctly and wrongly classified examples (null when there are none). */
  meanEntropyCorrect: number | null;
  meanEntropyWrong: number | null;
  /** Mean mutual information between prediction and weights (the epistemic part), nats. */
  meanMutualInformation: number;
  samples: number;
}

/** Monte-Carlo predictive accuracy, NLL and uncertainty on `split`, sampling the weights of `center` mode. */
export function mcEvaluate(
  model: tf.LayersModel, ds: ImageDataset, split: SplitName,
  opts: { samples: number; sampleMode: VariationalMode; seed?: number; normalize?: NormalizeMode },
): McEvaluation {
  if (opts.sampleMode !== 'sample' && opts.sampleMode !== 'sampleQuantized') {
    throw new Error(`mcEvaluate: sampleMode must be 'sample' or 'sampleQuantized', got '${opts.sampleMode}'`);
  }
  let correct = 0;
  let n = 0;
  let nll = 0;
  let mi = 0;
  let hRight = 0;
  let nRight = 0;
  let hWrong = 0;
  let nWrong = 0;
  let batchIndex = 0;
  for (const b of batches(ds, split, { batchSize: 500, normalize: opts.normalize })) {
    const p = mcPredict(model, b.x, { samples: opts.samples, seed: (opts.seed ?? 12345) + batchIndex++, mode: opts.sampleMode });
    const probs = p.probs.dataSync();
    const ent = p.entropy.dataSync();
    const mutual = p.mutualInformation.dataSync();
    const k = ds.numClasses;
    for (let i = 0; i < b.size; i++) {
      let arg = 0;
      for (let c = 1; c < k; c++) if (probs[i * k + c] > probs[i * k + arg]) arg = c;
      const y = b.labels[i];
      nll -= Math.log(Math.max(probs[i * k + y], 1e-12));
      mi += mutual[i];
      if (arg === y) {
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
    accuracy: correct / n, nll: nll / n,
    meanEntropyCorrect: nRight ? hRight / nRight : null, meanEntropyWrong: nWrong ? hWrong / nWrong : null,
    meanMutualInformation: mi / n, samples: opts.samples,
  };
}

function quantile(sorted: Float32Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * The posterior standard deviation σ per layer: median and 90th percentile, and the initial σ. When σ has not
 * left its initial value the posterior is effectively a point mass and Monte-Carlo sampling adds nothing.
 */
export function posteriorSigma(model: tf.LayersModel): { name: string; median: number; p90: number; initial: number }[] {
  return variationalLayers(model).map((l) => {
    const ls = l.logSigma2Values();
    const sigma = new Float32Array(ls.length);
    for (let i = 0; i < ls.length; i++) sigma[i] = Math.exp(0.5 * ls[i]);
    sigma.sort();
    return { name: l.name, median: quantile(sigma, 0.5), p90: quantile(sigma, 0.9), initial: Math.exp(0.5 * l.logSigma2Init) };
  });
}
