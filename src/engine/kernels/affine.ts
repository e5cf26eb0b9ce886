/**
 * Per-channel affine maps as XNNPACK 1x1 depthwise convs (one vectorized pass each): FusedBatchNorm, and
 * Multiply/Add/Sub of a large tensor with a per-channel vector. The stock kernels are 3-10x slower.
 */
import { TensorInfo, WasmBackendLike, KernelArgs, runOriginal, view, dispose, sizeOf } from './common';

/**
 * y = x * w[c] (+ b[c]) over the last axis as an XNNPACK 1x1 depthwise conv: one vectorized pass. The
 * stock broadcasting binary ops take ~3x longer, the stock FusedBatchNorm ~10x (2M floats: 10 ms vs 1).
 * XNNPACK computes bias + x*w with a separate multiply and add (wasm has no FMA), so x*1 + b equals
 * x + b exactly and x*w + 0 equals x*w (up to the sign of a zero).
 */
function channelAffine(backend: WasmBackendLike, x: TensorInfo, w: TensorInfo, b: TensorInfo | null): TensorInfo {
  const c = x.shape[x.shape.length - 1];
  const out = runOriginal('FusedDepthwiseConv2D', backend, {
    x: view(x, [sizeOf(x.shape) / c, 1, 1, c]), filter: view(w, [1, 1, c, 1]), ...(b != null ? { bias: view(b, [c]) } : {}),
  }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1], activation: 'linear' });
  return view(out, x.shape);
}

/** A new [C] float32 tensor with values f(k). */
function channelVector(backend: WasmBackendLike, c: number, f: (k: number) => number): TensorInfo {
  const out = backend.makeOutput([c], 'float32');
  const v = backend.typedArrayFromHeap(out);
  for (let k = 0; k < c; k++) v[k] = f(k);
  return out;
}

/** Below this size the per-call operator setup of XNNPACK costs more than the stock loop. */
const AFFINE_MIN_SIZE = 1 << 14;

/** True when `small` holds one float32 value per channel of the large float32 `big` ([C], [1,1,1,C], ...). */
function isChannelOperand(big: TensorInfo, small: TensorInfo): boolean {
  const c = big.shape[big.shape.length - 1];
  return big.dtype === 'float32' && small.dtype === 'float32' && sizeOf(big.shape) >= AFFINE_MIN_SIZE &&
    small.shape.length >= 1 && small.shape.length <= big.shape.length && small.shape[small.shape.length - 1] === c &&
    sizeOf(small.shape) === c && c > 0;
}

export function multiply({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { a, b } = inputs;
  if (isChannelOperand(a, b)) return channelAffine(backend, a, b, null);
  if (isChannelOperand(b, a)) return channelAffine(backend, b, a, null);
  return runOriginal('Multiply', backend, inputs, attrs);
}

export function add({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { a, b } = inputs;
  const [big, small] = isChannelOperand(a, b) ? [a, b] : isChannelOperand(b, a) ? [b, a] : [null, null];
  if (big == null || small == null) return runOriginal('Add', backend, inputs, attrs);
  const c = small.shape[small.shape.length - 1];
  // A copy: the stock kernel checks the bias rank as stored ([1,1,1,C] would be refused).
  const sv = backend.typedArrayFromHeap(small);
  const bias = channelVector(backend, c, (k) => sv[k]);
  const ones = channelVector(backend, c, () => 1);
  const out = channelAffine(backend, big, ones, bias);
  dispose(backend, ones, bias);
  return out;
}

export function sub({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { a, b } = inputs;
  const c = a.shape[a.shape.length - 1];
  if (isChannelOperand(a, b)) {
    // a - b = a*1 + (-b)
    const bv = backend.typedArrayFromHeap(b);
    const neg = channelVector(backend, c, (k) => -bv[k]);
    const ones = channelVector(backend, c, () => 1);
    const out = channelAffine(backend, a, ones, neg);
    dispose(backend, neg, ones);
    return out;
  }
  if (isChannelOperand(b, a)) {
    // a - b = b*(-1) + a
    const av = backend.typedArrayFromHeap(a);
    const bias = channelVector(backend, b.shape[b.shape.length - 1], (k) => av[k]);
    const minus = channelVector(backend, b.shape[b.shape.length - 1], () => -1);
    const out = channelAffine(backend, b, minus, bias);
    dispose(backend, minus, bias);
    return out;
  }
  return runOriginal('Sub', backend, inputs, attrs);
}

/**
 * y = (x - mean) * (scale / sqrt(var + eps)) + offset as two depthwise passes (x*1 - mean, then t*g +
 * offset), with the per-channel gain computed in float64. One pass with offset - mean*g folded into the
 * bias would be faster but loses digits when |mean| >> std.
 */
export function fusedBatchNorm({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { x, mean, variance, offset, scale } = inputs;
  const c = x.shape[x.shape.length - 1];
  const stats = [mean, variance, offset, scale].filter((t): t is TensorInfo => t != null);
  const ok = x.dtype === 'float32' && sizeOf(x.shape) >= AFFINE_MIN_SIZE &&
    stats.every((t) => t.dtype === 'float32' && (sizeOf(t.shape) === 1 || isChannelOperand(x, t)));
  if (!ok) return runOriginal('FusedBatchNorm', backend, inputs, attrs);
  const eps = (attrs.varianceEpsilon as number | undefined) ?? 0.001;
  const read = (t: TensorInfo | undefined, dflt: number): (k: number) => number => {
    if (t == null) return () => dflt;
    const v = backend.typedArrayFromHeap(t);
    return v.length === 1 ? () => v[0] : (k) => v[k];
  };
  const [mu, va, be, ga] = [read(mean, 0), read(variance, 1), read(offset, 0), read(scale, 1)];
  const negMean = channelVector(backend, c, (k) => -mu(k));
  const ones = channelVector(backend, c, () => 1);
  const gain = channelVector(backend, c, (k) => ga(k) / Math.sqrt(va(k) + eps));
  const beta = channelVector(backend, c, be);
  const centered = channelAffine(backend, x, ones, negMean);
  const out = channelAffine(backend, centered, gain, beta);
  dispose(backend, negMean, ones, gain, beta, centered);
  return out;
}
