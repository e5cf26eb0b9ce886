/**
 * The wasm training kernels (src/engine/kernels/, one file per section below) against the cpu backend,
 * on seeded random inputs.
 * Run: node --import tsx --test test/engine-kernels.test.ts
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../src/engine/kernels';
import { registerTrainingGradients } from '../src/engine/gradients';
import { Rng } from '../src/util/random';

type Backend = 'cpu' | 'wasm';
interface Spec {
  shape: number[];
  data: Float32Array | Int32Array;
  dtype?: tf.DataType;
}

// Before the wasm backend initializes, so that the stock setupFuncs run for the overridden kernels.
registerWasmTrainingKernels();
registerTrainingGradients();
// IS_TEST makes the engine check every kernel call for leaked data ids: on for the kernel-level tests.
tf.env().set('IS_TEST', true);

const rng = new Rng(1234);

function rand(shape: number[], levels = 0): Spec {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    data[i] = levels > 0 ? rng.int(levels) : rng.next() * 2 - 1;
  }
  return { shape, data };
}

/** Small integers: sums of them are exact in float32 whatever the order. */
function randInt(shape: number[], lo: number, hi: number): Spec {
  const s = rand(shape);
  for (let i = 0; i < s.data.length; i++) s.data[i] = lo + rng.int(hi - lo + 1);
  return s;
}

function toTensor(s: Spec): tf.Tensor {
  return tf.tensor(s.data, s.shape, s.dtype ?? 'float32');
}

/** Run fn on a backend with fresh tensors made from the specs; returns every output as a plain array. */
async function on(backend: Backend, specs: Spec[], fn: (...ts: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const ins = specs.map(toTensor);
  const outs = tf.tidy(() => {
    const r = fn(...ins);
    return Array.isArray(r) ? r : [r];
  });
  const vals = outs.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose([...ins, ...outs]);
  return vals;
}

/** max |a-b| / max(|b|, 1e-6) over all elements: a relative error insensitive to near-zero entries. */
function relDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, 'length mismatch');
  let d = 0;
  let m = 1e-6;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return Number.isNaN(d) ? Infinity : d / m;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, 'length mismatch');
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

