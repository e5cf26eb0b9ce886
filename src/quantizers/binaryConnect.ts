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
import { defineQuantizer } from './descriptor';
import { FunctionQuantizer } from './functionQuantizer';
import { customOp, signWithZero } from './ops';
import { type OptionInput, optionTable, readOption } from './options';

/** The options of the pure function `binaryConnect`. */
export const BINARY_CONNECT_OPTIONS = optionTable({
  stochastic: { kind: 'boolean', default: false, description: 'Stochastic binarization with the hard-sigmoid probability (false: deterministic sign).' },
  seed: { kind: 'number', integer: true, description: 'Seed for the stochastic draw (used as is: the same seed gives the same draw).' },
  zeroTo: { kind: 'number', default: 1, description: "Value of sign(0) (nnabla's `quantize_zero_to`). Deterministic mode only." },
  clipValue: { kind: 'number', above: 0, description: "If set, Larq-style clipped STE: gradient dy where |x| <= clipValue, else 0. Unset: full STE." },
});

export type BinaryConnectOptions = OptionInput<typeof BINARY_CONNECT_OPTIONS> & {
  /** Generator for the stochastic draw; each call takes a fresh seed from it. Preferred over `seed`. */
  rng?: Rng;
};

/** hard_sigmoid(x) = clip((x + 1) / 2, 0, 1): BinaryConnect's probability of +1. */
export function hardSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.clipByValue(tf.div(tf.add(x, 1), 2), 0, 1));
}

function drawSeed(options: BinaryConnectOptions): number {
  if (options.rng) return options.rng.nextSeed();
  if (options.seed !== undefined) return readOption('binaryConnect', BINARY_CONNECT_OPTIONS, 'seed', options.seed) as number;
  throw new Error('binaryConnect: stochastic binarization needs a `seed` or an `rng` (for reproducibility).');
}

/** The binarized values (no gradient). */
export function binaryConnectValues(x: tf.Tensor, options: BinaryConnectOptions = {}): tf.Tensor {
  if (!options.stochastic) return signWithZero(x, options.zeroTo ?? BINARY_CONNECT_OPTIONS.zeroTo.default);
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
  readOption('binaryConnect', BINARY_CONNECT_OPTIONS, 'clipValue', clip);
  return customOp([x], ([xt], save) => {
    if (clip !== undefined) save([xt]);
    return {
      value: binaryConnectValues(xt, options),
      gradFunc: (dy, saved) =>
        clip === undefined ? tf.clone(dy) : tf.mul(dy, tf.cast(tf.lessEqual(tf.abs(saved[0]), clip), 'float32')),
    };
  });
}

/**
 * The registry entry: the pure function's options with `seed` defaulting to 0, and `evalMode` (BinaryConnect
 * §2.6: the stochastic variant is evaluated with the real-valued weights).
 */
export const binaryConnectDescriptor = defineQuantizer({
  name: 'binaryConnect',
  description: 'Weights binarized to sign(x) in {-1, +1} (sign(0) = +1), or +1 with probability hard_sigmoid(x); full straight-through gradient.',
  source: 'Courbariaux, Bengio & David, NIPS 2015, arXiv 1511.00363; nnabla binary_connect_affine.cpp',
  options: {
    ...BINARY_CONNECT_OPTIONS,
    seed: { ...BINARY_CONNECT_OPTIONS.seed, default: 0 },
    evalMode: {
      kind: 'choice', choices: ['real', 'sign'], default: (o) => (o.stochastic ? 'real' : 'sign'),
      description: "Evaluation weights: 'real' (the latent weights; default when stochastic) or 'sign' (default when deterministic).",
    },
  },
  make: (spec, o) => {
    const { stochastic, zeroTo, clipValue, evalMode } = o;
    const rng = new Rng(o.seed);
    const evalValue = (x: tf.Tensor) => (evalMode === 'real' ? x.clone() : binaryConnectValues(x, { zeroTo }));
    return new FunctionQuantizer(spec, 1,
      (x, training) => {
        if (!stochastic) return binaryConnect(x, { zeroTo, clipValue });
        if (training) return binaryConnect(x, { stochastic: true, rng, clipValue });
        return evalValue(x);
      },
      (latent) => (stochastic ? evalValue(latent) : binaryConnectValues(latent, { zeroTo })));
  },
});
