/**
 * Conv2DBackpropFilter (missing from the stock wasm backend, so no conv net could train) and
 * Conv2DBackpropInput, both as XNNPACK convolutions or GEMMs instead of scalar loops:
 *  - dW as a forward conv of x^T with dy^T, dilation = stride (one GEMM for an unpadded 1x1 kernel);
 *  - dx as a conv of dy with the rotated, in/out-swapped filter ("full" padding), polyphase for
 *    strides > 1 (one small conv per output phase, no zero insertion), or GEMM + col2im for 'valid'
 *    convs that lose borders (LeNet).
 * See docs/engine.md for the measurements behind each choice.
 */
import * as tf from '@tensorflow/tfjs';
import {
  TensorInfo, Pad, DimRounding, WasmBackendLike, KernelArgs, runOriginal, view, dispose, transpose, heapRef, copyRun,
} from './common';
import { col2imKernel } from '../trainKernels';
import { batchMatMul } from './matmul';
import { sliceImpl } from './slice';

/** Knobs for benchmarks and tests (the defaults are what training should use). */
export const wasmKernelOptions: { backpropFilter: 'auto' | 'conv' } = { backpropFilter: 'auto' };

function assertNHWC(kernel: string, dataFormat: unknown): void {
  if (dataFormat != null && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`wasm ${kernel}: dataFormat '${String(dataFormat)}' is not supported (use NHWC, the tf.layers default)`);
  }
}

function assertUnitDilations(kernel: string, dilations: unknown): void {
  const d = dilations == null ? [1, 1] : typeof dilations === 'number' ? [dilations, dilations] : (dilations as number[]);
  if (d.some((v) => v !== 1)) throw new Error(`wasm ${kernel}: dilations ${JSON.stringify(dilations)} > 1 are not supported`);
}

/** Crop rows/cols of an NHWC tensor: keep [top, top+h) x [left, left+w). Returns null when nothing is cut. */
function cropNHWC(backend: WasmBackendLike, x: TensorInfo, top: number, left: number, h: number, w: number): TensorInfo | null {
  return stridedRows(backend, x, top, left, h, w, 1, 1);
}

// ---------------------------------------------------------------------------------------------------
// Conv2DBackpropFilter

/**
 * dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*s+kh-pt, ow*s+kw-pl, ci] * dy[n,oh,ow,co]
 * is a forward conv whose batch is Ci (input x^T = [Ci,H,W,N]) and whose filter is dy^T = [OH,OW,N,Co],
 * with stride 1 and dilation = the conv stride. It yields [Ci,KH,KW,Co], then a small transpose.
 * (Measured alternatives that lost: an explicit im2col + GEMM, even for Ci = 1..3, because building the
 * columns in JS costs more than the conv; splitting the batch to keep dy^T in cache: no gain.)
 */
export function conv2DBackpropFilter({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { x, dy } = inputs;
  assertNHWC('Conv2DBackpropFilter', attrs.dataFormat);
  assertUnitDilations('Conv2DBackpropFilter', attrs.dilations);
  const filterShape = attrs.filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape,
    attrs.strides as number | [number, number], 1, attrs.pad as Pad, attrs.dimRoundingMode as DimRounding);
  if (dy.shape[1] !== info.outHeight || dy.shape[2] !== info.outWidth) {
    throw new Error(`wasm Conv2DBackpropFilter: dy shape ${dy.shape} does not match the conv output ${info.outShape}`);
  }
  // The conv form below batches over Ci with only KH*KW output pixels per image, and XNNPACK tiles rows
  // per image: for a 1x1 kernel that leaves 5/6 of every tile empty. A plain GEMM there.
  const is1x1 = info.filterHeight === 1 && info.filterWidth === 1 && info.padInfo.top === 0 && info.padInfo.left === 0;
  if (is1x1 && wasmKernelOptions.backpropFilter === 'auto') return conv2DBackpropFilter1x1(backend, x, dy, info);
  return conv2DBackpropFilterConv(backend, x, dy, info);
}