async function compare(specs: Spec[], fn: (...ts: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<number[]> {
  const ref = await on('cpu', specs, fn);
  const got = await on('wasm', specs, fn);
  return got.map((g, i) => relDiff(g, ref[i]));
}

function runKernel(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): tf.Tensor {
  return tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;
}

function wasmBackend(): { numDataIds(): number } {
  return tf.engine().findBackend('wasm') as unknown as { numDataIds(): number };
}

const worst: Record<string, number> = {};
function record(name: string, d: number): void {
  worst[name] = Math.max(worst[name] ?? 0, d);
}

test.before(async () => {
  assert.ok(await tf.setBackend('wasm'), 'wasm backend must initialize');
});

test.after(() => {
  console.log('worst relative diffs (wasm vs cpu):', JSON.stringify(worst));
});

// ---------------------------------------------------------------------------------------------------
// Convolutions

type Pad4 = [[number, number], [number, number], [number, number], [number, number]];
interface ConvCase {
  x: [number, number, number, number];
  k: [number, number];
  co: number;
  s: number | [number, number];
  pad: 'same' | 'valid' | Pad4;
}

const CONV_CASES: ConvCase[] = [
  { x: [2, 7, 10, 3], k: [3, 3], co: 4, s: 1, pad: 'same' },
  { x: [2, 7, 10, 3], k: [3, 3], co: 4, s: 2, pad: 'same' },
  { x: [2, 7, 10, 3], k: [3, 3], co: 4, s: 2, pad: 'valid' },
  { x: [3, 9, 9, 2], k: [5, 5], co: 3, s: 1, pad: 'valid' },
  { x: [3, 9, 9, 2], k: [5, 5], co: 3, s: 3, pad: 'same' },
  { x: [3, 9, 9, 2], k: [5, 5], co: 3, s: 3, pad: 'valid' },
  { x: [2, 11, 13, 4], k: [1, 1], co: 5, s: 1, pad: 'valid' },
  { x: [2, 11, 13, 4], k: [1, 1], co: 5, s: 2, pad: 'same' },
  { x: [2, 11, 13, 4], k: [3, 2], co: 5, s: [2, 1], pad: 'same' },
  { x: [2, 11, 13, 4], k: [4, 2], co: 3, s: 2, pad: 'valid' },
  { x: [2, 11, 13, 4], k: [4, 2], co: 3, s: [1, 3], pad: 'same' },
  { x: [2, 11, 13, 3], k: [3, 3], co: 2, s: 1, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { x: [2, 11, 13, 3], k: [3, 3], co: 2, s: 2, pad: [[0, 0], [2, 0], [1, 1], [0, 0]] },
  { x: [2, 11, 13, 3], k: [3, 3], co: 2, s: 1, pad: [[0, 0], [3, 0], [0, 4], [0, 0]] },
  { x: [2, 11, 13, 3], k: [2, 2], co: 2, s: 3, pad: 'valid' },
  { x: [2, 11, 13, 3], k: [2, 3], co: 2, s: 3, pad: 'same' },
  { x: [2, 11, 13, 3], k: [1, 1], co: 2, s: 2, pad: 'valid' },
  { x: [2, 10, 9, 3], k: [3, 3], co: 2, s: 2, pad: [[0, 0], [4, 3], [0, 0], [0, 0]] },
  { x: [4, 16, 16, 8], k: [3, 3], co: 8, s: 2, pad: 'same' },
  { x: [4, 16, 16, 8], k: [1, 1], co: 8, s: 2, pad: 'same' },
  { x: [4, 28, 28, 1], k: [5, 5], co: 6, s: 1, pad: 'valid' },
  { x: [1, 8, 8, 3], k: [3, 3], co: 2, s: 1, pad: 'same' },
  { x: [2, 12, 12, 20], k: [5, 5], co: 50, s: 1, pad: 'valid' }, // LeNet-5's conv2: Conv2DBackpropInput by GEMM + col2im, 4 channels per SIMD lane group
];

function convOutShape(c: ConvCase): number[] {
  const info = tf.backend_util.computeConv2DInfo(c.x, [c.k[0], c.k[1], c.x[3], c.co], c.s, 1, c.pad);
  return info.outShape;
}

function caseName(c: ConvCase): string {
  return `x=${c.x.join('x')} k=${c.k.join('x')} co=${c.co} s=${c.s} pad=${JSON.stringify(c.pad)}`;
}

/** Each case also with 6 input / 32 output channels: the kernels pick other code paths by channel counts. */
function withChannels(c: ConvCase, ci: number, co: number): ConvCase {
  return { ...c, x: [c.x[0], c.x[1], c.x[2], ci], co };
}
const ALL_CONV_CASES = [...CONV_CASES, ...CONV_CASES.map((c) => withChannels(c, 6, 32))];

test('Conv2DBackpropFilter matches cpu (odd shapes, strides 1/2/3, same/valid/explicit, kernels 1/3/5/3x2/4x2)', async () => {
  for (const c of ALL_CONV_CASES) {
    const filterShape = [c.k[0], c.k[1], c.x[3], c.co];
    const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape };
    const [d] = await compare([rand(c.x), rand(convOutShape(c))], (x, dy) => runKernel('Conv2DBackpropFilter', { x, dy }, attrs));
    record('Conv2DBackpropFilter', d);
    assert.ok(d < 1e-4, `${caseName(c)}: rel diff ${d}`);
  }
});

test('Conv2DBackpropInput matches cpu', async () => {
  for (const c of ALL_CONV_CASES) {
    const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: c.x };
    const [d] = await compare([rand(convOutShape(c)), rand([c.k[0], c.k[1], c.x[3], c.co])],
      (dy, filter) => runKernel('Conv2DBackpropInput', { dy, filter }, attrs));
    record('Conv2DBackpropInput', d);
    assert.ok(d < 1e-4, `${caseName(c)}: rel diff ${d}`);
  }
});

test('conv2d gradients through tf.grads (plain and fused with bias+relu) match cpu', async () => {
  for (const c of CONV_CASES.slice(0, 8)) {
    const w = rand([c.k[0], c.k[1], c.x[3], c.co]);
    const r = rand(convOutShape(c));
    const bias = rand([c.co]);
    const diffs = await compare([rand(c.x), w, r, bias], (x, f, rr, b) => {
      const plain = tf.grads((xx: tf.Tensor, ff: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, c.s, c.pad as 'same'), rr)));
      const fused = tf.grads((xx: tf.Tensor, ff: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(tf.fused.conv2d({
        x: xx as tf.Tensor4D, filter: ff as tf.Tensor4D, strides: c.s, pad: c.pad as 'same', bias: bb, activation: 'relu',
      }), rr)));
      return [...plain([x, f]), ...fused([x, f, b])];
    });
    for (const d of diffs) {
      record('conv2d grads', d);
      assert.ok(d < 1e-4, `${caseName(c)}: rel diffs ${diffs}`);
    }
  }
});

