/**
 * MaxPoolGrad and AvgPoolGrad on the wasm heap. MaxPoolGrad sends each gradient to the FIRST maximum of
 * its window, as TensorFlow and the cpu backend do (the stock wasm kernel picks the last on ties);
 * AvgPoolGrad for non-overlapping windows repeats the scaled dy with memmoves instead of the stock loop.
 */
import * as tf from '@tensorflow/tfjs';
import { TensorInfo, Pad, DimRounding, KernelArgs, runOriginal, dispose, heapRef, copyRun } from './common';

// ---------------------------------------------------------------------------------------------------
// MaxPoolGrad

/**
 * Each dy value goes to the first maximum of its window in row-major order (strict '>' while scanning),
 * as in TensorFlow and the cpu backend; the stock wasm kernel picks the last one on ties. Handles
 * overlapping windows (scatter-add) and SAME padding (out-of-range taps are skipped).
 */
export function maxPoolGrad({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { dy, input } = inputs;
  if (input.dtype !== 'float32') return runOriginal('MaxPoolGrad', backend, inputs, attrs);
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number],
    attrs.filterSize as number | [number, number], attrs.strides as number | [number, number], 1,
    attrs.pad as Pad, attrs.dimRoundingMode as DimRounding);
  const { batchSize: n, inHeight: H, inWidth: W, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;

  const out = backend.makeOutput(input.shape, 'float32');
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const xv = backend.typedArrayFromHeap(input) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  dx.fill(0);
  const rowStride = W * c;
  for (let b = 0; b < n; b++) {
    const xb = b * H * rowStride;
    for (let r = 0; r < oh; r++) {
      const h0 = r * sh - pt;
      const i0 = Math.max(h0, 0);
      const i1 = Math.min(h0 + fh, H);
      for (let q = 0; q < ow; q++) {
        const w0 = q * sw - pl;
        const j0 = Math.max(w0, 0);
        const j1 = Math.min(w0 + fw, W);
        const gBase = ((b * oh + r) * ow + q) * c;
        if (i1 - i0 === 2 && j1 - j0 === 2) {
          maxPoolGrad2x2(xv, dx, g, xb + i0 * rowStride + j0 * c, gBase, c, rowStride);
          continue;
        }
        // Per channel, scan the window in row-major order with plain locals (no per-pixel arrays).
        for (let k = 0; k < c; k++) {
          let best = -Infinity;
          let at = -1;
          for (let i = i0; i < i1; i++) {
            let idx = xb + i * rowStride + j0 * c + k;
            for (let j = j0; j < j1; j++, idx += c) {
              const v = xv[idx];
              if (v > best) {
                best = v;
                at = idx;
              }
            }
          }
          if (at >= 0) dx[at] += g[gBase + k];
        }
      }
    }
  }
  return out;
}

/** The common 2x2 window, unrolled (same first-max rule; NaNs never win, as in the general loop). */
function maxPoolGrad2x2(xv: Float32Array, dx: Float32Array, g: Float32Array, base: number, gBase: number, c: number, rowStride: number): void {
  for (let k = 0; k < c; k++) {
    const a = base + k;
    let at = -1;
    let best = -Infinity;
    let v = xv[a];
    if (v > best) { best = v; at = a; }
    v = xv[a + c];
    if (v > best) { best = v; at = a + c; }
    v = xv[a + rowStride];
    if (v > best) { best = v; at = a + rowStride; }
    v = xv[a + rowStride + c];
    if (v > best) at = a + rowStride + c;
    if (at >= 0) dx[at] += g[gBase + k];
  }
}

// ---------------------------------------------------------------------------------------------------
// AvgPoolGrad

/**
 * Non-overlapping windows without padding (DenseNet transitions, 2x2 stride 2): dx is dy / (fh*fw)
 * repeated over each window: an XNNPACK scalar multiply on the small dy, then memmoves. The stock
 * kernel takes ~100 ms for a 64x32x32x96 input. Other window layouts keep the stock kernel.
 */
export function avgPoolGrad({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { dy, input } = inputs;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number],
    attrs.filterSize as number | [number, number], attrs.strides as number | [number, number], 1,
    attrs.pad as Pad, attrs.dimRoundingMode as DimRounding);
  const { batchSize: n, inHeight: H, inWidth: W, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const p = info.padInfo;
  if (input.dtype !== 'float32' || fh !== sh || fw !== sw || p.top + p.bottom + p.left + p.right > 0) {
    return runOriginal('AvgPoolGrad', backend, inputs, attrs);
  }
  // The cpu backend multiplies by the reciprocal too.
  const factor = backend.makeOutput([], 'float32');
  backend.typedArrayFromHeap(factor)[0] = 1 / (fh * fw);
  const scaled = runOriginal('Multiply', backend, { a: dy, b: factor }, {});
  dispose(backend, factor);
  const out = backend.makeOutput(input.shape, 'float32');
  // Rows and columns past the last window (valid pooling of an odd size) get no gradient.
  if (oh * fh !== H || ow * fw !== W) backend.typedArrayFromHeap(out).fill(0);
  const { heap, base: ob } = heapRef(backend, out);
  const sb = heapRef(backend, scaled).base;
  const row = W * c;
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < oh; r++) {
      const first = ob + (b * H + r * fh) * row;
      for (let q = 0; q < ow; q++) {
        const src = sb + ((b * oh + r) * ow + q) * c;
        for (let e = 0; e < fw; e++) copyRun(heap, src, first + (q * fw + e) * c, c);
      }
      // The other rows of the window repeat the first one.
      for (let a = 1; a < fh; a++) copyRun(heap, first, first + a * row, ow * fw * c);
    }
  }
  dispose(backend, scaled);
  return out;
}
