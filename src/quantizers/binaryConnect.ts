/**
 * BinaryConnect (Courbariaux, Bengio & David, NIPS 2015, arXiv 1511.00363): weights binarized to ±1.
 *
 * Deterministic: `q = sign(x)` with sign(0) = +1 (nnabla `binary_connect_affine.cpp`, `quantize_zero_to=1.0`).
 * Stochastic (paper eq. 2): `q = +1` with probability `p = hard_sigmoid(x) = clip((x + 1) / 2, 0, 1)`, else -1.
 *
 * Gradient: a *full* straight-through estimator, dq/dx = 1 everywhere (nnabla `sign.hpp`: "the gradient is a
 * full straight through"; the paper keeps the latent weights in [-1, 1] with a clip constraint on the
 * weights, not in the gradient). `clipValue` gives Larq's `ste_sign` instead: dy where |x| <= clipValue.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/random';
import { customOp, signWithZero } from './ops';
import { checkNumber } from './options';

export interface BinaryConnectOptions {
  /** Stochastic binarization with the hard-sigmoid probability (default false: deterministic sign). */
  stochastic?: boolean;
  /** Seed for the stochastic draw (used as is: the same seed gives the same draw). */
  seed?: number;
  /** Generator for the stochastic draw; each call takes a fresh seed from it. Preferred over `seed`. */
  rng?: Rng;
  /** Value of sign(0) (default +1, nnabla's `quantize_zero_to`). Deterministic mode only. */
  zeroTo?: number;
  /** If set, Larq-style clipped STE: gradient dy where |x| <= clipValue, else 0. Default: full STE. */
  clipValue?: number;
}

/** hard_sigmoid(x) = clip((x + 1) / 2, 0, 1): BinaryConnect's probability of +1. */
export function hardSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.clipByValue(tf.div(tf.add(x, 1), 2), 0, 1));
}

function drawSeed(options: BinaryConnectOptions): number {
  if (options.rng) return options.rng.nextSeed();
  if (options.seed !== undefined) return checkNumber('binaryConnect', 'seed', options.seed, { integer: true });
  throw new Error('binaryConnect: stochastic binarization needs a `seed` or an `rng` (for reproducibility).');
}

/** The binarized values (no gradient). */
export function binaryConnectValues(x: tf.Tensor, options: BinaryConnectOptions = {}): tf.Tensor {
  if (!options.stochastic) return signWithZero(x, options.zeroTo ?? 1);
  const seed = drawSeed(options);
  return tf.tidy(() => {
    const u = tf.randomUniform(x.shape, 0, 1, 'float32', seed);
    const plus = tf.less(u, hardSigmoid(x));
    return tf.sub(tf.mul(tf.cast(plus, 'float32'), 2), 1);
  });
}

/**
 * BinaryConnect binarization with an explicit straight-through gradient.
 * @example binaryConnect(tf.tensor([-0.3, 0, 2])) // [-1, 1, 1]; gradient [1, 1, 1]
 */
export function binaryConnect(x: tf.Tensor, options: BinaryConnectOptions = {}): tf.Tensor {
  const clip = options.clipValue;
  if (clip !== undefined) checkNumber('binaryConnect', 'clipValue', clip, { above: 0 });
  return customOp([x], ([xt], save) => {
    if (clip !== undefined) save([xt]);
    return {
      value: binaryConnectValues(xt, options),
      gradFunc: (dy, saved) =>
        clip === undefined ? tf.clone(dy) : tf.mul(dy, tf.cast(tf.lessEqual(tf.abs(saved[0]), clip), 'float32')),
    };
  });
}