test('unsupported conv attributes throw instead of computing wrong values', async () => {
  await tf.setBackend('wasm');
  const x = tf.zeros([1, 5, 5, 2]);
  const dy = tf.zeros([1, 2, 5, 5]);
  assert.throws(() => runKernel('Conv2DBackpropFilter', { x: tf.zeros([1, 2, 5, 5]), dy },
    { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 2] }), /dataFormat/);
  assert.throws(() => runKernel('Conv2DBackpropInput', { dy: tf.zeros([1, 5, 5, 2]), filter: tf.zeros([3, 3, 2, 2]) },
    { strides: 1, pad: 'same', dataFormat: 'NCHW', inputShape: [1, 2, 5, 5] }), /dataFormat/);
  assert.throws(() => runKernel('Conv2DBackpropFilter', { x, dy: tf.zeros([1, 5, 5, 2]) },
    { strides: 1, dilations: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 2, 2] }), /dilations/);
  tf.disposeVariables();
});

// ---------------------------------------------------------------------------------------------------
// MaxPoolGrad

interface PoolCase {
  x: number[];
  f: number | [number, number];
  s: number | [number, number];
  pad: 'same' | 'valid';
}

const POOL_CASES: PoolCase[] = [
  { x: [2, 8, 8, 3], f: 2, s: 2, pad: 'valid' },
  { x: [2, 7, 10, 3], f: 2, s: 2, pad: 'same' },
  { x: [2, 7, 10, 3], f: 3, s: 2, pad: 'same' },
  { x: [2, 9, 9, 2], f: 3, s: 1, pad: 'same' },
  { x: [2, 9, 9, 2], f: 3, s: 2, pad: 'valid' },
  { x: [1, 11, 13, 4], f: [3, 2], s: [2, 1], pad: 'same' },
  { x: [1, 11, 13, 4], f: 5, s: 3, pad: 'same' },
];

test('MaxPoolGrad matches cpu exactly (first max wins on ties), overlapping windows and SAME padding', async () => {
  for (const c of POOL_CASES) {
    for (const levels of [0, 2, 4]) {
      const out = tf.backend_util.computePool2DInfo(c.x as [number, number, number, number], c.f, c.s, 1, c.pad).outShape;
      // Integer dy: overlapping windows sum several dy values, exactly in any order.
      const [d] = await compare([rand(c.x, levels), randInt(out, -8, 8)], (x, r) =>
        tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(xx as tf.Tensor4D, c.f, c.s, c.pad), r)))(x));
      record('MaxPoolGrad', d);
      assert.equal(d, 0, `${JSON.stringify(c)} levels=${levels}: diff ${d}`);
    }
  }
});

