/**
 * Ternary weight networks, TWN (Li, Zhang & Liu 2016, arXiv 1605.04711):
 *
 *   delta   = 0.7 * mean |w|                       over the whole layer (the paper's approximation 0.7·E|W|)
 *   t       = +1 if w > delta, -1 if w < -delta, else 0   (strict inequalities)
 *   alpha_c = mean of |w| over { |w| > delta } in output channel c   (0 if that set is empty)
 *   q       = alpha_c * t
 *
 * Gradient: plain straight-through, dw = dq (the Caffe SQ code's `Backward_gpu` computes the weight
 * gradient with `weight_gpu_gemm`, independent of the weights; its `caffe_gpu_clip` is never called).
 *
 * Paper vs code (`dongyp13/Stochastic-Quantization`, `conv_layer_ternary.cu` lines 18-31): the SQ Caffe code
 * computes `delta = asum(0.7/N * (W - mean(W)))` = 0.7 * mean |W - mean(W)|: the layer mean is subtracted
 * first. `deltaRule: 'sqCode'` reproduces it; the default is the paper's `'paper'`.
 * The scale is per output channel (Caffe: per row of the num_output x kernel_dim matrix, `caffe_gpu_ternary_
 * scaling`); `perChannel: false` gives one layer-wide alpha. Output channels are the last axis in tfjs.
 */
import * as tf from '@tensorflow/tfjs';
import { defineQuantizer } from './descriptor';
import { FunctionQuantizer } from './functionQuantizer';
import { customOp, fanInAxes } from './ops';
import { type OptionInput, optionTable, readOption } from './options';

export type TernaryDeltaRule = 'paper' | 'sqCode';
export const TERNARY_DELTA_RULES: readonly TernaryDeltaRule[] = ['paper', 'sqCode'];

export const TERNARY_WEIGHT_OPTIONS = optionTable({
  thresholdFactor: { kind: 'number', default: 0.7, min: 0, description: "Multiplier of the mean magnitude (0.7: TWN's approximation)." },
  deltaRule: {
    kind: 'choice', choices: TERNARY_DELTA_RULES, default: 'paper',
    description: "'paper': factor * mean|w|; 'sqCode': factor * mean|w - mean(w)| (SQ Caffe code).",
  },
  perChannel: { kind: 'boolean', default: true, description: 'Per-output-channel alpha, as the Caffe code; false: one alpha for the layer.' },
});

export type TernaryWeightOptions = OptionInput<typeof TERNARY_WEIGHT_OPTIONS>;

/** The layer-wide threshold delta (a scalar tensor). */
export function ternaryThreshold(w: tf.Tensor, options: TernaryWeightOptions = {}): tf.Scalar {
  const factor = readOption('ternaryWeight', TERNARY_WEIGHT_OPTIONS, 'thresholdFactor', options.thresholdFactor);
  const rule = readOption('ternaryWeight', TERNARY_WEIGHT_OPTIONS, 'deltaRule', options.deltaRule);
  return tf.tidy(() => {
    const centered = rule === 'sqCode' ? tf.sub(w, tf.mean(w)) : w;
    return tf.mul(tf.mean(tf.abs(centered)), factor) as tf.Scalar;
  });
}

export interface TernaryParts {
  /** t in {-1, 0, 1}, shape of w. */
  t: tf.Tensor;
  /** alpha, broadcastable to w ([1, out], [1,1,1,out], or [] when not per channel / rank <= 1). */
  alpha: tf.Tensor;
  /** The threshold, a scalar. */
  delta: tf.Scalar;
}

/** t, alpha and delta of TWN (no gradient). The caller owns (disposes) the returned tensors. */
export function ternaryWeightParts(w: tf.Tensor, options: TernaryWeightOptions = {}): TernaryParts {
  return tf.tidy(() => {
    const delta = ternaryThreshold(w, options);
    const pos = tf.cast(tf.greater(w, delta), 'float32');
    const neg = tf.cast(tf.less(w, tf.neg(delta)), 'float32');
    const t = tf.sub(pos, neg);
    const inSet = tf.add(pos, neg);
    const axes = (options.perChannel ?? TERNARY_WEIGHT_OPTIONS.perChannel.default) ? fanInAxes(w.rank) : w.shape.map((_, i) => i);
    const sumAbs = tf.sum(tf.mul(tf.abs(w), inSet), axes, true);
    const count = tf.sum(inSet, axes, true);
    const alpha = tf.where(tf.greater(count, 0), tf.div(sumAbs, tf.maximum(count, 1)), tf.zerosLike(count));
    return { t, alpha, delta };
  });
}

/** alpha * t (no gradient). */
export function ternaryWeightValues(w: tf.Tensor, options: TernaryWeightOptions = {}): tf.Tensor {
  return tf.tidy(() => {
    const { t, alpha } = ternaryWeightParts(w, options);
    return tf.mul(alpha, t);
  });
}

/**
 * TWN ternarization with a plain straight-through gradient.
 * @example ternaryWeight(tf.tensor2d([[1, 0.1, -2], [-1, 0.2, 2]])) // [in=2, out=3]: delta = 0.7*1.05 = 0.735,
 *   alpha = [1, 0, 2] per column, q = [[1, 0, -2], [-1, 0, 2]]
 */
export function ternaryWeight(w: tf.Tensor, options: TernaryWeightOptions = {}): tf.Tensor {
  return customOp([w], ([wt]) => ({
    value: ternaryWeightValues(wt, options),
    gradFunc: (dy) => tf.clone(dy),
  }));
}

export const ternaryWeightDescriptor = defineQuantizer({
  name: 'ternaryWeight',
  description: 'TWN: alpha_c * t, t in {-1, 0, +1} with threshold delta = 0.7 * mean|w|, alpha_c = mean |w| above delta; plain STE.',
  source: 'Li, Zhang & Liu 2016, arXiv 1605.04711; dongyp13/Stochastic-Quantization conv_layer_ternary.cu',
  options: TERNARY_WEIGHT_OPTIONS,
  make: (spec, o) => new FunctionQuantizer(spec, 2, (x) => ternaryWeight(x, o), (l) => ternaryWeightValues(l, o), tf.sign),
});
