/**
 * Power-of-two (logarithmic) quantization, as nnabla's `F.pow2_quantize`
 * (`src/nbla/function/generic/pow2_quantize.cpp`; Miyashita, Lee & Murmann 2016, arXiv 1603.01025):
 *
 *   n' = n - [signed] - [withZero]            (must stay > 0)
 *   p_max = 2^m,  p_min = 2^(m - (2^n' - 1)),  pruning threshold = p_min * 2^(-1/2)
 *   q = 2^round(log2 |x|)                     (nearest power of two in the log domain)
 *   q > p_max                -> p_max
 *   q < p_min and withZero   -> 0 if |x| < threshold, else p_min
 *   q < p_min                -> p_min
 *   sign: signed -> sign(x)·q (x = 0 counts as positive); unsigned -> x < 0 gives 0 (withZero) or p_min.
 *
 * Signed without zero, n = 8, m = 1 (the nnabla example): q in ±[2^-126, 2].
 *
 * Rounding: nnabla evaluates `round(log2(|x|))` in float. In exact arithmetic the boundary between 2^k and
 * 2^(k+1) is |x| = 2^k·√2, which is irrational, so there are no ties; we implement that exact rule
 * (|x| > 2^k·√2 rounds up) with comparisons instead of a float log2, so powers of two and values next to
 * the boundary are rounded correctly (a float log2 may land on .5 and then C's half-away rounding decides).
 *
 * Gradient (`quantize_backward_cpu`, `steFineGrained` default true): c = 0 where the *unclamped* rounded q
 * exceeds p_max (so |x| up to p_max·√2 still passes), and, when unsigned, where x < 0; else dy. There is no
 * cut at the small end. `steFineGrained: false`: dy everywhere.
 *
 * Defaults are F.pow2_quantize's: signed, withZero, n = 8, m = 1 (PF.pow2_quantized_* use withZero false,
 * m = 2; the example passes m = 1).
 */
import * as tf from '@tensorflow/tfjs';
import { defineQuantizer } from './descriptor';
import { FunctionQuantizer } from './functionQuantizer';
import { customOp } from './ops';
import { type OptionInput, optionTable, readOption } from './options';

export const POW2_OPTIONS = optionTable({
  bits: {
    kind: 'bits', default: 8, min: (o) => 1 + (o.signed ? 1 : 0) + (o.withZero ? 1 : 0),
    description: 'Bit width n, counting the sign bit and the zero code (n >= 1 + [signed] + [withZero]).',
  },
  m: { kind: 'number', default: 1, integer: true, description: 'Largest exponent: p_max = 2^m.' },
  signed: { kind: 'boolean', default: true, description: 'Keep the sign.' },
  withZero: { kind: 'boolean', default: true, description: 'Reserve a code for zero and prune small values.' },
  steFineGrained: { kind: 'boolean', default: true, description: 'Cut the gradient where the rounded value exceeds p_max; false: dy everywhere.' },
});

export type Pow2Options = OptionInput<typeof POW2_OPTIONS>;

export interface Pow2Range {
  pMin: number;
  pMax: number;
  pruningThreshold: number;
}

const SQRT2_F32 = Math.fround(Math.SQRT2);

/** p_min, p_max and the pruning threshold for these options (validates them). */
export function pow2Range(options: Pow2Options = {}): Pow2Range {
  const signed = options.signed ?? POW2_OPTIONS.signed.default;
  const withZero = options.withZero ?? POW2_OPTIONS.withZero.default;
  const bits = readOption('pow2', POW2_OPTIONS, 'bits', options.bits, { signed, withZero });
  const m = readOption('pow2', POW2_OPTIONS, 'm', options.m);
  const n = bits - (signed ? 1 : 0) - (withZero ? 1 : 0);
  const pMax = 2 ** m;
  const pMin = 2 ** (m - (2 ** n - 1));
  return { pMin, pMax, pruningThreshold: pMin * 2 ** -0.5 };
}

/**
 * 2^round(log2 a) for a = |x| >= 0, exactly: k = floor(log2 a) (corrected by comparisons, since a float
 * log may be off by one next to powers of two), then 2^(k+1) if a > 2^k·√2 else 2^k. a = 0 gives 0.
 */
export function nearestPow2(a: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const k0 = tf.floor(tf.div(tf.log(a), Math.LN2));
    const p0 = tf.pow(2, k0);
    const tooBig = tf.cast(tf.greater(p0, a), 'float32');
    const tooSmall = tf.cast(tf.lessEqual(tf.mul(p0, 2), a), 'float32');
    const lower = tf.pow(2, tf.add(tf.sub(k0, tooBig), tooSmall));
    // float32(√2) < √2 and a, 2^k are floats: a > 2^k·fl(√2) <=> a > 2^k·√2 exactly.
    const up = tf.greater(a, tf.mul(lower, SQRT2_F32));
    return tf.where(up, tf.mul(lower, 2), lower);
  });
}

/** The quantized values (no gradient). */
export function pow2Values(x: tf.Tensor, options: Pow2Options = {}): tf.Tensor {
  const { pMin, pMax, pruningThreshold } = pow2Range(options);
  const signed = options.signed ?? POW2_OPTIONS.signed.default;
  const withZero = options.withZero ?? POW2_OPTIONS.withZero.default;
  return tf.tidy(() => {
    const a = tf.abs(x);
    let q = tf.minimum(nearestPow2(a), pMax);
    const small = tf.less(q, pMin);
    const minT = tf.fill(x.shape, pMin);
    const low = withZero ? tf.where(tf.less(a, pruningThreshold), tf.zerosLike(a), minT) : minT;
    q = tf.where(small, low, q);
    const negative = tf.less(x, 0);
    if (signed) return tf.where(negative, tf.neg(q), q);
    return tf.where(negative, withZero ? tf.zerosLike(q) : minT, q);
  });
}

/**
 * Power-of-two quantization with nnabla's straight-through gradient.
 * @example pow2(tf.tensor([3, -0.3, 5]), {bits: 8, m: 1, withZero: false}) // [4 -> 2 (clamped), -0.25, 2]
 */
export function pow2(x: tf.Tensor, options: Pow2Options = {}): tf.Tensor {
  const { pMax } = pow2Range(options);
  const signed = options.signed ?? POW2_OPTIONS.signed.default;
  const fine = options.steFineGrained ?? POW2_OPTIONS.steFineGrained.default;
  return customOp([x], ([xt], save) => {
    if (fine) save([xt]);
    return {
      value: pow2Values(xt, options),
      gradFunc: (dy, saved) => {
        if (!fine) return tf.clone(dy);
        const xs = saved[0];
        let pass = tf.lessEqual(nearestPow2(tf.abs(xs)), pMax);
        if (!signed) pass = tf.logicalAnd(pass, tf.greaterEqual(xs, 0));
        return tf.mul(dy, tf.cast(pass, 'float32'));
      },
    };
  });
}

export const pow2Descriptor = defineQuantizer({
  name: 'pow2',
  description: 'Power-of-two (logarithmic) quantization: sign(x) * 2^round(log2|x|), clamped to [p_min, 2^m], optionally with zero.',
  source: 'nnabla F.pow2_quantize (pow2_quantize.cpp); Miyashita, Lee & Murmann 2016, arXiv 1603.01025',
  options: POW2_OPTIONS,
  make: (spec, o) => new FunctionQuantizer(spec, o.bits, (x) => pow2(x, o), (l) => pow2Values(l, o)),
});
