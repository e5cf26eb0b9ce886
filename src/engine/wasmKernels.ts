/**
 * Training kernels for the TF.js `wasm` backend (tfjs-backend-wasm 4.22).
 *
 * The stock wasm backend lacks Conv2DBackpropFilter (so no conv net trains at all), and several kernels
 * that training hits on every step are slow scalar loops or needless copies. Each override below is a
 * composition of the wasm backend's own kernels (mostly XNNPACK convolutions, transposes and pads),
 * called on TensorInfos: no engine tensors, nothing on the tape, every intermediate freed with
 * `backend.disposeData`. See shared/research/compute-backends.md for the measurements behind each one.
 *
 * Overrides:
 *  - Conv2DBackpropFilter (missing): dW computed as a forward conv of x^T with dy^T, dilation = stride.
 *  - Conv2DBackpropInput: XNNPACK conv of dy with the rotated, in/out-swapped filter ("full" padding);
 *    polyphase for strides > 1 (one small conv per output phase, no zero insertion).
 *  - BatchMatMul with transposeA/B: explicit transpose, then the XNNPACK (non-transposed) path.
 *  - MaxPoolGrad: JS, gradient to the FIRST max of each window (TensorFlow/cpu tie-breaking).
 *  - Identity, Cast to the same dtype: share the buffer (ref count) instead of a memcpy. Cast to bool:
 *    x != 0 (the stock kernel wraps values, e.g. -2 -> 254).
 *  - Sum / Mean over the spatial ([1,2]) or leading axes of NHWC tensors: AvgPool + tiny JS reduction.
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

/** The stock wasm kernels, captured before any override replaces them in the registry. */
const original = new Map<string, tf.KernelConfig>();
let registered = false;

/** Names of the stock kernels called by the overrides (captured up front so overriding never recurses). */
const USED_KERNELS = [
  'Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'Transpose', 'Slice', 'AvgPool',
  'BatchMatMul', 'MaxPoolGrad', 'Identity', 'Cast', 'Sum', 'Mean',
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
  const [n, H, W, c] = x.shape;
  if (top === 0 && left === 0 && h === H && w === W) return null;
  return runOriginal('Slice', backend, { x }, { begin: [0, top, left, 0], size: [n, h, w, c] });
}

// ---------------------------------------------------------------------------------------------------
// Conv2DBackpropFilter

/**
 * dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*s+kh-pt, ow*s+kw-pl, ci] * dy[n,oh,ow,co]
 * is a forward conv whose batch is Ci (input x^T = [Ci,H,W,N]) and whose filter is dy^T = [OH,OW,N,Co],
 * with stride 1 and dilation = the conv stride. It yields [Ci,KH,KW,Co], then a small transpose.
 */
function conv2DBackpropFilter({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { x, dy } = inputs;
  assertNHWC('Conv2DBackpropFilter', attrs.dataFormat);
  assertUnitDilations('Conv2DBackpropFilter', attrs.dilations);
  const filterShape = attrs.filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape,
    attrs.strides as number | [number, number], 1, attrs.pad as Pad, attrs.dimRoundingMode as DimRounding);
  const { batchSize: n, inHeight: H, inWidth: W, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  if (dy.shape[1] !== oh || dy.shape[2] !== ow) {
    throw new Error(`wasm Conv2DBackpropFilter: dy shape ${dy.shape} does not match the conv output ${info.outShape}`);
  }
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

/** dx[n, p + sh*m, q + sw*k, :] = part[n, m, k, :]. */
function scatterPhase(dx: Float32Array, part: Float32Array, shape: number[], partShape: number[], p: number, q: number, sh: number, sw: number): void {
  const [n, H, W, c] = shape;
  const [, mh, mw] = partShape;
  for (let b = 0; b < n; b++) {
    for (let m = 0; m < mh; m++) {
      const rowBase = (b * H + p + sh * m) * W;
      let src = ((b * mh + m) * mw) * c;
      for (let k = 0; k < mw; k++) {
        const dst = (rowBase + q + sw * k) * c;
        for (let j = 0; j < c; j++) dx[dst + j] = part[src + j];
        src += c;
      }
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

  const phases: [number, number, Phase, Phase][] = [];
  for (let p = 0; p < Math.min(sh, H); p++) {
    for (let q = 0; q < Math.min(sw, W); q++) phases.push([p, q, phaseOf(p, sh, pt, kh, H), phaseOf(q, sw, pl, kw, W)]);
  }
  if (phases.length === 1) {
    const out = phaseConv(backend, dy, filter, phases[0][2], phases[0][3], sh, sw);
    if (out != null) return out;
  }
  const dx = backend.makeOutput(inputShape, 'float32');
  // Phases without taps (e.g. the odd rows of a 1x1 stride-2 conv) or without dy rows stay zero.
  (backend.typedArrayFromHeap(dx) as Float32Array).fill(0);
  for (const [p, q, ph, pw] of phases) {
    if (ph.taps === 0 || pw.taps === 0) continue;
    const part = phaseConv(backend, dy, filter, ph, pw, sh, sw);
    if (part == null) continue;
    scatterPhase(backend.typedArrayFromHeap(dx) as Float32Array, backend.typedArrayFromHeap(part) as Float32Array,
      inputShape, part.shape, p, q, sh, sw);
    dispose(backend, part);
  }
  return dx;
}

// ---------------------------------------------------------------------------------------------------
// BatchMatMul

/** Only the non-transposed BatchMatMul reaches XNNPACK; the transposed ones run a scalar loop (5-8x slower). */
function batchMatMul({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { transposeA, transposeB } = attrs as { transposeA?: boolean; transposeB?: boolean };
  if (!transposeA && !transposeB) return runOriginal('BatchMatMul', backend, inputs, attrs);
  const swapLast = (t: TensorInfo): TensorInfo => {
    const r = t.shape.length;
    const perm = t.shape.map((_, i) => (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i));
    return transpose(backend, t, perm);
  };
  const a = transposeA ? swapLast(inputs.a) : null;
  const b = transposeB ? swapLast(inputs.b) : null;
  const out = runOriginal('BatchMatMul', backend, { a: a ?? inputs.a, b: b ?? inputs.b }, { ...attrs, transposeA: false, transposeB: false });
  dispose(backend, a, b);
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
  const best = new Float32Array(c);
  const where = new Int32Array(c);
  for (let b = 0; b < n; b++) {
    const xb = b * H * W * c;
    for (let r = 0; r < oh; r++) {
      const h0 = r * sh - pt;
      for (let q = 0; q < ow; q++) {
        const w0 = q * sw - pl;
        best.fill(-Infinity);
        where.fill(-1);
        for (let i = Math.max(h0, 0); i < Math.min(h0 + fh, H); i++) {
          for (let j = Math.max(w0, 0); j < Math.min(w0 + fw, W); j++) {
            const base = xb + (i * W + j) * c;
            for (let k = 0; k < c; k++) {
              const v = xv[base + k];
              if (v > best[k]) {
                best[k] = v;
                where[k] = base + k;
              }
            }
          }
        }
        const gBase = ((b * oh + r) * ow + q) * c;
        for (let k = 0; k < c; k++) if (where[k] >= 0) dx[where[k]] += g[gBase + k];
      }
    }
  }
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
// Registration

const OVERRIDES: Record<string, (args: KernelArgs) => TensorInfo> = {
  Conv2DBackpropFilter: conv2DBackpropFilter,
  Conv2DBackpropInput: conv2DBackpropInput,
  BatchMatMul: batchMatMul,
  MaxPoolGrad: maxPoolGrad,
  Identity: identity,
  Cast: cast,
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
