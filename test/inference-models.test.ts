/**
 * Whole LeNet-5 variants built by the project's model builders, run by the inference engine from their packed
 * codes, against the tfjs evaluation of the same model (the wasm backend the project evaluates on):
 * BinaryNet (binary weights and activations, the 16-32 LeNet-5 of zoo-mnist), BWN, TWN, and the Bayesian
 * M-ary LeNet-5 with M = 2, 3, 4 in its deployed 'quantized' mode (every weight one of M learned levels, Q(θ)).
 * Batch norm gets random statistics, so that folding it is tested; batch 1 and batch 3.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { lenet5, maryLenet5, methodOptions } from '../src/models';
import { packModel, unpackModel } from '../src/export';
import { inspectPacked } from '../src/export';
import { compileModel, compilePacked, type CompileOptions } from '../src/inference';
import { Rng } from '../src/util/random';

test.before(async () => {
  await initEngine({ backend: process.env.QNNLAB_BACKEND ?? 'wasm' });
});

/** Random batch-norm statistics and affine parameters (a freshly built model has the identity). */
function randomizeBatchNorm(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  for (const l of model.layers) {
    if (l.getClassName() !== 'BatchNormalization') continue;
    const n = l.weights[0].shape[0] as number;
    const v = (lo: number, hi: number) => tf.tensor1d(Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.next()));
    // gamma, beta, moving_mean, moving_variance (tf.layers.batchNormalization's order).
    const values = [v(0.5, 1.5), v(-0.3, 0.3), v(-0.4, 0.4), v(0.5, 2)];
    l.setWeights(values);
    tf.dispose(values);
  }
}

interface Variant {
  name: string;
  build: () => tf.LayersModel;
  /** Kernels the low-bit engine must pick, in order of steps (conv / dense layers only); conv1 sees one channel: convC1. */
  kernels: string[];
}

const VARIANTS: Variant[] = [
  {
    name: 'BinaryNet (16-32)',
    build: () => lenet5({ ...methodOptions('binary-net'), widths: { conv1: 16, conv2: 32 }, seed: 3 }),
    kernels: ['convC1', 'convXnor', 'convXnor', 'convXnor', 'convXnor'],
  },
  { name: 'BWN', build: () => lenet5({ ...methodOptions('bwn'), seed: 4 }), kernels: ['convC1', 'convLut1', 'convLut1', 'convLut1', 'convLut1'] },
  { name: 'TWN', build: () => lenet5({ ...methodOptions('twn'), seed: 5 }), kernels: ['convC1', 'convLut2', 'convLut2', 'convLut2', 'convLut2'] },
  { name: 'M = 2', build: () => maryLenet5({ M: 2, seed: 6 }), kernels: ['convC1', 'convLut1', 'convLut1', 'convLut1', 'convLut1'] },
  { name: 'M = 3', build: () => maryLenet5({ M: 3, seed: 7 }), kernels: ['convC1', 'convLut2', 'convLut2', 'convLut2', 'convLut2'] },
  { name: 'M = 4', build: () => maryLenet5({ M: 4, seed: 8 }), kernels: ['convC1', 'convLut2', 'convLut2', 'convLut2', 'convLut2'] },
];

const CONV_KERNELS = new Set(['convC1', 'convF32', 'convLut1', 'convLut2', 'convSum1', 'convSum2', 'convXnor']);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

