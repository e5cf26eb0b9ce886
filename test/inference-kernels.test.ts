/**
 * The inference engine's kernels against tfjs (cpu backend) on the same quantized weights: layer lists built
 * by hand (random codes, levels and scales; odd shapes, 'same' and 'valid' padding, strides, channel counts
 * that are not multiples of 8 or 32, batch 1 and batch > 1). Binary × binary (XNOR-popcount) must be exact;
 * float-input kernels within float rounding. Plus hand-computed values.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { loadInferenceEngine, type CodedKernel, type CompileOptions, type LayerIR, type ModelIR } from '../src/inference';
import { Rng } from '../src/util/random';

test.before(async () => {
  await tf.setBackend('cpu');
});

type Kind = 'binary' | 'ternary' | 'm2' | 'm3' | 'm4' | 'float32';

/** A kernel [KH, KW, C, O] of random codes of `kind` (with per-channel scales for binary / ternary). */
function randomKernel(rng: Rng, shape: [number, number, number, number], kind: Kind, scaled = true): CodedKernel {
  const n = shape.reduce((a, b) => a * b, 1);
  const O = shape[3];
  const count = { binary: 2, ternary: 3, m2: 2, m3: 3, m4: 4, float32: 0 }[kind];
  const levels = kind === 'binary' ? Float32Array.of(-1, 1)
    : kind === 'ternary' ? Float32Array.of(0, 1, -1, 0)
      : kind === 'm2' ? Float32Array.of(-0.31, 0.72)
        : kind === 'm3' ? Float32Array.of(-0.43, 0.02, 0.57, 0)
          : kind === 'm4' ? Float32Array.of(-0.61, -0.12, 0.2, 0.9) : null;
  const channelScale = (kind === 'binary' || kind === 'ternary') && scaled ? Float32Array.from({ length: O }, () => 0.2 + rng.next()) : null;
  const codes = kind === 'float32' ? null : Uint16Array.from({ length: n }, () => rng.int(count));
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    values[i] = codes ? (levels as Float32Array)[codes[i]] * (channelScale ? channelScale[i % O] : 1) : (rng.next() - 0.5) * 0.6;
  }
  const bits = kind === 'float32' ? 0 : count <= 2 ? 1 : 2;
  return {
    shape, bits: bits as 0 | 1 | 2, codes, levels, channelScale, values, signBinary: kind === 'binary', codebook: kind === 'float32' ? 'float32' : 'levels', count,
  };
}

function randomVector(rng: Rng, n: number, lo: number, hi: number): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.next());
}

/** The layer list evaluated with tfjs ops on the decoded values (the reference). */
function reference(ir: ModelIR, x: tf.Tensor4D): tf.Tensor {
  return tf.tidy(() => {
    let h: tf.Tensor = x;
    let flat = false;
    for (const l of ir.layers) {
      if (l.op === 'conv') {
        const k = l.kernel;
        if (l.dense) {
          const [KH, KW, C, O] = k.shape;
          const n = h.shape[0];
          const perPixel = !flat && h.rank === 4;
          const in2 = perPixel ? tf.reshape(h, [-1, C]) : tf.reshape(h, [n, -1]);
          let y: tf.Tensor = tf.matMul(in2 as tf.Tensor2D, tf.tensor2d(k.values, [KH * KW * C, O]));
          if (perPixel) y = tf.reshape(y, [n, h.shape[1] as number, h.shape[2] as number, O]);
          h = y;
        } else {
          h = tf.conv2d(h as tf.Tensor4D, tf.tensor4d(k.values, k.shape), l.strides, l.padding);
        }
        if (l.bias) h = tf.add(h, tf.tensor1d(l.bias));
        flat = false;
      } else if (l.op === 'affine') {
        h = tf.add(tf.mul(h, tf.tensor1d(l.scale)), tf.tensor1d(l.shift));
      } else if (l.op === 'relu') {
        h = tf.relu(h);
      } else if (l.op === 'sign') {
        h = tf.where(tf.greater(h, 0), tf.onesLike(h), tf.mul(tf.onesLike(h), -1));
      } else if (l.op === 'maxpool') {
        h = tf.maxPool(h as tf.Tensor4D, l.pool, l.strides, l.padding);
      } else if (l.op === 'flatten') {
        flat = true;
      }
    }
    return flat ? tf.reshape(h, [h.shape[0], -1]) : h;
  });
}

function run(ir: ModelIR, x: tf.Tensor4D, opts: CompileOptions = {}): { y: Float32Array; kernels: string[] } {
  const net = loadInferenceEngine().compile(ir, opts);
  const y = net.predict(x.dataSync() as Float32Array, x.shape[0]);
  return { y, kernels: net.describe().map((s) => s.kernel) };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'output lengths');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