test('AvgPoolGrad matches cpu (non-overlapping fast path and stock fallbacks)', async () => {
  for (const c of POOL_CASES.concat([{ x: [2, 9, 11, 40], f: 2, s: 2, pad: 'valid' }, { x: [3, 8, 12, 5], f: [2, 3], s: [2, 3], pad: 'same' }])) {
    const out = tf.backend_util.computePool2DInfo(c.x as [number, number, number, number], c.f, c.s, 1, c.pad).outShape;
    const [d] = await compare([rand(c.x), rand(out)], (x, r) =>
      tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(xx as tf.Tensor4D, c.f, c.s, c.pad), r)))(x));
    record('AvgPoolGrad', d);
    assert.ok(d < 1e-6, `${JSON.stringify(c)}: ${d}`);
  }
});

test('MaxPoolGrad sends the gradient to the first maximum on ties (example in docs/engine.md)', async () => {
  const x: Spec = { shape: [1, 2, 4, 1], data: Float32Array.from([1, 1, 2, 2, 1, 1, 2, 2]) };
  const dy: Spec = { shape: [1, 1, 2, 1], data: Float32Array.from([10, 100]) };
  const fn = (xx: tf.Tensor, r: tf.Tensor): tf.Tensor =>
    tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid'), r)))(xx);
  const [wasm] = await on('wasm', [x, dy], fn);
  assert.deepEqual(Array.from(wasm), [10, 0, 100, 0, 0, 0, 0, 0]);
});

// ---------------------------------------------------------------------------------------------------
// BatchMatMul

test('matMul in all four transpose combinations matches cpu (2-D and batched 3-D)', async () => {
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
    for (const batch of [[], [3]]) {
      const a = rand([...batch, ...(ta ? [13, 7] : [7, 13])]);
      const b = rand([...batch, ...(tb ? [5, 13] : [13, 5])]);
      const [d] = await compare([a, b], (x, y) => tf.matMul(x, y, ta, tb));
      record('BatchMatMul', d);
      assert.ok(d < 1e-5, `transposeA=${ta} transposeB=${tb} batch=${batch}: ${d}`);
    }
  }
  // a b^T with a much smaller than b (computed as (b a^T)^T), with and without broadcast batch dims.
  for (const [sa, sb] of [[[3, 40], [50, 40]], [[2, 3, 40], [1, 50, 40]], [[2, 3, 40], [2, 50, 40]]]) {
    const [d] = await compare([rand(sa), rand(sb)], (x, y) => tf.matMul(x, y, false, true));
    record('BatchMatMul', d);
    assert.ok(d < 1e-5, `${sa} x ${sb}^T: ${d}`);
  }
  const [d] = await compare([rand([16, 40]), rand([40, 24]), rand([16, 24])], (x, w, r) =>
    tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(tf.matMul(xx as tf.Tensor2D, ww as tf.Tensor2D), r)))([x, w]));
  assert.ok(d < 1e-5, `dense gradient: ${d}`);
});

// ---------------------------------------------------------------------------------------------------
// Identity, Cast

test('Identity and same-dtype Cast share the buffer; other casts still convert', async () => {
  await tf.setBackend('wasm');
  const be = wasmBackend();
  const x = tf.tensor([1.5, -2, 3], [3]);
  const before = be.numDataIds();
  const y = tf.clone(x);
  const z = tf.cast(x, 'float32');
  assert.equal(be.numDataIds(), before, 'no new buffers');
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1.5, -2, 3]);
  y.dispose();
  assert.deepEqual(Array.from(z.dataSync()), [1.5, -2, 3]);
  const i = tf.cast(z, 'int32');
  assert.equal(i.dtype, 'int32');
  assert.deepEqual(Array.from(i.dataSync()), [1, -2, 3]);
  const b = tf.cast(z, 'bool');
  assert.deepEqual(Array.from(b.dataSync()), [1, 1, 1]);
  const zf = tf.tensor([0, -2, NaN, 0.5]);
  const zb = tf.cast(zf, 'bool');
  assert.deepEqual(Array.from(zb.dataSync()), [0, 1, 1, 1]);
  tf.dispose([zf, zb]);
  tf.dispose([z, i, b]);
  assert.equal(be.numDataIds(), before - 1, 'all freed');
});

