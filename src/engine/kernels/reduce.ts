/**
 * Sum and Mean over the spatial ([1,2]) or leading axes of float32 tensors as an XNNPACK AvgPool plus a tiny
 * float64 JS reduction; the stock kernels transpose first. Other axis patterns keep the stock kernels.
 */
import { TensorInfo, KernelArgs, runOriginal, view, dispose, sizeOf } from './common';

/**
 * A reduction of a float32 tensor over its leading axes [0..k) or, for rank 4, over [1,2] or [0,1,2],
 * written as x viewed [A, B, 1, C], AvgPool over the B rows (XNNPACK), then JS float64 sums over A.
 * Returns null when the axes have another pattern (the stock kernel, which first transposes, is used).
 */
function reducePlan(shape: number[], axes: number[]): { a: number; b: number; c: number } | null {
  const r = shape.length;
  const set = Array.from(new Set(axes.map((ax) => (ax < 0 ? ax + r : ax)))).sort((p, q) => p - q);
  if (set.length === 0 || set.some((ax) => ax < 0 || ax >= r)) return null;
  if (r === 4 && set.length === 2 && set[0] === 1 && set[1] === 2) {
    return { a: shape[0], b: shape[1] * shape[2], c: shape[3] };
  }
  if (!set.every((ax, i) => ax === i) || set.length === r) return null;
  const k = set.length;
  const lead = sizeOf(shape.slice(0, k));
  const c = sizeOf(shape.slice(k));
  // AvgPool over the inner part of the leading block, float64 over its first axis.
  const a = k >= 2 ? shape[0] : 1;
  return { a, b: lead / a, c };
}

export function reduceViaAvgPool(kind: 'Sum' | 'Mean', { inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { x } = inputs;
  const axisAttr = attrs.axis as number | number[];
  const axes = Array.isArray(axisAttr) ? axisAttr : [axisAttr];
  const plan = x.dtype === 'float32' ? reducePlan(x.shape, axes) : null;
  // Tiny windows gain nothing over the stock loop, and an AvgPool of an empty tensor is meaningless.
  if (plan == null || plan.b < 4 || sizeOf(x.shape) === 0) return runOriginal(kind, backend, inputs, attrs);
  const { a, b, c } = plan;
  const avg = runOriginal('AvgPool', backend, { x: view(x, [a, b, 1, c]) }, {
    filterSize: [b, 1], strides: [b, 1], pad: 'valid', dimRoundingMode: undefined,
  });
  const r = x.shape.length;
  const reduced = new Set(axes.map((ax) => (ax < 0 ? ax + r : ax)));
  const spatialOnly = reduced.size === 2 && reduced.has(1) && reduced.has(2) && r === 4;
  const keep = attrs.keepDims === true;
  const outShape = x.shape.flatMap((d, i) => (reduced.has(i) ? (keep ? [1] : []) : [d]));
  let out: TensorInfo;
  if (spatialOnly) {
    // [N,1,1,C] averages: already the Mean; the Sum rescales by the window size (1-2 ulp).
    out = view(avg, outShape);
    if (kind === 'Sum') {
      const v = backend.typedArrayFromHeap(avg) as Float32Array;
      for (let i = 0; i < v.length; i++) v[i] *= b;
    }
    return out;
  }
  out = backend.makeOutput(outShape, 'float32');
  const src = backend.typedArrayFromHeap(avg) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  const acc = new Float64Array(c);
  for (let i = 0; i < a; i++) for (let j = 0; j < c; j++) acc[j] += src[i * c + j];
  const scale = kind === 'Sum' ? b : 1 / a;
  for (let j = 0; j < c; j++) dst[j] = acc[j] * scale;
  dispose(backend, avg);
  return out;
}