interface ConvCase {
  N: number; H: number; W: number; C: number; KH: number; KW: number; O: number;
  strides: [number, number]; padding: 'same' | 'valid';
}

const CONV_CASES: ConvCase[] = [
  { N: 1, H: 7, W: 9, C: 3, KH: 3, KW: 2, O: 5, strides: [2, 1], padding: 'same' },
  { N: 3, H: 6, W: 5, C: 37, KH: 3, KW: 3, O: 13, strides: [1, 1], padding: 'valid' },
  { N: 2, H: 5, W: 5, C: 1, KH: 5, KW: 5, O: 8, strides: [1, 1], padding: 'same' },
  { N: 2, H: 8, W: 7, C: 33, KH: 1, KW: 1, O: 17, strides: [2, 3], padding: 'valid' },
  { N: 3, H: 9, W: 6, C: 2, KH: 4, KW: 3, O: 9, strides: [2, 2], padding: 'same' },
  // one input channel (convC1): rows that are not a multiple of 8 pixels, O not a multiple of 4, vertical stride
  { N: 2, H: 13, W: 11, C: 1, KH: 5, KW: 5, O: 6, strides: [1, 1], padding: 'valid' },
  { N: 1, H: 10, W: 19, C: 1, KH: 3, KW: 4, O: 17, strides: [2, 1], padding: 'same' },
  { N: 3, H: 4, W: 3, C: 1, KH: 2, KW: 2, O: 3, strides: [1, 1], padding: 'same' },
];

/** One input channel and horizontal stride 1: the pixels-in-lanes kernel, for codes and float32 alike. */
const isC1 = (c: ConvCase) => c.C === 1 && c.strides[1] === 1;

const EXPECTED_KERNEL: Record<Kind, Record<'lut' | 'grouped', string>> = {
  binary: { lut: 'convLut1', grouped: 'convSum1' },
  m2: { lut: 'convLut1', grouped: 'convSum1' },
  ternary: { lut: 'convLut2', grouped: 'convSum2' },
  m3: { lut: 'convLut2', grouped: 'convSum2' },
  m4: { lut: 'convLut2', grouped: 'convSum2' },
  float32: { lut: 'convF32', grouped: 'convF32' },
};

test('float-input convolutions (binary, ternary, M = 2, 3, 4 levels, float32) match tfjs within float rounding', () => {
  const rng = new Rng(41);
  for (const kind of ['binary', 'ternary', 'm2', 'm3', 'm4', 'float32'] as Kind[]) {
    CONV_CASES.forEach((c, ci) => {
      for (const epilogue of [false, true]) {
        const kernel = randomKernel(rng, [c.KH, c.KW, c.C, c.O], kind);
        const layers: LayerIR[] = [{ op: 'conv', name: 'conv', kernel, bias: epilogue ? randomVector(rng, c.O, -0.5, 0.5) : null, strides: c.strides, padding: c.padding, dense: false }];
        if (epilogue) {
          layers.push({ op: 'affine', name: 'bn', scale: randomVector(rng, c.O, -1.5, 1.5), shift: randomVector(rng, c.O, -0.3, 0.3) });
          layers.push({ op: 'relu', name: 'relu' });
        }
        const ir: ModelIR = { inputShape: [c.H, c.W, c.C], layers };
        const x = tf.tensor4d(randomVector(rng, c.N * c.H * c.W * c.C, -1, 1), [c.N, c.H, c.W, c.C]);
        const ref = reference(ir, x);
        const refData = ref.dataSync();
        // The largest possible |sum| (every |x| ≤ 1), times a few float32 epsilons per term.
        const maxW = Math.max(...Array.from(kernel.values, Math.abs));
        const tol = 1e-6 * c.KH * c.KW * c.C * maxW * (epilogue ? 1.5 : 1) + 1e-6;
        for (const strategy of ['lut', 'grouped'] as const) {
          const { y, kernels } = run(ir, x, { strategy });
          const expected = isC1(c) && (strategy === 'lut' || kind === 'float32') ? 'convC1' : EXPECTED_KERNEL[kind][strategy];
          assert.deepEqual(kernels, [expected], `${kind} case ${ci} ${strategy}`);
          const d = maxAbsDiff(y, refData);
          assert.ok(d <= tol, `${kind} case ${ci} epilogue ${epilogue} ${strategy}: max |diff| ${d} > ${tol}`);
        }
        const f = run(ir, x, { kernels: 'float32' });
        assert.deepEqual(f.kernels, [isC1(c) ? 'convC1' : 'convF32']);
        assert.ok(maxAbsDiff(f.y, refData) <= tol, `${kind} case ${ci} float32 control`);
        assert.deepEqual(ref.shape, [c.N, ...(ref.shape.slice(1) as number[])]);
        tf.dispose([x, ref]);
      }
    });
  }
});

