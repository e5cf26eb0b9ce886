/**
 * The two priors of Chien & Chang's Bayesian M-ary QNN, as pure tensor functions of the variational
 * parameters. Each returns KL(q || p) summed over all weights (a scalar); how the sum is scaled in the
 * ELBO is decided in elbo.ts, not here.
 *
 * q(w) = N(mean, exp(logSigma2)) per weight (mean-field Gaussian).
 */
import * as tf from '@tensorflow/tfjs';
import { spikeSlabKlKernel } from '../engine/trainKernels';

/** Constants of Molchanov et al. 2017 ("Variational Dropout Sparsifies DNNs"), eq. 14. */
export const KLLU_K1 = 0.63576;
export const KLLU_K2 = 1.8732;
export const KLLU_K3 = 1.48695;

/**
 * Molchanov et al.'s approximation of KL(N(θ, αθ²) || log-uniform), written as a positive KL:
 *   kllu(logα) = k1 - k1·sigmoid(k2 + k3·logα) + 0.5·log(1 + exp(-logα)).
 * It falls monotonically in logα: the larger the noise relative to the distance from the spike centre,
 * the closer q is to the log-uniform spike. softplus(-logα) is the overflow-free log(1 + e^-logα).
 */
export function kllu(logAlpha: tf.Tensor): tf.Tensor {
  return tf.tidy(() =>
    tf.add(
      tf.mul(KLLU_K1, tf.sub(1, tf.sigmoid(tf.add(KLLU_K2, tf.mul(KLLU_K3, logAlpha))))),
      tf.mul(0.5, tf.softplus(tf.neg(logAlpha))),
    ),
  );
}

/**
 * The Gaussian slab window exp(-(z - c)² / (2·width²)), 1 at the level and → 0 away from it.
 * The exponent is floored at -75 (the published code writes min(…, 75), a no-op because the exponent is
 * never positive; the floor is what it evidently meant: no denormals, zero gradient far away).
 */
export function gaussianWindow(z: tf.Tensor, c: tf.Tensor | number, width: number): tf.Tensor {
  return tf.tidy(() => tf.exp(tf.maximum(tf.div(tf.square(tf.sub(z, c)), -2 * width * width), -75)));
}

/**
 * How the per-level spike terms are switched on.
 *  - 'normalized' (default): responsibilities γ_k = w_k / Σ_j w_j of the Gaussian slab windows (a softmax
 *    over -(θ - r_k)²/2width²). The gates sum to one, so every weight is inside the mixture and pays the
 *    spike term of its nearest level(s).
 *  - 'window' (the published code): each term weighted by its raw window w_k. The gates do not sum to one:
 *    a weight far from every level pays nothing, so the KL is minimized just as well by pushing weights
 *    and levels apart as by clustering (observed: levels drift outwards and the quantization loss grows).
 *    Kept to reproduce the code.
 */
export type SpikeSlabGate = 'window' | 'normalized';

export interface SpikeSlabKlArgs {
  /** Variational means θ, any shape. */
  mean: tf.Tensor;
  /** log σ² of the same shape. */
  logSigma2: tf.Tensor;
  /** The M representation values r_k (1-D). */
  levels: tf.Tensor;
  /** Width (std) of each Gaussian slab window; the code's 0.075. */
  slabWidth?: number;
  /** log α_k is clipped to [-clip, clip]; default 8, the code uses 3. */
  clip?: number;
  gate?: SpikeSlabGate;
}

export const DEFAULT_SLAB_WIDTH = 0.075;
/**
 * ±8, not the code's ±3: with log σ² ≈ -10, ±3 zeroes the gradient for every weight farther than
 * σ·e^1.5 ≈ 0.03 from all levels, so the prior only holds weights that are already quantized (see README).
 */
export const DEFAULT_LOG_ALPHA_CLIP = 8;

/**
 * The multiple spike-and-slab KL: a log-uniform spike at every level r_k, switched on by a Gaussian slab
 * window around it:
 *   log α_k = clip(log σ² - log (θ - r_k)², ±clip)         (noise relative to the distance from spike k)
 *   KL      = Σ_weights Σ_k gate_k(θ) · kllu(log α_k),     gate_k from the window exp(-(θ - r_k)²/2width²)
 * Minimizing it pulls θ onto its level and r_k onto the θ around it (both are differentiable inputs), and
 * widens σ up to the clip. (θ - r_k)² gets +1e-12 inside the log so that θ exactly on a level gives a
 * finite (clipped, zero-gradient) term instead of 0·∞ = NaN in the backward pass.
 * The published code measures this in a scaled space (θ·s_k - code_k); with r_k = code_k/s_k that is the
 * same log α, and our window is applied to θ - r_k directly (see README: no scales, levels are weights).
 * The value and its gradients come from one pass of a WebAssembly kernel (`spikeSlabKlKernel`, assembly/train.ts),
 * not from tensor ops: written with them, the same sum took about 150 kernels per layer forward and backward.
 */
