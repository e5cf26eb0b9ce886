/**
 * The extra gradients (src/engine/gradients.ts): zero gradients for comparisons and logical ops, the
 * StridedSlice gradient, and the Tile-free FusedBatchNorm gradient against tfjs-core's own.
 * Run: node --import tsx --test test/engine-gradients.test.ts
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { batchNormGradFor, fastFusedBatchNormGradConfig, registerTrainingGradients } from '../src/engine/gradients';
import { registerWasmTrainingKernels } from '../src/engine/kernels';
import { Rng } from '../src/util/random';

type Backend = 'cpu' | 'wasm';

// tfjs-core's gradients, captured before ours replace or add to them.
const CORE_BN_GRAD = tf.getGradient('FusedBatchNorm');
const CORE_GREATER_EQUAL_GRAD = tf.getGradient('GreaterEqual');
registerWasmTrainingKernels();
registerTrainingGradients();

const rng = new Rng(99);

function randData(n: number, scale = 1, shift = 0): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale + shift);
}

function arrays(ts: tf.Tensor[]): Float32Array[] {
  return ts.map((t) => Float32Array.from(t.dataSync()));
}

function relDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  let m = 1e-6;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return Number.isNaN(d) ? Infinity : d / m;
}

async function onEach(fn: () => Float32Array[]): Promise<Record<Backend, Float32Array[]>> {
  const out = {} as Record<Backend, Float32Array[]>;
  for (const b of ['cpu', 'wasm'] as Backend[]) {
    await tf.setBackend(b);
    out[b] = fn();
  }
  return out;
}

test.before(async () => {
  assert.ok(await tf.setBackend('wasm'));
});

// ---------------------------------------------------------------------------------------------------
// Comparisons and logical ops

test('registration is idempotent and keeps the gradients tfjs-core already has', () => {
  registerTrainingGradients();
  assert.equal(tf.getGradient('GreaterEqual'), CORE_GREATER_EQUAL_GRAD);
  for (const k of ['Greater', 'Less', 'LessEqual', 'Equal', 'NotEqual', 'LogicalAnd', 'LogicalOr', 'LogicalNot', 'LogicalXor', 'StridedSlice']) {
    assert.ok(tf.getGradient(k) != null, `${k} has a gradient`);
  }
  // The registered BN gradient picks ours on the JS and wasm backends, tfjs-core's on every other one.
  assert.equal(batchNormGradFor('wasm', CORE_BN_GRAD), fastFusedBatchNormGradConfig);
  assert.equal(batchNormGradFor('cpu', CORE_BN_GRAD), fastFusedBatchNormGradConfig);
  assert.equal(batchNormGradFor('tensorflow', CORE_BN_GRAD), CORE_BN_GRAD);
  assert.equal(batchNormGradFor('webgpu', CORE_BN_GRAD), CORE_BN_GRAD);
  assert.deepEqual(tf.getGradient('FusedBatchNorm')?.inputsToSave, CORE_BN_GRAD?.inputsToSave);
});

test('comparisons and logical ops on the tape get zero gradients (where, masks, logical combinations)', async () => {
  // No ties and no value near a threshold (0, +-0.5, +-1), so finite differences are clean.
  const xv = Float32Array.from([-2, -0.7, 0.2, 0.6, 1.3, 2, 3, -3]);
  const yv = Float32Array.from([1.5, 1.2, -0.1, -1.1, 1.1, 3.5, 2, -4]);
  const cases: [string, (x: tf.Tensor, y: tf.Tensor) => tf.Tensor][] = [
    ['greater', (x, y) => tf.where(tf.greater(x, y), x, y)],
    ['less', (x, y) => tf.where(tf.less(x, y), x, tf.mul(y, 2))],
    ['lessEqual', (x, y) => tf.where(tf.lessEqual(x, 0.5), tf.mul(x, 3), y)],
    ['equal', (x, y) => tf.where(tf.equal(x, y), x, tf.mul(x, y))],
    ['notEqual', (x, y) => tf.mul(x, tf.cast(tf.notEqual(x, y), 'float32'))],
    ['logicalAnd', (x, y) => tf.where(tf.logicalAnd(tf.greater(x, -1), tf.less(x, 1)), x, y)],
    ['logicalOr', (x, y) => tf.where(tf.logicalOr(tf.greater(x, 1), tf.less(y, 0)), tf.mul(x, y), x)],
    ['logicalNot', (x, y) => tf.where(tf.logicalNot(tf.greater(x, 0)), y, x)],
    ['logicalXor', (x, y) => tf.where(tf.logicalXor(tf.greater(x, 0), tf.greater(y, 0)), x, y)],
  ];
  for (const [name, f] of cases) {
    const res = await onEach(() => tf.tidy(() => {
      const x = tf.tensor(xv);
      const y = tf.tensor(yv);
      // Numeric reference: the ops are piecewise linear in x, y away from the switching points.
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(f(a, b)))([x, y]);
      const eps = 1e-3;
      const fd = (which: 0 | 1): tf.Tensor => {
        const vals = new Float32Array(xv.length);
        for (let i = 0; i < xv.length; i++) {
          const bump = (v: Float32Array, d: number): tf.Tensor => tf.tensor(v.map((e, j) => (j === i ? e + d : e)));
          const up = which === 0 ? f(bump(xv, eps), y) : f(x, bump(yv, eps));
          const dn = which === 0 ? f(bump(xv, -eps), y) : f(x, bump(yv, -eps));
          vals[i] = (tf.sum(up).dataSync()[0] - tf.sum(dn).dataSync()[0]) / (2 * eps);
        }
        return tf.tensor(vals);
      };
      return arrays([...g, fd(0), fd(1)]);
    }));
    for (const b of ['cpu', 'wasm'] as Backend[]) {
      const [gx, gy, fx, fy] = res[b];
      assert.ok(relDiff(gx, fx) < 1e-2 && relDiff(gy, fy) < 1e-2, `${name} on ${b}: ${gx} vs ${fx}; ${gy} vs ${fy}`);
    }
  }
});

test('the comparison gradient itself is float32 zeros, also for int32 and bool inputs', async () => {
  await tf.setBackend('wasm');
  const cfg = tf.getGradient('Less');
  assert.ok(cfg != null);
  const a = tf.tensor([1, 2, 3], [3], 'int32');
  const b = tf.tensor([3, 2, 1], [3], 'int32');
  const g = cfg.gradFunc(tf.zeros([3]), [a, b], {}) as Record<string, () => tf.Tensor>;
  const ga = g.a();
  assert.equal(ga.dtype, 'float32');
  assert.deepEqual(Array.from(ga.dataSync()), [0, 0, 0]);
  const notCfg = tf.getGradient('LogicalNot');
  const x = tf.tensor([1, 0], [2], 'bool');
  const gx = (notCfg?.gradFunc(tf.zeros([2]), [x], {}) as Record<string, () => tf.Tensor>).x();
  assert.deepEqual(gx.shape, [2]);
  tf.dispose([a, b, ga, x, gx]);
});

// ---------------------------------------------------------------------------------------------------
// StridedSlice

interface SliceCase {
  shape: number[];
  begin: number[];
  end: number[];
  strides: number[];
  masks?: [number, number, number, number, number];
}

const SLICE_CASES: SliceCase[] = [
  { shape: [2, 8, 8, 3], begin: [0, 0, 0, 0], end: [2, 8, 8, 3], strides: [1, 2, 2, 1] }, // ResNet option-A shortcut
  { shape: [2, 7, 9, 3], begin: [0, 1, 0, 0], end: [2, 7, 9, 3], strides: [1, 2, 3, 1] },
  { shape: [5, 6], begin: [4, 5], end: [0, 0], strides: [-1, -2] },
  { shape: [5, 6], begin: [1, 0], end: [4, 6], strides: [1, 1] },
  { shape: [4, 5, 6], begin: [1, 0, 2], end: [2, 5, 5], strides: [1, 1, 1], masks: [0, 0, 0, 0, 1] }, // shrink axis 0
  { shape: [4, 5, 6], begin: [0, 1], end: [0, 4], strides: [1, 2], masks: [1, 0, 0, 0, 0] }, // begin mask
  { shape: [4, 5, 6], begin: [0, 2], end: [0, 0], strides: [1, 1], masks: [0, 2, 1, 0, 0] }, // ellipsis + end mask
  { shape: [4, 5, 6], begin: [0, 0, 1], end: [0, 0, 3], strides: [1, 1, 1], masks: [0, 0, 0, 2, 0] }, // new axis
  { shape: [3, 4], begin: [5, 0], end: [7, 4], strides: [1, 1] }, // empty slice
];

test('StridedSlice gradient scatters dy to the sliced positions (strides, negative strides, masks), cpu and wasm', async () => {
  for (const c of SLICE_CASES) {
    const [bm, em, el, na, sa] = c.masks ?? [0, 0, 0, 0, 0];
    const slice = (t: tf.Tensor): tf.Tensor => tf.stridedSlice(t, c.begin, c.end, c.strides, bm, em, el, na, sa);
    const n = c.shape.reduce((a, b) => a * b, 1);
    const xv = randData(n);
    const res = await onEach(() => tf.tidy(() => {
      // Which input element each output element came from: slice the flat indices themselves.
      const idx = Array.from(slice(tf.range(0, n).reshape(c.shape)).dataSync());
      const r = tf.tensor(randData(idx.length)).reshape(slice(tf.zeros(c.shape)).shape);
      const expected = new Float32Array(n);
      const rv = r.dataSync();
      idx.forEach((i, j) => { expected[i] += rv[j]; });
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(slice(x), r)))(tf.tensor(xv, c.shape));
      assert.deepEqual(g.shape, c.shape);
      return [Float32Array.from(g.dataSync()), expected];
    }));
    for (const b of ['cpu', 'wasm'] as Backend[]) {
      assert.deepEqual(Array.from(res[b][0]), Array.from(res[b][1]), `${JSON.stringify(c)} on ${b}`);
    }
  }
});

// ---------------------------------------------------------------------------------------------------
// FusedBatchNorm

/** Saved tensors and dy for a direct gradFunc call: [x, mean, variance, scale]. */
function bnInputs(xShape: number[], statShape: number[], withScale: boolean): { saved: tf.Tensor[]; dy: tf.Tensor } {
  const c = statShape.reduce((a, b) => a * b, 1);
  const n = xShape.reduce((a, b) => a * b, 1);
  const mean = tf.tensor(randData(c, 3), statShape);
  const variance = tf.tensor(randData(c, 0.5, 1), statShape);
  const x = tf.tensor(randData(n, 2, 1), xShape);
  const scale = withScale ? tf.tensor(randData(c, 1, 1), statShape) : (undefined as unknown as tf.Tensor);
  return { saved: [x, mean, variance, scale], dy: tf.tensor(randData(n), xShape) };
}

