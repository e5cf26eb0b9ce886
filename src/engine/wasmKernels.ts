/**
 * Training kernels for the TF.js `wasm` backend (tfjs-backend-wasm 4.22).
 *
 * The stock wasm backend lacks Conv2DBackpropFilter (so no conv net trains at all), and several kernels
 * that training hits on every step are slow scalar loops or needless copies. Each override below is a
 * composition of the wasm backend's own kernels (mostly XNNPACK convolutions, transposes and pads),
 * called on TensorInfos: no engine tensors, nothing on the tape, every intermediate freed with
 * `backend.disposeData`. See docs/engine.md for the design and the measurements behind each one.
 *
 * Overrides:
 *  - Conv2DBackpropFilter (missing): dW computed as a forward conv of x^T with dy^T, dilation = stride.
 *  - Conv2DBackpropInput: XNNPACK conv of dy with the rotated, in/out-swapped filter ("full" padding);
 *    polyphase for strides > 1 (one small conv per output phase, no zero insertion).
 *  - BatchMatMul with transposeA/B: rewritten as non-transposed products (XNNPACK) plus the cheapest
 *    explicit transposes; the stock transposed cases are scalar loops.
 *  - Conv2DBackpropInput for 'valid' convs that lose borders (LeNet): GEMM + col2im instead.
 *  - MaxPoolGrad: JS, gradient to the FIRST max of each window (TensorFlow/cpu tie-breaking).
 *  - AvgPoolGrad for non-overlapping windows: scaled dy repeated with memmoves.
 *  - Identity, Cast to the same dtype: share the buffer (ref count) instead of a memcpy. Cast to bool:
 *    x != 0 (the stock kernel wraps values, e.g. -2 -> 254).
 *  - Sum / Mean over the spatial ([1,2]) or leading axes of NHWC tensors: AvgPool + tiny JS reduction.
 *  - FusedBatchNorm, and Multiply/Add/Sub of a tensor with a per-channel vector: XNNPACK 1x1 depthwise
 *    convs (one vectorized pass each; the stock kernels are 3-10x slower).
 *  - Slice, StridedSlice, SplitV, Concat: copy in place on the heap (the stock Slice copies
 *    the whole input out of the heap first, then one `set` per innermost row; the stock StridedSlice is
 *    slow and returns int32 data as float32). PadV2 above rank 6 (the stock one returns garbage).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

type TensorInfo = tf.TensorInfo;
type Attrs = Record<string, unknown>;
type Inputs = Record<string, TensorInfo>;
type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
type DimRounding = 'floor' | 'round' | 'ceil' | undefined;

/** The parts of tfjs-backend-wasm's BackendWasm that these kernels use. */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
  numDataIds(): number;
}

interface KernelArgs {
  inputs: Inputs;
  attrs: Attrs;
  backend: WasmBackendLike;
}

/** Knobs for benchmarks and tests (the defaults are what training should use). */
export const wasmKernelOptions: { backpropFilter: 'auto' | 'conv' } = { backpropFilter: 'auto' };

/** The stock wasm kernels, captured before any override replaces them in the registry. */
const original = new Map<string, tf.KernelConfig>();
let registered = false;

/** Names of the stock kernels called by the overrides (captured up front so overriding never recurses). */
const USED_KERNELS = [
  'Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'FusedDepthwiseConv2D', 'FusedBatchNorm', 'BatchMatMul',
  'MaxPoolGrad', 'AvgPool', 'AvgPoolGrad', 'Transpose', 'Slice', 'StridedSlice', 'PadV2', 'SplitV', 'Concat', 'Identity', 'Cast',
  'Sum', 'Mean', 'Multiply', 'Add', 'Sub',
];

function runOriginal(name: string, backend: WasmBackendLike, inputs: Inputs, attrs: Attrs = {}): TensorInfo {
  const cfg = original.get(name);
  if (cfg == null) throw new Error(`wasmKernels: the wasm backend has no '${name}' kernel to build on`);
  const fn = cfg.kernelFunc as unknown as (a: KernelArgs) => TensorInfo;
  return fn({ inputs, attrs, backend });
}