// ---------------------------------------------------------------------------------------------------
// Sum, Mean

test('Sum and Mean over spatial / leading axes match cpu (and other axes still work)', async () => {
  const cases: [number[], number[]][] = [
    [[3, 5, 7, 4], [1, 2]], [[3, 5, 7, 4], [0, 1, 2]], [[3, 5, 7, 4], [2, 1]], [[3, 5, 7, 4], [-3, -2]],
    [[3, 5, 7, 4], [0]], [[3, 5, 7, 4], [3]], [[3, 5, 7, 4], [0, 3]], [[128, 50], [0]], [[6, 32, 32, 16], [0, 1, 2]],
    [[2, 3, 4, 5], [1, 2]], [[2, 3, 4], [0, 1]], [[1, 1, 1, 3], [0, 1, 2]],
  ];
  for (const [shape, axes] of cases) {
    for (const keepDims of [false, true]) {
      const diffs = await compare([rand(shape)], (x) => [tf.sum(x, axes, keepDims), tf.mean(x, axes, keepDims)]);
      const shapes = await on('wasm', [rand(shape)], (x) => tf.sum(x, axes, keepDims));
      for (const d of diffs) {
        record('Sum/Mean', d);
        assert.ok(d < 1e-5, `${shape} axes=${axes} keepDims=${keepDims}: ${diffs}`);
      }
      assert.ok(shapes.length === 1);
    }
  }
  // Shapes and int dtype (delegated to the stock kernel).
  await tf.setBackend('wasm');
  const x = tf.ones([2, 3, 4, 5]);
  assert.deepEqual(tf.sum(x, [1, 2], true).shape, [2, 1, 1, 5]);
  assert.deepEqual(tf.mean(x, [0, 1, 2]).shape, [5]);
  const xi = tf.tensor([1, 2, 3, 4, 5, 6], [2, 3], 'int32');
  const si = tf.sum(xi, 0);
  assert.equal(si.dtype, 'int32');
  assert.deepEqual(Array.from(si.dataSync()), [5, 7, 9]);
  tf.dispose([x, xi, si]);
});

// ---------------------------------------------------------------------------------------------------
// Per-channel affine maps (depthwise 1x1): Multiply/Add/Sub with a channel vector, FusedBatchNorm

test('multiply/add/sub with a per-channel vector match cpu exactly (both operand orders, ranks 2-4)', async () => {
  const cases: [number[], number[]][] = [
    [[4, 16, 16, 64], [64]], [[4, 16, 16, 64], [1, 1, 1, 64]], [[2, 32, 32, 16], [1, 16]], [[512, 40], [40]], [[512, 40], [1, 40]],
    [[2, 8, 8, 4], [4]], // below the size threshold: stock kernels
  ];
  for (const [big, small] of cases) {
    const diffs = await compare([rand(big), rand(small)], (x, c) => [
      tf.mul(x, c), tf.mul(c, x), tf.add(x, c), tf.add(c, x), tf.sub(x, c), tf.sub(c, x),
    ]);
    diffs.forEach((d, i) => assert.equal(d, 0, `${big} with ${small}: output ${i} diff ${d}`));
  }
});

test('FusedBatchNorm matches cpu (with and without scale/offset, [C] and [1,1,1,C] statistics)', async () => {
  for (const [shape, stat] of [[[4, 16, 16, 64], [64]], [[8, 32, 32, 16], [1, 1, 1, 16]], [[2, 4, 4, 8], [8]]] as [number[], number[]][]) {
    const variance = rand(stat);
    variance.data.forEach((v, i) => { variance.data[i] = Math.abs(v) + 0.1; });
    const mean = rand(stat);
    mean.data.forEach((v, i) => { mean.data[i] = v * 20; }); // |mean| >> std: the centering pass must not lose digits
    const x = rand(shape);
    x.data.forEach((v, i) => { x.data[i] = v + mean.data[i % mean.data.length]; });
    const diffs = await compare([x, mean, variance, rand(stat), rand(stat)], (xx, m, v, off, sc) => [
      tf.batchNorm(xx, m, v, off, sc, 1e-3), tf.batchNorm(xx, m, v, undefined, undefined, 1e-5), tf.batchNorm(xx, m, v, off, undefined, 0.01),
    ]);
    for (const d of diffs) {
      record('FusedBatchNorm', d);
      assert.ok(d < 1e-5, `${shape} ${stat}: ${diffs}`);
    }
  }
});

