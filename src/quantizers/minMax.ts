/**
 * Min-max quantization-aware training (Jacob et al., "Quantization and Training of Neural Networks for
 * Efficient Integer-Arithmetic-Only Inference", CVPR 2018, arXiv 1712.05877), as nnabla's
 * `F.min_max_quantize` (`src/nbla/function/generic/min_max_quantize.cpp`):
 *
 *   qr_max    = max(qr_max, qr_min + eps)                       (nudge_range; eps = 0.01)
 *   scale     = (qr_max - qr_min) / (ql_max - ql_min)
 *   zp        = ql_min - qr_min / scale, clamped to [ql_min, ql_max], else std::round   (nudged zero point)
 *   qr_min'   = (ql_min - zp) * scale,   qr_max' = (ql_max - zp) * scale
 *   q         = round((clip(x, qr_min', qr_max') - qr_min') / scale) * scale + qr_min'
 *
 * with `round` = `std::round` (half away from zero; the argument is >= 0 here, so ties go up).
 *
 * Gradients (backward_impl):
 *   x:      `steFineGrained` (default): dy where qr_min' <= x <= qr_max' (inclusive), else 0; otherwise dy.
 *   qr_min: sum(dy * [x < qr_min'])      qr_max: sum(dy * [x > qr_max'])
 * The masks compare x with the *nudged* bounds (the code broadcasts qr_min_nudged / qr_max_nudged), summed
 * over the axes along which qr_min/qr_max were broadcast. nnabla only produces these range gradients when
 * neither x_min_max nor ema is set; the pure function always returns them (for tensor bounds), and the
 * stateful quantizer (minMaxQuantizer.ts) makes the bounds trainable only in that mode.
 *
 * Difference from nnabla: nudge_range writes qr_max = qr_min + eps back into the qr_max parameter; this pure
 * function uses the nudged value without mutating its input.
 */
import * as tf from '@tensorflow/tfjs';
import { customOp, roundHalfAwayFromZero, sumToShape } from './ops';
import { type OptionInput, optionTable, readOption } from './options';

/** The options of the pure function `minMax` (the stateful quantizer adds its range modes: minMaxQuantizer.ts). */
export const MIN_MAX_OPTIONS = optionTable({
  qrMin: { kind: 'number', default: -6, description: "Lower end of the real range (-6: PF.min_max_quantize's init); the pure function also takes a tensor, to learn it." },
  qrMax: { kind: 'number', default: 6, above: (o) => o.qrMin as number, description: 'Upper end of the real range (> qrMin).' },
  qlMin: { kind: 'number', default: 0, description: 'Lower end of the integer range.' },
  qlMax: { kind: 'number', default: 255, above: (o) => o.qlMin as number, description: 'Upper end of the integer range (> qlMin; 255: 8 bits).' },
  steFineGrained: { kind: 'boolean', default: true, description: "Cut the x gradient outside [qr_min', qr_max']; false: dy everywhere." },
  eps: { kind: 'number', default: 0.01, min: 0, description: 'Smallest allowed qr_max - qr_min.' },
});

export type MinMaxOptions = Omit<OptionInput<typeof MIN_MAX_OPTIONS>, 'qrMin' | 'qrMax'> & {
  /** Lower end of the real range: a number, or a tensor/variable to learn it. */
  qrMin?: number | tf.Tensor;
  /** Upper end of the real range: a number or a tensor. */
  qrMax?: number | tf.Tensor;
};

export interface MinMaxParams {
  scale: tf.Tensor;
  /** Nudged lower bound qr_min'. */
  qrMin: tf.Tensor;
  /** Nudged upper bound qr_max'. */
  qrMax: tf.Tensor;
  /** Nudged zero point (an integer level). */
  zeroPoint: tf.Tensor;
}

/** Integer range [qlMin, qlMax] and eps, validated. */
export function minMaxLevels(options: MinMaxOptions = {}): { qlMin: number; qlMax: number; eps: number } {
  const qlMin = readOption('minMax', MIN_MAX_OPTIONS, 'qlMin', options.qlMin);
  const qlMax = readOption('minMax', MIN_MAX_OPTIONS, 'qlMax', options.qlMax, { qlMin });
  const eps = readOption('minMax', MIN_MAX_OPTIONS, 'eps', options.eps);
  return { qlMin, qlMax, eps };
}

/** Bits needed for the integer levels: ceil(log2(qlMax - qlMin + 1)) (8 for 0..255). */
export function minMaxBits(qlMin: number, qlMax: number): number {
  return Math.max(1, Math.ceil(Math.log2(qlMax - qlMin + 1) - 1e-12));
}