/** Same data, another shape. Owns no reference: never dispose a view, dispose what it views. */
function view(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

function dispose(backend: WasmBackendLike, ...ts: (TensorInfo | null)[]): void {
  for (const t of ts) if (t != null) backend.disposeData(t.dataId);
}

/** A new reference to t's buffer (no copy); the caller disposes it like any kernel output. */
function share(backend: WasmBackendLike, t: TensorInfo, shape: number[] = t.shape): TensorInfo {
  backend.incRef(t.dataId);
  return { dataId: t.dataId, shape: shape.slice(), dtype: t.dtype };
}

/**
 * Transpose through the stock kernel, but without its memcpy when the permutation only moves size-1
 * axes (then the data order is unchanged and a shared buffer is enough).
 */
function transpose(backend: WasmBackendLike, x: TensorInfo, perm: number[]): TensorInfo {
  const outShape = perm.map((p) => x.shape[p]);
  const moved = perm.filter((p) => x.shape[p] !== 1);
  if (moved.every((p, i) => i === 0 || p > moved[i - 1])) return share(backend, x, outShape);
  return runOriginal('Transpose', backend, { x }, { perm });
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

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
function conv2DBackpropFilter({ inputs, attrs, backend }: KernelArgs): TensorInfo {
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
function conv2DBackpropInput({ inputs, attrs, backend }: KernelArgs): TensorInfo {
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
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const cv = backend.typedArrayFromHeap(col) as Float32Array;
  dx.fill(0);
  let src = 0;
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < oh; r++) {
      for (let q = 0; q < ow; q++, src += kkc) {
        for (let a = 0; a < kh; a++) {
          const i = r * sh + a - pt;
          if (i < 0 || i >= H) continue;
          for (let e = 0; e < kw; e++) {
            const j = q * sw + e - pl;
            if (j < 0 || j >= W) continue;
            const d = ((b * H + i) * W + j) * ci;
            const s0 = src + (a * kw + e) * ci;
            for (let k = 0; k < ci; k++) dx[d + k] += cv[s0 + k];
          }
        }
      }
    }
  }
  dispose(backend, col);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// BatchMatMul

/**
 * Only the non-transposed BatchMatMul reaches XNNPACK (a fully-connected op whose weights are the b
 * operand, packed anew on every call); the transposed ones run a scalar loop, 5-8x slower. So every
 * case becomes a non-transposed product, choosing the form that moves the least data:
 *   a^T b   = matmul(a^T, b)                   (one transpose of a)
 *   a b^T   = matmul(a, b^T), or (b a^T)^T when a is smaller than b (dense backward: dy . W^T)
 *   a^T b^T = (b a)^T                          (one transpose of the result)
 */
function batchMatMul({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { transposeA, transposeB } = attrs as { transposeA?: boolean; transposeB?: boolean };
  const plain = { ...attrs, transposeA: false, transposeB: false };
  const mm = (a: TensorInfo, b: TensorInfo): TensorInfo => {
    const own = weightsOperand(backend, b);
    const out = runOriginal('BatchMatMul', backend, { a, b: own }, plain);
    if (own !== b) dispose(backend, own);
    return out;
  };
  const { a, b } = inputs;
  if (!transposeA && !transposeB) return mm(a, b);
  if (transposeA && transposeB) return transposedResult(backend, mm(b, a));
  if (transposeA) {
    const at = swapLastAxes(backend, a);
    const out = mm(at, b);
    dispose(backend, at);
    return out;
  }
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[b.shape.length - 2];
  if (m * k + m * n < n * k) {
    const at = swapLastAxes(backend, a);
    const out = transposedResult(backend, mm(b, at));
    dispose(backend, at);
    return out;
  }
  const bt = swapLastAxes(backend, b);
  const out = mm(a, bt);
  dispose(backend, bt);
  return out;
}

/**
 * The wasm BatchMatMul caches XNNPACK's packed b operand by b's data id. A buffer shared under another shape
 * (a reshape, or our copy-free transpose of a [k,1] vector) then hits a cache entry packed for the old
 * [k,n] and yields garbage. Remember the [k,n] each id was used with; on a mismatch give the kernel a copy.
 */
const bShapes = new WeakMap<object, string>();

function weightsOperand(backend: WasmBackendLike, b: TensorInfo): TensorInfo {
  const key = b.shape.slice(-2).join('x');
  const seen = bShapes.get(b.dataId);
  if (seen === undefined) {
    bShapes.set(b.dataId, key);
    return b;
  }
  if (seen === key) return b;
  const copy = runOriginal('Identity', backend, { x: b });
  bShapes.set(copy.dataId, key);
  return copy;
}

function swapLastAxes(backend: WasmBackendLike, t: TensorInfo): TensorInfo {
  const r = t.shape.length;
  return transpose(backend, t, t.shape.map((_, i) => (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i)));
}

/** Transpose the last two axes of a kernel result, freeing the result. */
function transposedResult(backend: WasmBackendLike, t: TensorInfo): TensorInfo {
  const out = swapLastAxes(backend, t);
  dispose(backend, t);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// MaxPoolGrad

/**
 * Each dy value goes to the first maximum of its window in row-major order (strict '>' while scanning),
 * as in TensorFlow and the cpu backend; the stock wasm kernel picks the last one on ties. Handles
 * overlapping windows (scatter-add) and SAME padding (out-of-range taps are skipped).
 */
function maxPoolGrad({ inputs, attrs, backend }: KernelArgs): TensorInfo {
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
function avgPoolGrad({ inputs, attrs, backend }: KernelArgs): TensorInfo {
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

// ---------------------------------------------------------------------------------------------------
// Identity, Cast

/** The engine clones every tensor saved for backward (hundreds per ResNet step): share, don't copy. */
function identity({ inputs, backend }: KernelArgs): TensorInfo {
  const { x } = inputs;
  if (x.dtype === 'string') return runOriginal('Identity', backend, inputs);
  return share(backend, x);
}

function cast({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { x } = inputs;
  if (attrs.dtype === x.dtype && x.dtype !== 'string') return share(backend, x);
  if (attrs.dtype === 'bool' && (x.dtype === 'float32' || x.dtype === 'int32')) return castToBool(backend, x);
  return runOriginal('Cast', backend, inputs, attrs);
}

/** x != 0 (NaN counts as true, as on cpu). The stock kernel copies into a Uint8Array: -2 became 254. */
function castToBool(backend: WasmBackendLike, x: TensorInfo): TensorInfo {
  const out = backend.makeOutput(x.shape, 'bool');
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  for (let i = 0; i < src.length; i++) dst[i] = src[i] !== 0 ? 1 : 0;
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Sum, Mean

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

function reduceViaAvgPool(kind: 'Sum' | 'Mean', { inputs, attrs, backend }: KernelArgs): TensorInfo {
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

// ---------------------------------------------------------------------------------------------------
// Per-channel affine maps: FusedBatchNorm, and Multiply/Add/Sub with a per-channel vector

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

function multiply({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { a, b } = inputs;
  if (isChannelOperand(a, b)) return channelAffine(backend, a, b, null);
  if (isChannelOperand(b, a)) return channelAffine(backend, b, a, null);
  return runOriginal('Multiply', backend, inputs, attrs);
}

function add({ inputs, attrs, backend }: KernelArgs): TensorInfo {
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

function sub({ inputs, attrs, backend }: KernelArgs): TensorInfo {
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
function fusedBatchNorm({ inputs, attrs, backend }: KernelArgs): TensorInfo {
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

// ---------------------------------------------------------------------------------------------------
// Slice, StridedSlice, SplitV, Concat

/**
 * The stock wasm Slice first copies the WHOLE input out of the heap (readSync) and then calls
 * `set(subarray)` once per innermost row: slicing channels of NHWC tensors (SplitV, the gradient of a
 * DenseNet concat) costs a full copy plus one tiny set per pixel. These versions copy in place.
 */
/**
 * The whole wasm heap as 4-byte (or, for bool, 1-byte) integers plus the tensor's element offset in it.
 * Copies between tensors then are `copyWithin` on one buffer (a memmove, no subarray objects) and, for
 * short runs, integer loads and stores (bit-exact for float data too: no NaN canonicalization).
 * Take it after the last allocation of the kernel: a heap growth detaches views.
 */
function heapRef(backend: WasmBackendLike, t: TensorInfo): { heap: Int32Array | Uint8Array; base: number } {
  const b = backend as unknown as { wasm: { HEAPU8: Uint8Array }; dataIdMap: { get(id: object): { memoryOffset: number } } };
  const offset = b.dataIdMap.get(t.dataId).memoryOffset;
  if (t.dtype === 'bool') return { heap: new Uint8Array(b.wasm.HEAPU8.buffer), base: offset };
  return { heap: new Int32Array(b.wasm.HEAPU8.buffer), base: offset / 4 };
}

/** heap[d .. d+run) = heap[s .. s+run); copyWithin wins from about 16 elements up (measured). */
function copyRun(heap: Int32Array | Uint8Array, s: number, d: number, run: number): void {
  if (run >= 16) {
    heap.copyWithin(d, s, s + run);
  } else {
    for (let i = 0; i < run; i++) heap[d + i] = heap[s + i];
  }
}

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
function sliceImpl(backend: WasmBackendLike, x: TensorInfo, begin: number[], size: number[], steps: number[] = size.map(() => 1)): TensorInfo {
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

function slice({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { x } = inputs;
  if (x.dtype === 'string') return runOriginal('Slice', backend, inputs, attrs);
  const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, attrs.begin as number[], attrs.size as number[]);
  if (size.every((d, i) => d === x.shape[i])) return share(backend, x);
  return sliceImpl(backend, x, begin, size);
}

/** Contiguous strided slices (unit strides) go to the in-place slice; the others keep the C++ kernel. */
function stridedSlice({ inputs, attrs, backend }: KernelArgs): TensorInfo {
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
function padV2({ inputs, attrs, backend }: KernelArgs): TensorInfo {
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

function splitV({ inputs, attrs, backend }: KernelArgs): TensorInfo[] {
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
function concat({ inputs, attrs, backend }: KernelArgs): TensorInfo {
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

// ---------------------------------------------------------------------------------------------------
// Registration

const OVERRIDES: Record<string, (args: KernelArgs) => TensorInfo> = {
  Conv2DBackpropFilter: conv2DBackpropFilter,
  Conv2DBackpropInput: conv2DBackpropInput,
  BatchMatMul: batchMatMul,
  MaxPoolGrad: maxPoolGrad,
  AvgPoolGrad: avgPoolGrad,
  Identity: identity,
  Cast: cast,
  FusedBatchNorm: fusedBatchNorm,
  Multiply: multiply,
  Add: add,
  Sub: sub,
  Slice: slice,
  StridedSlice: stridedSlice,
  PadV2: padV2,
  SplitV: splitV as unknown as (args: KernelArgs) => TensorInfo,
  Concat: concat,
  Sum: (args) => reduceViaAvgPool('Sum', args),
  Mean: (args) => reduceViaAvgPool('Mean', args),
};

/**
 * Register the training kernels for the 'wasm' backend. Idempotent. Call it after importing
 * '@tensorflow/tfjs-backend-wasm' (this module does) and preferably before the backend initializes.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const name of USED_KERNELS) {
    const cfg = tf.getKernel(name, 'wasm');
    if (cfg != null) original.set(name, cfg);
  }
  for (const [name, fn] of Object.entries(OVERRIDES)) {
    const prev = original.get(name);
    if (prev != null) tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: fn as unknown as tf.KernelFunc,
      // The stock setupFunc binds the C++ entry point that the original kernelFunc calls: keep it.
      setupFunc: prev?.setupFunc,
      disposeFunc: prev?.disposeFunc,
    });
  }
  registered = true;
}

/** The stock kernelFunc of a wasm kernel, as it was before registerWasmTrainingKernels (for tests and benchmarks). */
export function originalWasmKernel(name: string): tf.KernelFunc | undefined {
  return (original.get(name) ?? tf.getKernel(name, 'wasm'))?.kernelFunc;
}