test('binary weights × binary activations (XNOR-popcount) equal tfjs exactly, padding, strides and odd channel counts included', () => {
  const rng = new Rng(42);
  const cases: ConvCase[] = [
    { N: 1, H: 6, W: 7, C: 1, KH: 3, KW: 3, O: 4, strides: [1, 1], padding: 'same' },
    { N: 3, H: 10, W: 10, C: 16, KH: 5, KW: 5, O: 32, strides: [1, 1], padding: 'valid' },
    { N: 2, H: 7, W: 5, C: 33, KH: 3, KW: 2, O: 7, strides: [2, 1], padding: 'same' },
    { N: 3, H: 5, W: 6, C: 70, KH: 2, KW: 3, O: 9, strides: [2, 2], padding: 'valid' },
    { N: 1, H: 9, W: 8, C: 32, KH: 4, KW: 4, O: 3, strides: [3, 2], padding: 'same' },
    { N: 2, H: 4, W: 4, C: 64, KH: 3, KW: 3, O: 5, strides: [1, 1], padding: 'same' },
    // byte-aligned taps of 1, 3 and 5 bytes (interior pixels copy bytes; border pixels take the masked path)
    { N: 2, H: 6, W: 5, C: 8, KH: 3, KW: 3, O: 33, strides: [1, 1], padding: 'same' },
    { N: 1, H: 7, W: 7, C: 24, KH: 5, KW: 5, O: 6, strides: [1, 1], padding: 'same' },
    { N: 2, H: 5, W: 6, C: 40, KH: 3, KW: 3, O: 4, strides: [2, 1], padding: 'same' },
  ];
  cases.forEach((c, ci) => {
    const kernel = randomKernel(rng, [c.KH, c.KW, c.C, c.O], 'binary', false);
    const ir: ModelIR = {
      inputShape: [c.H, c.W, c.C],
      layers: [{ op: 'sign', name: 'sign' }, { op: 'conv', name: 'conv', kernel, bias: null, strides: c.strides, padding: c.padding, dense: false }],
    };
    const x = tf.tensor4d(randomVector(rng, c.N * c.H * c.W * c.C, -1, 1), [c.N, c.H, c.W, c.C]);
    const ref = reference(ir, x);
    const { y, kernels } = run(ir, x);
    assert.deepEqual(kernels, ['signPack', 'convXnor'], `case ${ci}`);
    assert.deepEqual(Array.from(y), Array.from(ref.dataSync()), `case ${ci}: XNOR output differs from tfjs`);
    // The float control computes the same integers.
    assert.deepEqual(Array.from(run(ir, x, { kernels: 'float32' }).y), Array.from(ref.dataSync()), `case ${ci}: float control`);
    tf.dispose([x, ref]);
  });
});

test('a binary chain: conv (XNOR) -> batch norm -> max-pool -> sign -> flatten -> dense (XNOR) -> sign -> dense (XNOR)', () => {
  const rng = new Rng(43);
  for (const N of [1, 4]) {
    const [H, W, C] = [9, 9, 5];
    const conv = randomKernel(rng, [3, 3, C, 36], 'binary', false);
    const fc1 = randomKernel(rng, [4, 4, 36, 19], 'binary', false);
    const fc2 = randomKernel(rng, [1, 1, 19, 6], 'binary', true);
    const ir: ModelIR = {
      inputShape: [H, W, C],
      layers: [
        { op: 'sign', name: 'in_q' },
        { op: 'conv', name: 'conv', kernel: conv, bias: randomVector(rng, 36, -2, 2), strides: [1, 1], padding: 'same', dense: false },
        { op: 'affine', name: 'bn', scale: randomVector(rng, 36, -1.2, 1.2), shift: randomVector(rng, 36, -3.1, 3.1) },
        { op: 'maxpool', name: 'pool', pool: [2, 2], strides: [2, 2], padding: 'valid' },
        { op: 'sign', name: 'q1' },
        { op: 'flatten', name: 'flatten' },
        { op: 'conv', name: 'fc1', kernel: fc1, bias: null, strides: [1, 1], padding: 'valid', dense: true },
        { op: 'affine', name: 'bn2', scale: randomVector(rng, 19, 0.5, 1.5), shift: randomVector(rng, 19, -2.3, 2.3) },
        { op: 'sign', name: 'q2' },
        { op: 'conv', name: 'fc2', kernel: fc2, bias: randomVector(rng, 6, -1, 1), strides: [1, 1], padding: 'valid', dense: true },
      ],
    };
    const x = tf.tensor4d(randomVector(rng, N * H * W * C, -1, 1), [N, H, W, C]);
    const ref = reference(ir, x);
    const { y, kernels } = run(ir, x);
    // The sign before fc1 moves in front of the pooling (sign(max y) = max(sign y)): conv writes bits, the pooling
    // ORs them; the sign before fc2 is fused into fc1 as bits.
    assert.deepEqual(kernels, ['signPack', 'convXnor', 'maxPoolBits', 'convXnor', 'convXnor']);
    assert.ok(maxAbsDiff(y, ref.dataSync()) < 1e-4, `batch ${N}: ${maxAbsDiff(y, ref.dataSync())}`);
    assert.deepEqual(ref.shape, [N, 6]);
    tf.dispose([x, ref]);
  }
});