/** Scale, nudged zero point and nudged range (nnabla's nudge_range + nudge_qr_min_max). No gradient. */
export function minMaxParams(qrMin: tf.Tensor, qrMax: tf.Tensor, qlMin: number, qlMax: number, eps: number): MinMaxParams {
  return tf.tidy(() => {
    const hi = tf.maximum(qrMax, tf.add(qrMin, eps));
    const scale = tf.div(tf.sub(hi, qrMin), qlMax - qlMin);
    const zpFromMin = tf.sub(qlMin, tf.div(qrMin, scale));
    // zp <= ql_min -> ql_min; zp >= ql_max -> ql_max; else std::round(zp). Equal to clip(round(zp)) for
    // integer levels, kept literal for non-integer ones.
    const zeroPoint = tf.where(tf.lessEqual(zpFromMin, qlMin), tf.fill(zpFromMin.shape, qlMin),
      tf.where(tf.greaterEqual(zpFromMin, qlMax), tf.fill(zpFromMin.shape, qlMax), roundHalfAwayFromZero(zpFromMin)));
    return {
      scale,
      zeroPoint,
      qrMin: tf.mul(tf.sub(qlMin, zeroPoint), scale),
      qrMax: tf.mul(tf.sub(qlMax, zeroPoint), scale),
    };
  });
}

function quantizeWith(x: tf.Tensor, p: MinMaxParams): tf.Tensor {
  return tf.tidy(() => {
    const clipped = tf.minimum(tf.maximum(x, p.qrMin), p.qrMax);
    const levels = roundHalfAwayFromZero(tf.div(tf.sub(clipped, p.qrMin), p.scale));
    return tf.add(tf.mul(levels, p.scale), p.qrMin);
  });
}

function asTensor(v: number | tf.Tensor): tf.Tensor {
  return typeof v === 'number' ? tf.scalar(v) : v;
}

/** The quantized values (no gradient). */
export function minMaxValues(x: tf.Tensor, options: MinMaxOptions = {}): tf.Tensor {
  const { qlMin, qlMax, eps } = minMaxLevels(options);
  return tf.tidy(() => {
    const p = minMaxParams(asTensor(options.qrMin ?? MIN_MAX_OPTIONS.qrMin.default), asTensor(options.qrMax ?? MIN_MAX_OPTIONS.qrMax.default), qlMin, qlMax, eps);
    return quantizeWith(x, p);
  });
}

/**
 * Min-max fake quantization with nnabla's gradients for x and for tensor-valued qrMin/qrMax.
 * @example minMax(x, {qrMin: -1, qrMax: 1.5, qlMin: 0, qlMax: 4})
 *   // scale 0.625, zero point round(1.6) = 2 -> range nudged to [-1.25, 1.25]
 */
export function minMax(x: tf.Tensor, options: MinMaxOptions = {}): tf.Tensor {
  const { qlMin, qlMax, eps } = minMaxLevels(options);
  const fine = options.steFineGrained ?? MIN_MAX_OPTIONS.steFineGrained.default;
  return tf.tidy(() => {
    const lo = asTensor(options.qrMin ?? MIN_MAX_OPTIONS.qrMin.default);
    const hi = asTensor(options.qrMax ?? MIN_MAX_OPTIONS.qrMax.default);
    return customOp([x, lo, hi], ([xt, loT, hiT], save) => {
      save([xt, loT, hiT]);
      const p = minMaxParams(loT, hiT, qlMin, qlMax, eps);
      const value = quantizeWith(xt, p);
      tf.dispose([p.scale, p.zeroPoint, p.qrMin, p.qrMax]);
      return {
        value,
        gradFunc: (dy, saved) => {
          const [xs, loS, hiS] = saved;
          const q = minMaxParams(loS, hiS, qlMin, qlMax, eps);
          const below = tf.less(xs, q.qrMin);
          const above = tf.greater(xs, q.qrMax);
          const dx = fine ? tf.mul(dy, tf.cast(tf.logicalNot(tf.logicalOr(below, above)), 'float32')) : tf.clone(dy);
          const dMin = sumToShape(tf.mul(dy, tf.cast(below, 'float32')), loS.shape);
          const dMax = sumToShape(tf.mul(dy, tf.cast(above, 'float32')), hiS.shape);
          return [dx, dMin, dMax];
        },
      };
    });
  });
}