/** 1x1 kernel, no padding: dW [Ci,Co] = xs^T . dy with xs = x sampled at the stride, [N*OH*OW, Ci]. */
function conv2DBackpropFilter1x1(backend: WasmBackendLike, x: TensorInfo, dy: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: n, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co, strideHeight: sh, strideWidth: sw } = info;
  const sampled = stridedRows(backend, x, 0, 0, oh, ow, sh, sw);
  const p = n * oh * ow;
  const dw = batchMatMul({
    inputs: { a: view(sampled ?? x, [1, p, ci]), b: view(dy, [1, p, co]) },
    attrs: { transposeA: true, transposeB: false }, backend,
  });
  dispose(backend, sampled);
  return view(dw, [1, 1, ci, co]);
}

/** x[:, top + sh*i, left + sw*j, :] for i < rows, j < cols; null when that is all of x (no copy needed). */
function stridedRows(backend: WasmBackendLike, x: TensorInfo, top: number, left: number, rows: number, cols: number, sh: number, sw: number): TensorInfo | null {
  const [n, H, W, c] = x.shape;
  if (top === 0 && left === 0 && rows === H && cols === W && sh === 1 && sw === 1) return null;
  return sliceImpl(backend, x, [0, top, left, 0], [n, rows, cols, c], [1, sh, sw, 1]);
}

function conv2DBackpropFilterConv(backend: WasmBackendLike, x: TensorInfo, dy: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: n, inHeight: H, inWidth: W, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  // Rows past the last window are never read: crop x instead of padding by a negative amount.
  const pb = kh + (oh - 1) * sh - H - pt;
  const pr = kw + (ow - 1) * sw - W - pl;
  const hc = H + Math.min(pb, 0);
  const wc = W + Math.min(pr, 0);
  const cropped = cropNHWC(backend, x, 0, 0, hc, wc);
  const xs = cropped ?? x;

  // x [N,H,W,Ci] -> [Ci,H,W,N] in two steps: the direct 4-D perm [3,1,2,0] hits cache-set aliasing.
  const x2 = transpose(backend, view(xs, [n, hc * wc * ci]), [1, 0]);
  const xt = transpose(backend, view(x2, [hc * wc, ci, n]), [1, 0, 2]);
  dispose(backend, cropped, x2);
  const dyt = transpose(backend, view(dy, [n, oh * ow, co]), [1, 0, 2]);

  const out = runOriginal('Conv2D', backend, { x: view(xt, [ci, hc, wc, n]), filter: view(dyt, [oh, ow, n, co]) }, {
    strides: [1, 1], dilations: [sh, sw], dataFormat: 'NHWC', dimRoundingMode: undefined,
    pad: [[0, 0], [pt, Math.max(pb, 0)], [pl, Math.max(pr, 0)], [0, 0]],
  });
  dispose(backend, xt, dyt);
  const dw = transpose(backend, view(out, [ci, kh * kw, co]), [1, 0, 2]);
  dispose(backend, out);
  return view(dw, [kh, kw, ci, co]);
}

// ---------------------------------------------------------------------------------------------------
// Conv2DBackpropInput

/**
 * One polyphase component along one axis: the dx entries at p, p+s, p+2s, ... (`count` of them) receive
 * dy through the taps k0, k0+s, k0+2s, ... (`taps` of them); q is the dy offset of the first one.
 * For stride 1 there is a single phase with every tap: the plain "full" correlation.
 */
interface Phase {
  k0: number;
  taps: number;
  q: number;
  count: number;
}

function phaseOf(p: number, stride: number, pad: number, kernel: number, inLen: number): Phase {
  const k0 = (p + pad) % stride;
  return {
    k0,
    taps: k0 < kernel ? Math.ceil((kernel - k0) / stride) : 0,
    q: Math.floor((p + pad) / stride),
    count: Math.ceil((inLen - p) / stride),
  };
}