test("BinaryNet's first layers: float input, 1-bit weights -> batch norm -> max-pool (same, odd size) -> sign -> XNOR, as bits", () => {
  const rng = new Rng(44);
  for (const N of [1, 5]) {
    const [H, W, C] = [11, 9, 1];
    const conv1 = randomKernel(rng, [5, 5, C, 16], 'binary', false);
    const conv2 = randomKernel(rng, [3, 3, 16, 11], 'binary', false);
    const fc = randomKernel(rng, [3, 3, 11, 4], 'binary', false);
    const ir: ModelIR = {
      inputShape: [H, W, C],
      layers: [
        { op: 'conv', name: 'conv1', kernel: conv1, bias: null, strides: [1, 1], padding: 'same', dense: false },
        { op: 'affine', name: 'bn1', scale: randomVector(rng, 16, -1.5, 1.5), shift: randomVector(rng, 16, -1, 1) },
        { op: 'maxpool', name: 'pool1', pool: [3, 3], strides: [2, 2], padding: 'same' },
        { op: 'sign', name: 'q1' },
        { op: 'conv', name: 'conv2', kernel: conv2, bias: randomVector(rng, 11, -1, 1), strides: [1, 1], padding: 'same', dense: false },
        { op: 'affine', name: 'bn2', scale: randomVector(rng, 11, 0.5, 1.5), shift: randomVector(rng, 11, -2, 2) },
        { op: 'maxpool', name: 'pool2', pool: [2, 2], strides: [2, 2], padding: 'same' },
        { op: 'sign', name: 'q2' },
        { op: 'flatten', name: 'flatten' },
        { op: 'conv', name: 'fc', kernel: fc, bias: null, strides: [1, 1], padding: 'valid', dense: true },
      ],
    };
    const x = tf.tensor4d(randomVector(rng, N * H * W * C, -1, 1), [N, H, W, C]);
    const ref = reference(ir, x);
    const { y, kernels } = run(ir, x);
    assert.deepEqual(kernels, ['convC1', 'maxPoolBits', 'convXnor', 'maxPoolBits', 'convXnor']);
    // The logits are integers (±1 inputs and weights, no scale): exact, unless a float sum of conv1 rounds across 0.
    assert.deepEqual(Array.from(y), Array.from(ref.dataSync()), `batch ${N}`);
    // The float control pools floats and signs them after: the same logits.
    assert.deepEqual(Array.from(run(ir, x, { kernels: 'float32' }).y), Array.from(ref.dataSync()), `batch ${N}: float control`);
    tf.dispose([x, ref]);
  }
});

test('max-pooling (valid and same, odd sizes) and standalone batch norm / ReLU / sign equal tfjs', () => {
  const rng = new Rng(44);
  for (const [pool, strides, padding] of [[[2, 2], [2, 2], 'valid'], [[3, 2], [2, 1], 'same'], [[3, 3], [2, 2], 'valid'], [[2, 2], [2, 2], 'same']] as const) {
    const [N, H, W, C] = [2, 7, 9, 6];
    const ir: ModelIR = {
      inputShape: [H, W, C],
      layers: [
        { op: 'maxpool', name: 'pool', pool: [...pool] as [number, number], strides: [...strides] as [number, number], padding },
        { op: 'affine', name: 'bn', scale: randomVector(rng, C, -1, 1), shift: randomVector(rng, C, -0.2, 0.2) },
        { op: 'relu', name: 'relu' },
        { op: 'sign', name: 'sign' },
      ],
    };
    const x = tf.tensor4d(randomVector(rng, N * H * W * C, -1, 1), [N, H, W, C]);
    const ref = reference(ir, x);
    const { y, kernels } = run(ir, x);
    assert.deepEqual(kernels, ['maxPool', 'affine', 'affine']);
    assert.deepEqual(Array.from(y), Array.from(ref.dataSync()), `${pool} ${strides} ${padding}`);
    tf.dispose([x, ref]);
  }
});

