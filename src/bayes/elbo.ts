/**
 * The training objective: the negative ELBO per training example,
 *     loss = mean_batch CE(y, f(x; w ~ q)) + β(t) · KL(q || p) / N
 * with KL summed over every weight of every variational layer and N the number of training examples.
 * This is the ELBO's own scaling (the sum over the data set divided by N), so the prior's weight does not
 * depend on the batch size. The published code instead adds the KL *averaged over weights* (and, by a bug,
 * only the last layer's, twice) to the mean CE; `klScale` lets an experiment reproduce any other scaling.
 * β(t) is the KL warm-up.
 */
import * as tf from '@tensorflow/tfjs';
import { klDivergence } from './modelOps';
import type { PriorSpec } from './priors';

/**
 * Linear KL warm-up: 0 at epoch 0, reaching 1 at epoch `warmupEpochs` (the code's coef += 1/15 after each
 * of the first 15 epochs). `epoch` may be fractional (per-step warm-up). warmupEpochs <= 0 means no warm-up.
 */
export function klWarmup(epoch: number, warmupEpochs = 15): number {
  if (warmupEpochs <= 0) return 1;
  return Math.min(1, Math.max(0, epoch / warmupEpochs));
}

export interface KlTermOptions {
  /** N, the number of training examples (ignored when klScale is given). */
  numExamples: number;
  /** β, the warm-up weight (default 1). */
  klWeight?: number;
  /** Overrides the factor in front of the KL (default 1/N, or 1 with perLayerMean). */
  klScale?: number;
  /**
   * Average each layer's KL over its weights and sum the layers, as the published code does (with its
   * bug fixed: every layer counts once), instead of the ELBO's sum over all weights / N.
   */
  perLayerMean?: boolean;
  /**
   * α in [0, 1]: weigh layer l's KL by (N/n_l)^α before the 1/N, which interpolates between the ELBO (α = 0)
   * and the published per-layer mean (α = 1, = perLayerMean). It strengthens the prior on small layers,
   * whose few weights carry large, noisy likelihood gradients, and leaves the large ones near the ELBO.
   */
  layerExponent?: number;
}

/** β · KL / N as a differentiable scalar, for a training loop's extra-loss hook. */
export function klTerm(model: tf.LayersModel, prior: PriorSpec | undefined, opts: KlTermOptions): tf.Scalar {
  const scale = (opts.klWeight ?? 1) * (opts.klScale ?? (opts.perLayerMean ? 1 : 1 / opts.numExamples));
  // Computed even when β = 0 (warm-up start): every variable then gets a (zero) gradient at every step, and
  // tfjs optimizers, which index their moment slots by position in the gradient list, never see it shift.
  const a = opts.layerExponent ?? 0;
  if (!(a >= 0 && a <= 1)) throw new Error(`klTerm: layerExponent must be in [0, 1], got ${a}`);
  if (a > 0 && opts.perLayerMean) throw new Error('klTerm: give perLayerMean or layerExponent, not both');
  const layerWeight = a > 0 ? (n: number) => Math.pow(opts.numExamples / n, a) : undefined;
  return tf.tidy(() => tf.mul(klDivergence(model, prior, { perLayerMean: opts.perLayerMean, layerWeight }), scale) as tf.Scalar);
}

/** The full per-example negative ELBO for integer or one-hot labels and logits. */
export function negativeElbo(
  model: tf.LayersModel,
  prior: PriorSpec | undefined,
  logits: tf.Tensor,
  labels: tf.Tensor,
  opts: KlTermOptions,
): tf.Scalar {
  return tf.tidy(() => {
    const oneHot = labels.rank === 1 ? tf.oneHot(tf.cast(labels, 'int32'), logits.shape[logits.rank - 1]) : labels;
    const ce = tf.losses.softmaxCrossEntropy(oneHot, logits);
    return tf.add(ce, klTerm(model, prior, opts)) as tf.Scalar;
  });
}