/**
 * The phase's taps of W [KH,KW,Ci,Co], rotated 180 degrees with in/out channels swapped:
 * W'[a,b,o,i] = W[k0h + sh*(Jh-1-a), k0w + sw*(Jw-1-b), i, o]. Small: plain JS.
 */
function phaseFilter(backend: WasmBackendLike, filter: TensorInfo, ph: Phase, pw: Phase, sh: number, sw: number): TensorInfo {
  const [, kw, ci, co] = filter.shape;
  const out = backend.makeOutput([ph.taps, pw.taps, co, ci], 'float32');
  // Views are taken after the allocation: a heap growth would detach earlier ones.
  const src = backend.typedArrayFromHeap(filter);
  const dst = backend.typedArrayFromHeap(out);
  for (let a = 0; a < ph.taps; a++) {
    const row = ph.k0 + sh * (ph.taps - 1 - a);
    for (let b = 0; b < pw.taps; b++) {
      const s0 = (row * kw + pw.k0 + sw * (pw.taps - 1 - b)) * ci * co;
      const d0 = (a * pw.taps + b) * co * ci;
      for (let i = 0; i < ci; i++) {
        const si = s0 + i * co;
        for (let o = 0; o < co; o++) dst[d0 + o * ci + i] = src[si + o];
      }
    }
  }
  return out;
}

/**
 * dx_phase[m] = sum_j dy[m + q - j] * W[k0 + s*j]: a stride-1 XNNPACK conv of dy with the phase filter,
 * padded by taps-1-q on top and count+q-OH at the bottom (negative paddings become crops of dy).
 * Returns [N, ph.count, pw.count, Ci], or null when the phase reads no row of dy at all.
 */
function phaseConv(backend: WasmBackendLike, dy: TensorInfo, filter: TensorInfo, ph: Phase, pw: Phase, sh: number, sw: number): TensorInfo | null {
  const [, oh, ow] = dy.shape;
  const top = ph.taps - 1 - ph.q;
  const left = pw.taps - 1 - pw.q;
  const bottom = ph.count + ph.q - oh;
  const right = pw.count + pw.q - ow;
  const ct = Math.max(-top, 0);
  const cl = Math.max(-left, 0);
  const rows = oh - ct - Math.max(-bottom, 0);
  const cols = ow - cl - Math.max(-right, 0);
  if (rows <= 0 || cols <= 0) return null;
  const cropped = cropNHWC(backend, dy, ct, cl, rows, cols);
  const w = phaseFilter(backend, filter, ph, pw, sh, sw);
  const out = runOriginal('Conv2D', backend, { x: cropped ?? dy, filter: w }, {
    strides: [1, 1], dilations: [1, 1], dataFormat: 'NHWC', dimRoundingMode: undefined,
    pad: [[0, 0], [Math.max(top, 0), Math.max(bottom, 0)], [Math.max(left, 0), Math.max(right, 0)], [0, 0]],
  });
  dispose(backend, cropped, w);
  return out;
}

/** dx[n, p + sh*m, q + sw*k, :] = part[n, m, k, :], run by run of channels on the heap. */
function scatterPhase(heap: Int32Array | Uint8Array, dxBase: number, partBase: number, shape: number[], partShape: number[],
  p: number, q: number, sh: number, sw: number): void {
  const [n, H, W, c] = shape;
  const [, mh, mw] = partShape;
  let src = partBase;
  for (let b = 0; b < n; b++) {
    for (let m = 0; m < mh; m++) {
      const rowBase = (b * H + p + sh * m) * W;
      for (let k = 0; k < mw; k++, src += c) copyRun(heap, src, dxBase + (rowBase + q + sw * k) * c, c);
    }
  }
}