for (const v of VARIANTS) {
  test(`LeNet-5 ${v.name}: the engine's logits equal the tfjs evaluation of the same quantized weights`, () => {
    const model = v.build();
    randomizeBatchNorm(model, 11);
    const bytes = packModel(model);
    const deployed = unpackModel(bytes);
    for (const batch of [1, 3]) {
      const x = tf.randomNormal([batch, 28, 28, 1], 0, 1, 'float32', 20 + batch);
      const ref = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
      // The packed model rebuilt in tfjs computes the same logits (the engine starts from the same codes).
      const refDeployed = tf.tidy(() => (deployed.predict(x) as tf.Tensor).dataSync());
      assert.ok(maxAbsDiff(ref, refDeployed) < 1e-5);
      const scale = Math.max(1, ...Array.from(ref, Math.abs));
      const xs = x.dataSync() as Float32Array;
      const runs: [string, CompileOptions][] = [['lowbit/lut', {}], ['lowbit/grouped', { strategy: 'grouped' }], ['float32', { kernels: 'float32' }]];
      for (const [label, opts] of runs) {
        const net = compilePacked(bytes, opts);
        const y = net.predict(xs, batch);
        assert.equal(y.length, batch * 10);
        const d = maxAbsDiff(y, ref);
        assert.ok(d <= 1e-4 * scale, `${v.name} ${label} batch ${batch}: max |logit diff| ${d} (logits up to ${scale})`);
        const kernels = net.describe().map((s) => s.kernel).filter((k) => CONV_KERNELS.has(k));
        if (label === 'lowbit/lut') assert.deepEqual(kernels, v.kernels);
        if (label === 'float32') assert.deepEqual(kernels, ['convC1', 'convF32', 'convF32', 'convF32', 'convF32']);
        // grouped sums replace the code tables, also in the first layer (convC1 is a code-table kernel)
        const grouped = v.kernels.map((k, j) => (j === 0 && k === 'convC1' ? (v.kernels[1] === 'convLut2' ? 'convSum2' : 'convSum1') : k.replace('Lut', 'Sum')));
        if (label === 'lowbit/grouped') assert.deepEqual(kernels, grouped);
      }
      // Same prediction per example, and compileModel is compilePacked(packModel(model)).
      const y = compileModel(model).predict(xs, batch);
      for (let n = 0; n < batch; n++) {
        const row = (a: ArrayLike<number>) => Array.from(a).slice(n * 10, n * 10 + 10);
        const argmax = (r: number[]) => r.indexOf(Math.max(...r));
        assert.equal(argmax(row(y)), argmax(row(ref)), `${v.name} example ${n}`);
      }
      x.dispose();
    }
    // Codes stay codes: the weights resident in the engine are no larger than the packed body (batch norm is
    // folded into one scale and shift per channel).
    const net = compilePacked(bytes);
    const body = inspectPacked(bytes).bodyBytes;
    assert.ok(net.resident.total <= 1.1 * body, `${v.name}: ${net.resident.total} resident bytes, packed body ${body}`);
    assert.ok(net.resident.codes > 0);
    model.dispose();
    deployed.dispose();
  });
}

test('BinaryNet LeNet-5 without hidden batch norm or biases: the XNOR layers give exact integer logits', () => {
  // Binary weights without batch norm or bias: the logits are integers, computed exactly by XNOR-popcount.
  const model = lenet5({ ...methodOptions('binary-net'), widths: { conv1: 16, conv2: 32 }, seed: 9, batchNorm: false, useBias: false });
  const x = tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 5);
  const net = compileModel(model);
  const steps = net.describe();
  assert.deepEqual(steps.map((s) => s.kernel), ['convC1', 'maxPoolBits', 'convXnor', 'maxPoolBits', 'convXnor', 'convXnor', 'convXnor']);
  assert.deepEqual(steps.map((s) => s.outBits), [true, true, true, true, true, true, false]);
  const y = net.predict(x.dataSync() as Float32Array, 2);
  // The last layer's input is sign(fc2) (84 values of ±1) and its weights ±1 followed by the logits' BN (identity
  // statistics: 1/sqrt(1 + 1e-5)), so y·sqrt(1 + 1e-5) is an integer of the parity of 84.
  const ref = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
  for (let i = 0; i < y.length; i++) {
    const k = Math.round(y[i] * Math.sqrt(1 + 1e-5));
    assert.ok(Math.abs(y[i] * Math.sqrt(1 + 1e-5) - k) < 1e-4 && k % 2 === 0 && Math.abs(k) <= 84, `logit ${y[i]}`);
    assert.ok(Math.abs(y[i] - ref[i]) < 1e-4, `logit ${i}: ${y[i]} vs ${ref[i]}`);
  }
  x.dispose();
  model.dispose();
});