// ---------------------------------------------------------------------------------------------------
// Slice, StridedSlice, SplitV, Concat

test('slice, stridedSlice, split, concat and high-rank pad match cpu (all axes, int32 and bool too)', async () => {
  const shape = [3, 5, 7, 4];
  const slices: [number[], number[]][] = [
    [[0, 0, 0, 1], [3, 5, 7, 2]], [[1, 0, 0, 0], [2, 5, 7, 4]], [[0, 2, 3, 0], [3, 2, 4, 4]],
    [[1, 1, 1, 1], [1, 3, 5, 3]], [[0, 0, 0, 0], [3, 5, 7, 4]], [[2, 4, 6, 3], [1, 1, 1, 1]], [[0, 0, 2, 0], [3, 5, 5, 4]],
  ];
  for (const dtype of ['float32', 'int32', 'bool'] as tf.DataType[]) {
    const x: Spec = { ...rand(shape, 3), dtype };
    const diffs = await compare([x], (t) => [
      ...slices.map(([b, sz]) => tf.slice(t, b, sz)),
      tf.stridedSlice(t, [0, 1, 0, 0], [3, 4, 7, 4], [1, 1, 1, 1]),
      tf.stridedSlice(t, [0, 0, 0, 0], [3, 5, 7, 4], [1, 2, 2, 1]),
      tf.stridedSlice(t, [1, 0, 0, 2], [2, 5, 7, 3], [1, 1, 1, 1], 0, 0, 0, 0, 9),
      tf.stridedSlice(t, [2, 4, 6, 3], [0, 0, 0, 0], [-1, -2, -1, -3], 0, 0),
      tf.stridedSlice(t, [0, 1, 1, 0], [3, 5, 7, 4], [2, 3, 2, 2]),
      tf.stridedSlice(t, [0, 0, 0], [0, 0, 0], [1, -1, 1], 0, 7, 0, 2),
      ...tf.split(t, [1, 3], 3), ...tf.split(t, [2, 3, 2], 2), ...tf.split(t, 3, 0),
      tf.concat([t, t], 3), tf.concat([t, t, t], 1), tf.concat([t, tf.slice(t, [0, 0, 0, 0], [1, 5, 7, 4])], 0),
      tf.concat([t, tf.slice(t, [0, 0, 0, 0], [3, 5, 7, 0])], 3),
    ]);
    diffs.forEach((d, i) => assert.equal(d, 0, `${dtype} output ${i}`));
  }
  // Pads of rank 7 and 8 (XNNPACK stops at 6): with foldable unpadded axes, and without.
  const [p7, p8] = await compare([rand([2, 1, 3, 2, 2, 1, 2]), rand([2, 2, 2, 2, 2, 2, 2, 2])], (a, b) => [
    tf.pad(a, [[1, 0], [0, 0], [0, 2], [0, 0], [1, 1], [0, 0], [0, 1]], 3),
    tf.pad(b, [[1, 0], [0, 1], [1, 0], [0, 1], [1, 0], [0, 1], [1, 0], [0, 1]]),
  ]);
  assert.equal(p7 + p8, 0);
  // Gradients through concat (SplitV) and slice (Pad), as in DenseNet.
  const [d1, d2] = await compare([rand([2, 4, 4, 3]), rand([2, 4, 4, 5]), rand([2, 4, 4, 8])], (a, b, r) =>
    tf.grads((aa: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(tf.concat([aa, bb], 3), r)))([a, b]));
  assert.equal(d1 + d2, 0);
});

// ---------------------------------------------------------------------------------------------------
// Whole model

