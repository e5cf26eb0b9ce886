/**
 * Fixed-point (uniform) quantization with n bits and step delta, as nnabla's `F.fixed_point_quantize`
 * (`src/nbla/function/generic/fixed_point_quantize.cpp`), used by the nnabla "fixed-point connect/net" example
 * (Courbariaux, Bengio & David 2014, "Training deep neural networks with low precision multiplications";
 * Gupta et al. 2015):
 *
 *   signed:   max = (2^(n-1) - 1) * delta, min = -max        (n = 8, delta = 2^-4: [-7.9375, 7.9375])
 *   unsigned: max = (2^n - 1) * delta,     min = 0
 *   q = max if x > max; min if x < min; else sign(x) * round(|x| / delta) * delta
 *
 * Rounding is half **away from zero** (the code's `int(|x|/delta + 0.5)` on |x|; 0.5·delta -> delta,
 * -1.5·delta -> -2·delta), not tfjs's half-to-even `tf.round`. We compute it exactly (std::round); the
 * float sum `|x|/delta + 0.5` of the C code can differ only for |x|/delta = 0.49999997-like values.
 *
 * Gradient: `steFineGrained` (default true, nnabla's default): dy where min <= x <= max (both bounds
 * inclusive: `x > max` and `x < min` are cut), else 0; `steFineGrained: false`: dy everywhere.
 * Signed quantization needs n >= 2 (one bit is the sign), as nnabla checks.
 */
import * as tf from '@tensorflow/tfjs';
import { customOp, roundHalfAwayFromZero } from './ops';
import { checkBits, checkNumber } from './options';

export interface FixedPointOptions {
  /** Bit width n (default 8), sign bit included when signed. */
  bits?: number;
  /** Step delta (default 2^-4, the nnabla example's). */
  delta?: number;
  /** Signed range (default true). */
  signed?: boolean;
  /** Cut the gradient outside [min, max] (default true). */
  steFineGrained?: boolean;
}

export interface FixedPointRange {
  min: number;
  max: number;
  delta: number;
}

/** The representable range [min, max] and step for these options (validates them). */
export function fixedPointRange(options: FixedPointOptions = {}): FixedPointRange {
  const signed = options.signed ?? true;
  const bits = checkBits('fixedPoint', options.bits ?? 8, signed ? 2 : 1);
  const delta = checkNumber('fixedPoint', 'delta', options.delta ?? 2 ** -4, { above: 0 });
  const n = signed ? bits - 1 : bits;
  const max = (2 ** n - 1) * delta;
  return { min: signed ? -max : 0, max, delta };
}

/** The quantized values (no gradient). */
export function fixedPointValues(x: tf.Tensor, options: FixedPointOptions = {}): tf.Tensor {
  const { min, max, delta } = fixedPointRange(options);
  return tf.tidy(() => {
    const q = tf.mul(roundHalfAwayFromZero(tf.div(x, delta)), delta);
    const lo = tf.fill(x.shape, min);
    const hi = tf.fill(x.shape, max);
    return tf.where(tf.greater(x, max), hi, tf.where(tf.less(x, min), lo, q));
  });
}

/**
 * Fixed-point quantization with nnabla's (fine-grained) straight-through gradient.
 * @example fixedPoint(tf.tensor([0.03125, -0.09375, 9]), {bits: 8, delta: 0.0625}) // [0.0625, -0.125, 7.9375]
 */
export function fixedPoint(x: tf.Tensor, options: FixedPointOptions = {}): tf.Tensor {
  const { min, max } = fixedPointRange(options);
  const fine = options.steFineGrained ?? true;
  return customOp([x], ([xt], save) => {
    if (fine) save([xt]);
    return {
      value: fixedPointValues(xt, options),
      gradFunc: (dy, saved) => {
        if (!fine) return tf.clone(dy);
        const inside = tf.logicalAnd(tf.greaterEqual(saved[0], min), tf.lessEqual(saved[0], max));
        return tf.mul(dy, tf.cast(inside, 'float32'));
      },
    };
  });
}
