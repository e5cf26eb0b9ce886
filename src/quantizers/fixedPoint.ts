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
import { defineQuantizer } from './descriptor';
import { FunctionQuantizer } from './functionQuantizer';
import { customOp, roundHalfAwayFromZero } from './ops';
import { type OptionInput, optionTable, readOption } from './options';

export const FIXED_POINT_OPTIONS = optionTable({
  bits: {
    kind: 'bits', default: 8, min: (o) => (o.signed ? 2 : 1),
    description: 'Bit width n, sign bit included when signed (signed: n >= 2).',
  },
  delta: { kind: 'number', default: 2 ** -4, above: 0, description: "Step delta (2^-4: the nnabla example's)." },
  signed: { kind: 'boolean', default: true, description: 'Signed range [-max, max]; false: [0, max].' },
  steFineGrained: { kind: 'boolean', default: true, description: 'Cut the gradient outside [min, max]; false: dy everywhere.' },
});

export type FixedPointOptions = OptionInput<typeof FIXED_POINT_OPTIONS>;

export interface FixedPointRange {
  min: number;
  max: number;
  delta: number;
}

/** The representable range [min, max] and step for these options (validates them). */
export function fixedPointRange(options: FixedPointOptions = {}): FixedPointRange {
  const signed = options.signed ?? FIXED_POINT_OPTIONS.signed.default;
  const bits = readOption('fixedPoint', FIXED_POINT_OPTIONS, 'bits', options.bits, { signed });
  const delta = readOption('fixedPoint', FIXED_POINT_OPTIONS, 'delta', options.delta);
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
  const fine = options.steFineGrained ?? FIXED_POINT_OPTIONS.steFineGrained.default;
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

export const fixedPointDescriptor = defineQuantizer({
  name: 'fixedPoint',
  description: 'Uniform n-bit quantization with step delta, rounding half away from zero, clipped to the range; STE inside the range.',
  source: 'nnabla F.fixed_point_quantize (fixed_point_quantize.cpp); Courbariaux, Bengio & David 2014; Gupta et al. 2015',
  options: FIXED_POINT_OPTIONS,
  make: (spec, o) => new FunctionQuantizer(spec, o.bits, (x) => fixedPoint(x, o), (l) => fixedPointValues(l, o)),
});