function callGrad(cfg: tf.GradConfig, dy: tf.Tensor, saved: tf.Tensor[], names: string[]): Float32Array[] {
  const g = cfg.gradFunc(dy, saved, { varianceEpsilon: 1e-3 }) as Record<string, () => tf.Tensor>;
  return arrays(names.map((k) => g[k]()));
}

test('fast FusedBatchNorm gradient equals tfjs-core\'s, input by input (rank-1 statistics, with and without scale)', async () => {
  assert.ok(CORE_BN_GRAD != null);
  for (const withScale of [true, false]) {
    const names = withScale ? ['x', 'mean', 'variance', 'scale', 'offset'] : ['x', 'mean', 'variance', 'offset'];
    const res = await onEach(() => tf.tidy(() => {
      const { saved, dy } = bnInputs([8, 6, 5, 16], [16], withScale);
      return [...callGrad(fastFusedBatchNormGradConfig, dy, saved, names), ...callGrad(CORE_BN_GRAD, dy, saved, names)];
    }));
    for (const b of ['cpu', 'wasm'] as Backend[]) {
      const k = names.length;
      for (let i = 0; i < k; i++) {
        const d = relDiff(res[b][i], res[b][k + i]);
        assert.ok(d < 1e-5, `${names[i]} (scale ${withScale}) on ${b}: ${d}`);
      }
    }
  }
});

