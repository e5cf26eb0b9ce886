/**
 * Binary-weight networks, BWN (Rastegari, Ordonez, Redmon & Farhadi, "XNOR-Net", ECCV 2016, arXiv 1603.05279):
 *
 *   q = alpha_c * sign(w),   alpha_c = mean |w| over the fan-in of output channel c
 *
 * tfjs kernels keep the output channel last, so the mean runs over all axes but the last: dense [in, out]
 * over axis 0, conv2d [kh, kw, cin, cout] over axes 0, 1, 2 (a rank-0/1 tensor is one group).
 * sign(0) = +1 (`quantize_zero_to = 1.0`).
 *
 * Gradient, as nnabla (`binary_weight_affine.cpp` / `binary_weight_convolution.cpp`, backward_impl): the
 * gradient w.r.t. the scaled binary weights is passed through `Sign`'s full straight-through backward, so
 * dw = dq: **not** multiplied by alpha and **no** gradient through alpha. (The docstring there says
 * alpha = 1/||w||_1; the code uses the mean |w|, which is what the paper defines, and what we use.)
 *
 * Caffe SQ code (`lowbit_functions.cu`, `caffe_gpu_binarize` + `caffe_gpu_binary_scaling`): alpha_n =
 * sum|W_n| / kernel_dim per output filter, sign(0) = +1 (`weight >= 0`), plain STE (the weight gradient of
 * `weight_gpu_gemm` does not depend on the weights). That is the same quantizer, so there is no variant
 * option. (Older nnabla versions created `Sign(-1.0)`, i.e. sign(0) = -1; `zeroTo: -1` reproduces them.)
 */
import * as tf from '@tensorflow/tfjs';
import { defineQuantizer } from './descriptor';
import { FunctionQuantizer } from './functionQuantizer';
import { customOp, fanInAxes, signWithZero } from './ops';
import { type OptionInput, optionTable } from './options';

export const BINARY_WEIGHT_OPTIONS = optionTable({
  zeroTo: { kind: 'number', default: 1, description: 'Value of sign(0).' },
});

export type BinaryWeightOptions = OptionInput<typeof BINARY_WEIGHT_OPTIONS>;

/** alpha per output channel: mean |w| over the fan-in axes, kept as broadcastable dims ([1, out], [1,1,1,out]). */
export function binaryWeightScale(w: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mean(tf.abs(w), fanInAxes(w.rank), true));
}

/** alpha * sign(w) (no gradient). */
export function binaryWeightValues(w: tf.Tensor, options: BinaryWeightOptions = {}): tf.Tensor {
  return tf.tidy(() => tf.mul(binaryWeightScale(w), signWithZero(w, options.zeroTo ?? BINARY_WEIGHT_OPTIONS.zeroTo.default)));
}

/**
 * BWN weight binarization with per-output-channel scale and nnabla's straight-through gradient.
 * @example binaryWeight(tf.tensor2d([[1, -3], [-1, 1]])) // alpha = [1, 2]: [[1, -2], [-1, 2]]
 */
export function binaryWeight(w: tf.Tensor, options: BinaryWeightOptions = {}): tf.Tensor {
  return customOp([w], ([wt]) => ({
    value: binaryWeightValues(wt, options),
    gradFunc: (dy) => tf.clone(dy),
  }));
}

export const binaryWeightDescriptor = defineQuantizer({
  name: 'binaryWeight',
  description: 'BWN: alpha_c * sign(w), alpha_c = mean |w| over the fan-in of output channel c; plain STE (no gradient through alpha).',
  source: 'Rastegari, Ordonez, Redmon & Farhadi, ECCV 2016, arXiv 1603.05279; nnabla binary_weight_affine.cpp',
  options: BINARY_WEIGHT_OPTIONS,
  make: (spec, o) => new FunctionQuantizer(spec, 1, (x) => binaryWeight(x, o), (l) => binaryWeightValues(l, o), tf.sign),
});