function smallModel(): tf.LayersModel {
  const input = tf.input({ shape: [16, 16, 3] });
  let h = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', useBias: false }).apply(input) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
  h = tf.layers.activation({ activation: 'relu' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
  const a = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }).apply(h) as tf.SymbolicTensor;
  const b = tf.layers.conv2d({ filters: 4, kernelSize: 1, strides: 2 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
  h = tf.layers.averagePooling2d({ poolSize: 3 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  h = tf.layers.dense({ units: 16, activation: 'relu' }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 5 }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

function lossOf(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
}

test('whole-model variableGrads (conv+BN+maxpool+concat+avgpool+dense, training mode, 32x16x16x3) match cpu', async () => {
  // tfjs-core's own softmaxCrossEntropy trips the per-kernel leak check; the step test below counts ids instead.
  tf.env().set('IS_TEST', false);
  const xs = rand([32, 16, 16, 3]);
  const labels = new Float32Array(32 * 5);
  for (let i = 0; i < 32; i++) labels[i * 5 + rng.int(5)] = 1;
  const ys: Spec = { shape: [32, 5], data: labels };

  await tf.setBackend('cpu');
  const cpuModel = smallModel();
  const weights = cpuModel.getWeights().map((w) => ({ shape: w.shape, data: Float32Array.from(w.dataSync()) }));
  const grads = async (backend: Backend, model: tf.LayersModel): Promise<Float32Array[]> =>
    on(backend, [xs, ys], (x, y) => {
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const { value, grads: g } = tf.variableGrads(() => lossOf(model, x, y), vars);
      return [value, ...vars.map((v) => g[v.name])];
    });
  const ref = await grads('cpu', cpuModel);

  await tf.setBackend('wasm');
  const wasmModel = smallModel();
  wasmModel.setWeights(weights.map((w) => tf.tensor(w.data, w.shape)));
  const got = await grads('wasm', wasmModel);
  assert.equal(got.length, ref.length);
  // A conv bias followed by BN has a zero true gradient (BN removes the mean): there both sides hold
  // rounding noise (~1e-9), so each tensor's diff is scaled by at least 1% of the largest gradient.
  const scale = Math.max(...ref.slice(1).map((r) => Math.max(...r.map(Math.abs))));
  for (let i = 0; i < got.length; i++) {
    const d = maxAbsDiff(got[i], ref[i]) / Math.max(...ref[i].map(Math.abs), 1e-2 * scale);
    record('model variableGrads', d);
    assert.ok(d < 1e-4, `tensor ${i} (${i === 0 ? 'loss' : wasmModel.trainableWeights[i - 1].name}): ${d}`);
  }
  tf.dispose([cpuModel.weights.map((w) => w.read()), wasmModel.weights.map((w) => w.read())].flat());
});

test('5 training steps on wasm leak neither tensors nor wasm data ids', async () => {
  await tf.setBackend('wasm');
  const model = smallModel();
  const opt = tf.train.adam(1e-3);
  const x = toTensor(rand([32, 16, 16, 3]));
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % 5), 'int32'), 5).toFloat();
  const step = (): number => {
    const loss = opt.minimize(() => lossOf(model, x, y), true) as tf.Scalar;
    const v = loss.dataSync()[0];
    loss.dispose();
    return v;
  };
  step(); // the first step creates Adam's slots
  const tensors = tf.memory().numTensors;
  const ids = wasmBackend().numDataIds();
  const losses: number[] = [];
  for (let i = 0; i < 5; i++) losses.push(step());
  assert.equal(tf.memory().numTensors, tensors, 'engine tensors');
  assert.equal(wasmBackend().numDataIds(), ids, 'wasm data ids');
  assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
  assert.ok(losses[4] < losses[0], `loss decreases on a fixed batch: ${losses}`);
  opt.dispose();
  tf.dispose([x, y]);
});

test('maxAbsDiff helper sanity', () => {
  assert.equal(maxAbsDiff(Float32Array.from([1, 2]), Float32Array.from([1, 2.5])), 0.5);
});