test('fast FusedBatchNorm gradient handles [1,1,1,C] statistics (checked against autodiff of the plain formula)', async () => {
  const res = await onEach(() => tf.tidy(() => {
    const { saved, dy } = bnInputs([4, 5, 3, 8], [1, 1, 1, 8], true);
    const [x, mean, variance, scale] = saved;
    const offset = tf.zerosLike(mean);
    const ours = tf.grads((a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: tf.Tensor, o: tf.Tensor) =>
      tf.sum(tf.mul(tf.batchNorm(a, m, v, o, s, 1e-3), dy)))([x, mean, variance, scale, offset]);
    const ref = tf.grads((a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: tf.Tensor, o: tf.Tensor) =>
      tf.sum(tf.mul(tf.add(tf.mul(tf.mul(tf.sub(a, m), tf.rsqrt(tf.add(v, 1e-3))), s), o), dy)))([x, mean, variance, scale, offset]);
    return arrays([...ours, ...ref]);
  }));
  for (const b of ['cpu', 'wasm'] as Backend[]) {
    for (let i = 0; i < 5; i++) {
      const d = relDiff(res[b][i], res[b][5 + i]);
      assert.ok(d < 1e-4, `input ${i} on ${b}: ${d}`);
    }
  }
});

test('training-mode BN (moments + batchNorm) gradients: fast vs tfjs-core gradient, cpu and wasm', async () => {
  assert.ok(CORE_BN_GRAD != null);
  const xv = randData(16 * 6 * 6 * 8, 2, 0.5);
  const gv = randData(8, 0.5, 1);
  const bv = randData(8);
  const rv = randData(16 * 6 * 6 * 8);
  const run = (): Float32Array[] => tf.tidy(() => {
    const r = tf.tensor(rv, [16, 6, 6, 8]);
    return arrays(tf.grads((x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return tf.sum(tf.mul(tf.batchNorm(x, mean, variance, b, g, 1e-3), r));
    })([tf.tensor(xv, [16, 6, 6, 8]), tf.tensor(gv), tf.tensor(bv)]));
  });
  const fast = await onEach(run);
  const registeredBn = tf.getGradient('FusedBatchNorm')!;
  tf.registerGradient(CORE_BN_GRAD);
  try {
    const core = await onEach(run);
    for (const b of ['cpu', 'wasm'] as Backend[]) {
      for (let i = 0; i < 3; i++) {
        const d = relDiff(fast[b][i], core[b][i]);
        assert.ok(d < 1e-4, `grad ${i} on ${b}: ${d}`);
      }
    }
  } finally {
    tf.registerGradient(registeredBn);
  }
});

test('the fast BN gradient dispatches no Tile kernel', async () => {
  await tf.setBackend('wasm');
  const seen = new Set<string>();
  const engine = tf.engine() as unknown as { runKernel: (name: string, ...rest: unknown[]) => unknown };
  const orig = engine.runKernel.bind(engine);
  engine.runKernel = (name: string, ...rest: unknown[]) => {
    seen.add(name);
    return orig(name, ...rest);
  };
  try {
    tf.tidy(() => {
      const x = tf.randomNormal([8, 4, 4, 6]);
      tf.grads((a: tf.Tensor, g: tf.Tensor) => {
        const { mean, variance } = tf.moments(a, [0, 1, 2]);
        // (An undefined offset on the tape trips tfjs-core's tape filter, whatever the gradient.)
        return tf.sum(tf.batchNorm(a, mean, variance, tf.zeros([6]), g, 1e-3));
      })([x, tf.ones([6])]);
    });
  } finally {
    engine.runKernel = orig;
  }
  assert.ok(seen.has('FusedBatchNorm'));
  assert.ok(!seen.has('Tile'), `kernels: ${[...seen].join(', ')}`);
});