export function spikeSlabKl(args: SpikeSlabKlArgs): tf.Scalar {
  const width = args.slabWidth ?? DEFAULT_SLAB_WIDTH;
  const clip = args.clip ?? DEFAULT_LOG_ALPHA_CLIP;
  const gate = args.gate ?? 'normalized';
  const op = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [mean, logSigma2, levels] = inputs as tf.Tensor[];
    const r = spikeSlabKlKernel(
      mean.dataSync() as Float32Array, logSigma2.dataSync() as Float32Array, levels.dataSync() as Float32Array,
      width, clip, gate);
    return {
      value: tf.scalar(r.kl),
      gradFunc: (dy: tf.Tensor) => [
        tf.mul(dy, tf.tensor(r.dMean, mean.shape)),
        tf.mul(dy, tf.tensor(r.dLogSigma2, logSigma2.shape)),
        tf.mul(dy, tf.tensor(r.dLevels, levels.shape)),
      ],
    };
  });
  return op(args.mean, args.logSigma2, args.levels) as tf.Scalar;
}

export interface GaussianKlArgs {
  mean: tf.Tensor;
  logSigma2: tf.Tensor;
  /** μ0, the prior mean (0 in the code). */
  priorMean?: number;
  /** log σ0² of the prior (see `logScale`). */
  priorLogSigma2?: number;
  /**
   * 'logSigma2' (default, correct): logSigma2 and priorLogSigma2 are log σ².
   * 'publishedLogSigma': reproduce the published `_kl_loss`, which uses both as if they were log σ
   * (so σ² = exp(2·logSigma2) and the prior "-2" means σ0 = e^-2). Only for comparisons with the code.
   */
  logScale?: 'logSigma2' | 'publishedLogSigma';
}

export const DEFAULT_GAUSSIAN_PRIOR_LOG_SIGMA2 = -4; // σ0 = e^-2 ≈ 0.135, the prior width the code ends up with

/**
 * KL(N(θ, σ²) || N(μ0, σ0²)) = ½(log σ0² - log σ²) + (σ² + (θ - μ0)²) / (2σ0²) - ½, summed over weights.
 * Zero exactly when q equals the prior.
 */
export function gaussianKl(args: GaussianKlArgs): tf.Scalar {
  const mu0 = args.priorMean ?? 0;
  const lp = args.priorLogSigma2 ?? DEFAULT_GAUSSIAN_PRIOR_LOG_SIGMA2;
  return tf.tidy(() => {
    if (args.logScale === 'publishedLogSigma') {
      // kl = ls1 - ls0 + (exp(ls0)² + (mu0 - mu1)²) / (2 exp(ls1)²) - 0.5 with ls0 = logSigma2, ls1 = prior.
      const ls0 = args.logSigma2;
      const num = tf.add(tf.exp(tf.mul(2, ls0)), tf.square(tf.sub(args.mean, mu0)));
      const kl = tf.sub(tf.add(tf.sub(lp, ls0), tf.div(num, 2 * Math.exp(2 * lp))), 0.5);
      return tf.sum(kl) as tf.Scalar;
    }
    const num = tf.add(tf.exp(args.logSigma2), tf.square(tf.sub(args.mean, mu0)));
    const kl = tf.sub(tf.add(tf.mul(0.5, tf.sub(lp, args.logSigma2)), tf.div(num, 2 * Math.exp(lp))), 0.5);
    return tf.sum(kl) as tf.Scalar;
  });
}

/** Serializable choice of prior for a model (plain data, goes into configs and experiment files). */
export type PriorSpec =
  | ({ kind: 'spikeSlab' } & Omit<SpikeSlabKlArgs, 'mean' | 'logSigma2' | 'levels'>)
  | ({ kind: 'gaussian' } & Omit<GaussianKlArgs, 'mean' | 'logSigma2'>);

/** KL of one layer's weights under `prior`, summed over the weights. */
export function priorKl(prior: PriorSpec, q: { mean: tf.Tensor; logSigma2: tf.Tensor; levels: tf.Tensor }): tf.Scalar {
  switch (prior.kind) {
    case 'spikeSlab':
      return spikeSlabKl({ ...q, slabWidth: prior.slabWidth, clip: prior.clip, gate: prior.gate });
    case 'gaussian':
      return gaussianKl({
        mean: q.mean,
        logSigma2: q.logSigma2,
        priorMean: prior.priorMean,
        priorLogSigma2: prior.priorLogSigma2,
        logScale: prior.logScale,
      });
    default: {
      const never: never = prior;
      throw new Error(`Unknown prior ${JSON.stringify(never)}`);
    }
  }
}
