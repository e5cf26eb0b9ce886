/**
 * Gradients that tfjs-core 4.22 lacks or computes slowly. Backend-independent (tf.registerGradient).
 *
 *  - Zero gradients for comparisons and logical ops (Greater, Less, LessEqual, Equal, NotEqual,
 *    LogicalAnd, LogicalOr, LogicalNot, LogicalXor): without them `tf.where(tf.greater(x, 0), x, y)`
 *    with x on the tape throws "gradient function not found for Greater". GreaterEqual already has one.
 *  - StridedSlice: scatter dy back into zeros (zero insertion for strides, then a pad).
 *  - FusedBatchNorm: the same partial derivatives as tfjs-core's gradient, but without its
 *    `tile(rsqrt(var), [N,H,W,1])` (a 2M-element Tile costs 0.2-0.3 s on wasm); only broadcast
 *    multiplies and two per-channel sums (sum dy, sum dy*(x-mean)). Used on the JS and wasm backends
 *    only: on tfjs-node ('tensorflow') and the GPU backends tfjs-core's own gradient runs.
 */
import * as tf from '@tensorflow/tfjs';

type GradMap = Record<string, () => tf.Tensor>;

const COMPARISONS_AND_LOGICAL = [
  'Greater', 'Less', 'LessEqual', 'Equal', 'NotEqual', 'LogicalAnd', 'LogicalOr', 'LogicalNot', 'LogicalXor',
];

let registered = false;

/** Zeros for every input: the op is piecewise constant. float32 even for int/bool inputs, because the
 * engine rejects gradients of any other dtype. */
function zeroGradConfig(kernelName: string): tf.GradConfig {
  const isUnary = kernelName === 'LogicalNot';
  return {
    kernelName,
    inputsToSave: isUnary ? ['x'] : ['a', 'b'],
    gradFunc: (_dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]): GradMap =>
      isUnary
        ? { x: () => tf.zeros(saved[0].shape) }
        : { a: () => tf.zeros(saved[0].shape), b: () => tf.zeros(saved[1].shape) },
  };
}

// ---------------------------------------------------------------------------------------------------
// StridedSlice

interface StridedSliceAttrs {
  begin: number[];
  end: number[];
  strides: number[];
  beginMask: number;
  endMask: number;
  ellipsisMask: number;
  newAxisMask: number;
  shrinkAxisMask: number;
}

/**
 * For every input axis i, element k of the slice came from index begin_i + k*stride_i. Negative
 * strides are turned positive by reversing dy along that axis; strides > 1 by inserting zeros
 * (one rank-4 pad per strided axis: higher-rank pads are not safe on every backend); then one pad (or
 * a crop of trailing zeros) places the block inside zeros of x's shape.
 */
function stridedSliceGrad(dy: tf.Tensor, xShape: number[], a: StridedSliceAttrs): tf.Tensor {
  const info = tf.slice_util.sliceInfo(xShape, a.begin, a.end, a.strides, a.beginMask, a.endMask,
    a.ellipsisMask, a.newAxisMask, a.shrinkAxisMask);
  // Slice extent per input axis (finalShapeSparse drops the shrunk axes).
  const sizes = info.begin.map((b, i) => Math.max(Math.ceil((info.end[i] - b) / info.strides[i]), 0));
  if (sizes.some((d) => d <= 0)) return tf.zeros(xShape, dy.dtype);
  let g = tf.reshape(dy, sizes);
  const begin = info.begin.slice();
  const strides = info.strides.slice();
  const reverseAxes: number[] = [];
  for (let i = 0; i < strides.length; i++) {
    if (strides[i] < 0) {
      reverseAxes.push(i);
      strides[i] = -strides[i];
      begin[i] -= (sizes[i] - 1) * strides[i];
    }
    if (sizes[i] === 1) strides[i] = 1; // a single element: its stride does not matter
  }
  if (reverseAxes.length > 0) g = tf.reverse(g, reverseAxes);
  for (let i = 0; i < strides.length; i++) if (strides[i] > 1) g = insertZeros(g, i, strides[i]);
  // The trailing zeros of the last stride may stick out of x: crop them.
  const len = g.shape.map((d, i) => Math.min(d, xShape[i] - begin[i]));
  if (len.some((d, i) => d < g.shape[i])) g = tf.slice(g, g.shape.map(() => 0), len);
  return tf.pad(g, len.map((d, i): [number, number] => [begin[i], xShape[i] - begin[i] - d]));
}

