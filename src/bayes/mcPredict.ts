/**
 * Monte-Carlo predictive distribution of a Bayesian M-ary network: average the softmax over S weight
 * samples w ~ q (every variational layer in 'sample' mode, BatchNorm in inference mode), and report the
 * uncertainty per example:
 *   entropy            H[ p̄ ]              total predictive uncertainty
 *   expectedEntropy    mean_s H[ p_s ]      aleatoric part
 *   mutualInformation  H[p̄] - mean_s H[p_s] epistemic part (BALD), ≥ 0
 */
import * as tf from '@tensorflow/tfjs';
import { restoreModes, setMode, variationalLayers } from './modelOps';

export interface McPredictOptions {
  /** Number of weight samples S (default 20). */
  samples?: number;
  /** Reseeds the layers' noise so the same call gives the same answer. */
  seed?: number;
  batchSize?: number;
  /** Sample around θ ('sample', default) or around Q(θ) ('sampleQuantized'). */
  mode?: 'sample' | 'sampleQuantized';
}

export interface McPrediction {
  probs: tf.Tensor2D;
  entropy: tf.Tensor1D;
  expectedEntropy: tf.Tensor1D;
  mutualInformation: tf.Tensor1D;
}

function entropyOf(p: tf.Tensor): tf.Tensor1D {
  return tf.neg(tf.sum(tf.mul(p, tf.log(tf.add(p, 1e-12))), -1)) as tf.Tensor1D;
}

export function mcPredict(model: tf.LayersModel, x: tf.Tensor, opts: McPredictOptions = {}): McPrediction {
  const samples = opts.samples ?? 20;
  if (!(Number.isInteger(samples) && samples >= 1)) throw new Error(`mcPredict: samples must be a positive integer, got ${samples}`);
  if (opts.seed != null) variationalLayers(model).forEach((l, i) => l.reseed(opts.seed! * 7919 + i));
  const modes = setMode(model, opts.mode ?? 'sample');
  try {
    let sumP: tf.Tensor | null = null;
    let sumH: tf.Tensor | null = null;
    for (let s = 0; s < samples; s++) {
      const [nextP, nextH] = tf.tidy(() => {
        const p = tf.softmax(model.predict(x, { batchSize: opts.batchSize }) as tf.Tensor);
        const h = entropyOf(p);
        return [sumP ? tf.add(sumP, p) : p, sumH ? tf.add(sumH, h) : h];
      });
      sumP?.dispose();
      sumH?.dispose();
      sumP = nextP;
      sumH = nextH;
    }
    return tf.tidy(() => {
      const probs = tf.div(sumP!, samples) as tf.Tensor2D;
      const entropy = entropyOf(probs);
      const expectedEntropy = tf.div(sumH!, samples) as tf.Tensor1D;
      // Clamp: H[mean] ≥ mean H holds exactly, but float rounding can make it -1e-8.
      const mutualInformation = tf.relu(tf.sub(entropy, expectedEntropy)) as tf.Tensor1D;
      sumP!.dispose();
      sumH!.dispose();
      return { probs, entropy, expectedEntropy, mutualInformation };
    });
  } finally {
    restoreModes(model, modes);
  }
}