test('hand-computed values: ternary, M = 3 levels and XNOR on a 1×1 input', () => {
  const eng = loadInferenceEngine();
  // Ternary, codes (0: 0, 1: +1, 2: -1) for output 0 = [+1, -1, 0] with scale 0.5, output 1 = [-1, 0, +1] with scale 2.
  // x = [0.5, -2, 1]: output 0 = 0.5·(0.5 + 2) = 1.25, output 1 = 2·(-0.5 + 1) = 1; bias [0.25, -3] -> [1.5, -2].
  const ternary: CodedKernel = {
    shape: [1, 1, 3, 2], bits: 2, codes: Uint16Array.of(1, 2, 2, 0, 0, 1), levels: Float32Array.of(0, 1, -1, 0),
    channelScale: Float32Array.of(0.5, 2), values: Float32Array.of(0.5, -2, -0.5, 0, 0, 2), signBinary: false, codebook: 'ternary', count: 3,
  };
  const conv = (kernel: CodedKernel, bias: Float32Array | null): ModelIR => ({
    inputShape: [1, 1, 3], layers: [{ op: 'conv', name: 'fc', kernel, bias, strides: [1, 1], padding: 'valid', dense: true }],
  });
  for (const strategy of ['lut', 'grouped'] as const) {
    assert.deepEqual(Array.from(eng.compile(conv(ternary, Float32Array.of(0.25, -3)), { strategy }).predict(Float32Array.of(0.5, -2, 1), 1)), [1.5, -2]);
  }
  // M = 3 levels [-0.5, 0.25, 1], one output with codes [2, 0, 1]: 1·0.5 + (-0.5)·(-2) + 0.25·1 = 1.75.
  const m3: CodedKernel = {
    shape: [1, 1, 3, 1], bits: 2, codes: Uint16Array.of(2, 0, 1), levels: Float32Array.of(-0.5, 0.25, 1, 0), channelScale: null,
    values: Float32Array.of(1, -0.5, 0.25), signBinary: false, codebook: 'levels', count: 3,
  };
  for (const strategy of ['lut', 'grouped'] as const) {
    assert.deepEqual(Array.from(eng.compile(conv(m3, null), { strategy }).predict(Float32Array.of(0.5, -2, 1), 1)), [1.75]);
  }
  // XNOR: sign(x) = [+1, -1, +1, -1, +1] · w = [+1, +1, -1, -1, +1] = 1 - 1 - 1 + 1 + 1 = 1; second output w = -sign(x): -5.
  const bin: CodedKernel = {
    shape: [1, 1, 5, 2], bits: 1, codes: Uint16Array.of(1, 0, 1, 1, 0, 0, 0, 1, 1, 0), levels: Float32Array.of(-1, 1), channelScale: null,
    values: Float32Array.of(1, -1, 1, 1, -1, -1, -1, 1, 1, -1), signBinary: true, codebook: 'binary', count: 2,
  };
  const xnor = eng.compile({ inputShape: [1, 1, 5], layers: [{ op: 'sign', name: 'q' }, ...conv(bin, null).layers] });
  assert.deepEqual(xnor.describe().map((s) => s.kernel), ['signPack', 'convXnor']);
  assert.deepEqual(Array.from(xnor.predict(Float32Array.of(0.3, -1, 2, 0, 5), 1)), [1, -5]);
});

test('the engine refuses bad input sizes and runs a batch after a larger one', () => {
  const rng = new Rng(45);
  const kernel = randomKernel(rng, [3, 3, 2, 4], 'ternary');
  const ir: ModelIR = { inputShape: [5, 5, 2], layers: [{ op: 'conv', name: 'c', kernel, bias: null, strides: [1, 1], padding: 'same', dense: false }] };
  const net = loadInferenceEngine().compile(ir);
  assert.throws(() => net.predict(new Float32Array(10), 1), /expected 1·5·5·2 = 50 inputs/);
  const x = randomVector(rng, 3 * 50, -1, 1);
  const big = net.predict(x, 3);
  const small = net.predict(x.subarray(0, 50), 1);
  assert.deepEqual(Array.from(small), Array.from(big.subarray(0, small.length)));
});
