/**
 * Slice, StridedSlice, SplitV and Concat as in-place copies on the wasm heap, and PadV2 above rank 6.
 * The stock wasm Slice first copies the WHOLE input out of the heap (readSync) and then calls
 * `set(subarray)` once per innermost row: slicing channels of NHWC tensors (SplitV, the gradient of a
 * DenseNet concat) costs a full copy plus one tiny set per pixel. The stock StridedSlice is slow and
 * returns int32 data as float32; the stock PadV2 returns garbage above rank 6. `sliceImpl` also serves
 * the conv gradients (crops and strided samples).
 */
import * as tf from '@tensorflow/tfjs';
import { TensorInfo, WasmBackendLike, KernelArgs, runOriginal, view, share, sizeOf, heapRef, copyRun } from './common';

/**
 * A (strided) slice as contiguous runs: outer axes as (count, stride) pairs, merged where the slice
 * covers an axis fully, the run length, and the offset of the first element.
 */
function sliceRuns(shape: number[], begin: number[], size: number[], steps: number[]): { axes: [number, number][]; run: number; offset: number } {
  const strides = shape.map((_, i) => sizeOf(shape.slice(i + 1)));
  const offset = begin.reduce((o, b, i) => o + b * strides[i], 0);
  const full = (i: number): boolean => begin[i] === 0 && size[i] === shape[i] && steps[i] === 1;
  let k = shape.length - 1;
  while (k > 0 && full(k)) k--;
  // Axis k is contiguous when its step is 1; otherwise it becomes an outer axis over inner blocks.
  const run = steps[k] === 1 ? size[k] * strides[k] : strides[k];
  const outerEnd = steps[k] === 1 ? k : k + 1;
  const axes: [number, number][] = [];
  for (let i = 0; i < outerEnd; i++) {
    const last = axes[axes.length - 1];
    // A fully covered axis continues the previous one with the same step pattern.
    if (last != null && full(i) && last[1] === shape[i] * strides[i]) axes[axes.length - 1] = [last[0] * size[i], strides[i]];
    else axes.push([size[i], steps[i] * strides[i]]);
  }
  return { axes: axes.filter(([c]) => c !== 1), run, offset };
}

/** out = x[begin : begin + size*steps : steps] (steps may be negative), copied run by run on the heap. */
export function sliceImpl(backend: WasmBackendLike, x: TensorInfo, begin: number[], size: number[], steps: number[] = size.map(() => 1)): TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  if (sizeOf(size) === 0) return out;
  const { heap, base: xb } = heapRef(backend, x);
  const ob = heapRef(backend, out).base;
  const { axes, run, offset } = sliceRuns(x.shape, begin, size, steps);
  if (axes.length === 0) {
    copyRun(heap, xb + offset, ob, run);
    return out;
  }
  // Odometer over all outer axes but the last; a tight loop over the last.
  const [lastCount, lastStride] = axes[axes.length - 1];
  const outer = axes.slice(0, -1);
  const idx = outer.map(() => 0);
  let d = 0;
  for (;;) {
    let s0 = offset;
    for (let i = 0; i < outer.length; i++) s0 += idx[i] * outer[i][1];
    for (let j = 0; j < lastCount; j++, d += run) copyRun(heap, xb + s0 + j * lastStride, ob + d, run);
    let i = outer.length - 1;
    while (i >= 0 && ++idx[i] === outer[i][0]) idx[i--] = 0;
    if (i < 0) break;
  }
  return out;
}

export function slice({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { x } = inputs;
  if (x.dtype === 'string') return runOriginal('Slice', backend, inputs, attrs);
  const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, attrs.begin as number[], attrs.size as number[]);
  if (size.every((d, i) => d === x.shape[i])) return share(backend, x);
  return sliceImpl(backend, x, begin, size);
}