/** s-1 zeros after every element along `axis`, as a rank-4 pad ([before, d, 1, after] -> [.., d, s, ..]). */
function insertZeros(g: tf.Tensor, axis: number, s: number): tf.Tensor {
  const shape = g.shape;
  const before = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const after = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const padded = tf.pad(tf.reshape(g, [before, shape[axis], 1, after]), [[0, 0], [0, 0], [0, s - 1], [0, 0]]);
  return tf.reshape(padded, shape.map((d, i) => (i === axis ? d * s : d)));
}

const stridedSliceGradConfig: tf.GradConfig = {
  kernelName: 'StridedSlice',
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap): GradMap => ({
    x: () => stridedSliceGrad(dy as tf.Tensor, saved[0].shape, attrs as unknown as StridedSliceAttrs),
  }),
};

// ---------------------------------------------------------------------------------------------------
// FusedBatchNorm

/**
 * y = (x - mean) * rstd * scale + offset with rstd = 1/sqrt(var + eps), mean/var/scale/offset broadcast
 * over the reduced axes. Partial derivatives (mean and variance are inputs here; tf.moments upstream gets
 * its own share through autodiff), with Sdy = sum(dy) and Sdyx = sum(dy * (x - mean)):
 *   dx = dy * (scale*rstd)          dmean = -scale*rstd*Sdy      dvar = -0.5*scale*rstd^3*Sdyx
 *   dscale = rstd*Sdyx              doffset = Sdy
 */
export const fastFusedBatchNormGradConfig: tf.GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dyIn: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap): GradMap => {
    const dy = dyIn as tf.Tensor;
    const [x, mean, variance, scale] = saved;
    const eps = attrs.varianceEpsilon as number;
    const axes = tf.broadcast_util.getReductionAxes(mean.shape, x.shape);
    // Per-channel sums, reshaped to the statistics' shape.
    const channelSum = (t: tf.Tensor): tf.Tensor =>
      tf.reshape(axes.length > 0 ? tf.sum(t, axes, true) : t, mean.shape);
    const rstd = tf.rsqrt(tf.add(variance, eps));
    const gain = scale == null ? rstd : tf.mul(scale, rstd);
    // Computed eagerly: each closure below runs in its own tidy, so a lazily memoized sum would be
    // disposed after its first use. The gradFunc body lives in the outer backward tidy.
    const sdy = channelSum(dy);
    const sdyx = channelSum(tf.mul(dy, tf.sub(x, mean)));
    // Statistics may come as [C] or [1,1,1,C] independently of each other: each result takes its input's shape.
    return {
      x: () => tf.mul(dy, gain),
      mean: () => tf.reshape(tf.neg(tf.mul(gain, sdy)), mean.shape),
      variance: () => tf.reshape(tf.mul(tf.mul(tf.mul(gain, tf.square(rstd)), -0.5), sdyx), variance.shape),
      scale: () => tf.reshape(tf.mul(rstd, sdyx), scale.shape),
      offset: () => tf.clone(sdy),
    };
  },
};

/** Backends where the fast BN gradient pays; elsewhere (TensorFlow's kernels, GPUs) Tile is cheap. */
const FAST_BN_GRAD_BACKENDS = new Set(['wasm', 'cpu']);

/** The FusedBatchNorm gradient used on `backend`: ours or tfjs-core's (`core`, captured at registration). */
export function batchNormGradFor(backend: string, core: tf.GradConfig | undefined): tf.GradConfig {
  return FAST_BN_GRAD_BACKENDS.has(backend) || core == null ? fastFusedBatchNormGradConfig : core;
}

/** Register the extra gradients. Idempotent; safe before or after any backend is chosen. */
export function registerTrainingGradients(): void {
  if (registered) return;
  for (const name of COMPARISONS_AND_LOGICAL) {
    // Never replace a gradient that tfjs-core (or a later version) provides.
    if (tf.getGradient(name) == null) tf.registerGradient(zeroGradConfig(name));
  }
  if (tf.getGradient('StridedSlice') == null) tf.registerGradient(stridedSliceGradConfig);
  // Gradients are global in tfjs, not per backend: the registered one picks per call.
  const core = tf.getGradient('FusedBatchNorm');
  tf.registerGradient({
    ...fastFusedBatchNormGradConfig,
    gradFunc: (dy, saved, attrs) => batchNormGradFor(tf.getBackend(), core).gradFunc(dy, saved, attrs),
  });
  registered = true;
}