/**
 * dx as XNNPACK convolutions of dy with the rotated, in/out-swapped filter. Stride 1: one "full"
 * correlation. Stride s > 1: polyphase, one small conv per (row phase, col phase) with only the taps
 * that reach it, then an interleave; zero insertion would waste s*s times the FLOPs.
 */
export function conv2DBackpropInput({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { dy, filter } = inputs;
  assertNHWC('Conv2DBackpropInput', attrs.dataFormat);
  assertUnitDilations('Conv2DBackpropInput', attrs.dilations);
  const inputShape = attrs.inputShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number],
    attrs.strides as number | [number, number], 1, attrs.pad as Pad, attrs.dimRoundingMode as DimRounding);
  const { inHeight: H, inWidth: W, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;

  if (preferCol2Im(info)) return conv2DBackpropInputCol2Im(backend, dy, filter, info);
  const phases: [number, number, Phase, Phase][] = [];
  for (let p = 0; p < Math.min(sh, H); p++) {
    for (let q = 0; q < Math.min(sw, W); q++) phases.push([p, q, phaseOf(p, sh, pt, kh, H), phaseOf(q, sw, pl, kw, W)]);
  }
  if (phases.length === 1) {
    const out = phaseConv(backend, dy, filter, phases[0][2], phases[0][3], sh, sw);
    if (out != null) return out;
  }
  const parts = phases.map(([, , ph, pw]) => (ph.taps > 0 && pw.taps > 0 ? phaseConv(backend, dy, filter, ph, pw, sh, sw) : null));
  const dx = backend.makeOutput(inputShape, 'float32');
  // Phases without taps (e.g. the odd rows of a 1x1 stride-2 conv) or without dy rows stay zero.
  if (parts.some((part) => part == null)) backend.typedArrayFromHeap(dx).fill(0);
  const { heap, base } = heapRef(backend, dx);
  parts.forEach((part, i) => {
    if (part == null) return;
    const [p, q] = phases[i];
    scatterPhase(heap, base, heapRef(backend, part).base, inputShape, part.shape, p, q, sh, sw);
    dispose(backend, part);
  });
  return dx;
}

/**
 * The full correlation computes H*W outputs over every tap, but when the forward conv dropped borders
 * ('valid', e.g. LeNet's 12x12 -> 8x8) most taps of the border outputs hit padding: LeNet conv2 computes
 * 2.25x the useful MACs. Then GEMM + col2im is cheaper; it costs a col buffer and a JS scatter-add,
 * which pays off when there are enough output channels per col element.
 */
function preferCol2Im(info: tf.backend_util.Conv2DInfo): boolean {
  const waste = (info.inHeight * info.inWidth) / (info.outHeight * info.outWidth * info.strideHeight * info.strideWidth);
  const colSize = info.batchSize * info.outHeight * info.outWidth * info.filterHeight * info.filterWidth * info.inChannels;
  return waste >= 1.5 && info.outChannels >= 32 && colSize <= 1 << 25;
}

/** col [P, KH*KW*Ci] = dy [P, Co] . W^T (XNNPACK), then dx[n, oh*s+kh-pt, ow*s+kw-pl, :] += col[p, kh, kw, :]. */
function conv2DBackpropInputCol2Im(backend: WasmBackendLike, dy: TensorInfo, filter: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: n, inHeight: H, inWidth: W, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const kkc = kh * kw * ci;
  const col = batchMatMul({
    inputs: { a: view(dy, [1, n * oh * ow, co]), b: view(filter, [1, kkc, co]) },
    attrs: { transposeA: false, transposeB: true }, backend,
  });
  const out = backend.makeOutput(info.inShape, 'float32');
  // The scatter-add in WebAssembly SIMD: as a JavaScript loop it took about 12 ms for LeNet-5's conv2.
  col2imKernel(backend.typedArrayFromHeap(col) as Float32Array, backend.typedArrayFromHeap(out) as Float32Array,
    { n, H, W, ci, oh, ow, kh, kw, sh, sw, pt, pl });
  dispose(backend, col);
  return out;
}