/** Contiguous strided slices (unit strides) go to the in-place slice; the others keep the C++ kernel. */
export function stridedSlice({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { x } = inputs;
  if (x.dtype === 'string') return runOriginal('StridedSlice', backend, inputs, attrs);
  const a = attrs as unknown as { begin: number[]; end: number[]; strides: number[]; beginMask: number; endMask: number; ellipsisMask: number; newAxisMask: number; shrinkAxisMask: number };
  const info = tf.slice_util.sliceInfo(x.shape, a.begin, a.end, a.strides, a.beginMask, a.endMask, a.ellipsisMask, a.newAxisMask, a.shrinkAxisMask);
  if (info.isIdentity) return share(backend, x, info.finalShape);
  // The C++ kernel is slow (135 ms for a stride-2 sample of 2M floats) and always outputs float32.
  // Per input axis (finalShapeSparse drops shrunk axes); empty when begin is past end.
  const size = info.begin.map((b, i) => Math.max(Math.ceil((info.end[i] - b) / info.strides[i]), 0));
  const out = sliceImpl(backend, x, info.begin, size, info.strides);
  return view(out, info.finalShape);
}

/**
 * XNNPACK's constant pad handles rank <= 6 only; above it the stock kernel returns garbage (it just logs
 * "xnn_setup_constant_pad_nd_x32 ... status 4"). Fold every unpadded axis into the axis before it (exact:
 * the inner axis is whole), and pad in JS if that is still too many axes.
 */
export function padV2({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { x } = inputs;
  const paddings = attrs.paddings as [number, number][];
  if (x.shape.length <= 6 || x.dtype === 'string') return runOriginal('PadV2', backend, inputs, attrs);
  const outShape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const shape: number[] = [];
  const pads: [number, number][] = [];
  x.shape.forEach((d, i) => {
    const [lo, hi] = paddings[i];
    if (i > 0 && lo === 0 && hi === 0) {
      const j = shape.length - 1;
      pads[j] = [pads[j][0] * d, pads[j][1] * d];
      shape[j] *= d;
    } else {
      shape.push(d);
      pads.push([lo, hi]);
    }
  });
  if (shape.length <= 6) {
    const out = runOriginal('PadV2', backend, { x: view(x, shape) }, { ...attrs, paddings: pads });
    return view(out, outShape);
  }
  return padJs(backend, view(x, shape), pads, (attrs.constantValue as number | undefined) ?? 0, outShape);
}

function padJs(backend: WasmBackendLike, x: TensorInfo, pads: [number, number][], value: number, outShape: number[]): TensorInfo {
  const out = backend.makeOutput(outShape, x.dtype);
  backend.typedArrayFromHeap(out).fill(value);
  if (sizeOf(x.shape) === 0) return out;
  const { heap, base: xb } = heapRef(backend, x);
  const ob = heapRef(backend, out).base;
  const n = sizeOf(x.shape);
  const dims = x.shape.map((d, i) => pads[i][0] + d + pads[i][1]);
  const strides = dims.map((_, i) => sizeOf(dims.slice(i + 1)));
  const r = x.shape.length;
  const run = x.shape[r - 1];
  const idx = x.shape.slice(0, -1).map(() => 0);
  for (let s0 = 0; s0 < n; s0 += run) {
    let d = pads[r - 1][0];
    for (let i = 0; i < r - 1; i++) d += (idx[i] + pads[i][0]) * strides[i];
    copyRun(heap, xb + s0, ob + d, run);
    for (let i = r - 2; i >= 0 && ++idx[i] === x.shape[i]; i--) idx[i] = 0;
  }
  return out;
}

export function splitV({ inputs, attrs, backend }: KernelArgs): TensorInfo[] {
  const { x } = inputs;
  if (x.dtype === 'string') return runOriginal('SplitV', backend, inputs, attrs) as unknown as TensorInfo[];
  const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, attrs.numOrSizeSplits as number[] | number, axis);
  const begin = x.shape.map(() => 0);
  return sizes.map((n) => {
    const size = x.shape.slice();
    size[axis] = n;
    const part = sliceImpl(backend, x, begin.slice(), size);
    begin[axis] += n;
    return part;
  });
}

/** Rows of every input interleaved into the output (plain loops for short rows, like NHWC channels). */
export function concat({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const list = inputs as unknown as TensorInfo[];
  if (list.length === 0 || list[0].dtype === 'string') return runOriginal('Concat', backend, inputs, attrs);
  const axis = tf.util.parseAxisParam(attrs.axis as number, list[0].shape)[0];
  const outShape = tf.backend_util.computeOutShape(list.map((t) => t.shape), axis);
  const parts = list.filter((t) => sizeOf(t.shape) > 0);
  if (parts.length === 1) return share(backend, parts[0], outShape);
  const out = backend.makeOutput(outShape, list[0].dtype);
  if (parts.length === 0) return out;
  const rows = sizeOf(outShape.slice(0, axis));
  const total = sizeOf(outShape.slice(axis));
  const { heap, base: ob } = heapRef(backend, out);
  let off = 0;
  for (const t of parts) {
    const inner = sizeOf(t.shape.slice(axis));
    const tb = heapRef(backend, t).base;
    for (let r = 0; r < rows; r++) copyRun(heap, tb + r * inner, ob + r * total + off, inner);
    off += inner;
  }
  return out;
}
