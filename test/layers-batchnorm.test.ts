/**
 * The batch-norm layer with the closed-form training gradient (src/layers/batchNormalization.ts) against the
 * stock tfjs layer: the same forward values and moving averages to the bit, gradients equal to autodiff's.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { BatchNormalization, batchNormTraining, batchNormalization } from '../src/layers';

const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));
const maxRel = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / Math.max(1e-12, tf.max(tf.abs(b)).dataSync()[0]));

test.before(async () => {
  await initEngine({ backend: 'wasm' });
});

for (const backend of ['wasm', 'cpu']) {
  test(`batchNormTraining: y equals moments + batchNorm to the bit, gradients equal autodiff's (${backend}, ranks 2 and 4)`, async () => {
    const prev = tf.getBackend();
    await tf.setBackend(backend);
    try {
      for (const shape of [[16, 7], [8, 5, 6, 3]]) {
        const c = shape[shape.length - 1];
        const axes = shape.slice(0, -1).map((_, i) => i);
        const x = tf.randomNormal(shape, 0.5, 2, 'float32', 1);
        const gamma = tf.randomNormal([c], 1, 0.3, 'float32', 2);
        const beta = tf.randomNormal([c], 0, 0.3, 'float32', 3);
        const w = tf.randomNormal(shape, 0, 1, 'float32', 4); // a loss with a non-uniform upstream gradient
        const stock = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => { const { mean, variance } = tf.moments(a, axes); return tf.batchNorm(a, mean, variance, b, g, 1e-3); };
        const ours = batchNormTraining(x, gamma, beta, 1e-3);
        const { mean, variance } = tf.moments(x, axes);
        assert.deepEqual(bits(ours.y), bits(stock(x, gamma, beta)), `y ${shape}`);
        assert.deepEqual(bits(ours.mean), bits(mean));
        assert.deepEqual(bits(ours.variance), bits(variance));
        const loss = (f: typeof stock) => (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, g, b), w));
        const got = tf.grads(loss((a, g, b) => batchNormTraining(a, g, b, 1e-3).y))([x, gamma, beta]);
        const want = tf.grads(loss(stock))([x, gamma, beta]);
        ['x', 'gamma', 'beta'].forEach((name, i) => {
          assert.deepEqual(got[i].shape, want[i].shape);
          assert.ok(maxRel(got[i], want[i]) < 2e-5, `d${name} ${shape}: relative difference ${maxRel(got[i], want[i])}`);
        });
      }
    } finally {
      await tf.setBackend(prev);
    }
  });
}

test('BatchNormalization: training output and moving averages equal the stock layer to the bit; inference is the stock code', () => {
  const x = tf.randomNormal([6, 4, 4, 5], 1, 3, 'float32', 7);
  const args = { momentum: 0.9, epsilon: 1e-5 };
  const ours = batchNormalization(args);
  const stock = tf.layers.batchNormalization(args);
  const y0 = ours.apply(x, { training: true }) as tf.Tensor;
  stock.apply(x); // build
  stock.setWeights(ours.getWeights());
  // The first call above already moved our averages: give the stock layer the same starting point.
  const start = ours.getWeights().map((t) => t.clone());
  ours.setWeights(start);
  const yOurs = ours.apply(x, { training: true }) as tf.Tensor;
  stock.setWeights(start);
  const yStock = stock.apply(x, { training: true }) as tf.Tensor;
  assert.deepEqual(bits(yOurs), bits(yStock));
  assert.deepEqual(bits(y0), bits(yOurs));
  ours.getWeights().forEach((t, i) => assert.deepEqual(bits(t), bits(stock.getWeights()[i]), `weight ${i}`));
  assert.deepEqual(bits(ours.apply(x) as tf.Tensor), bits(stock.apply(x) as tf.Tensor), 'inference');
  assert.equal(ours.getClassName(), 'BatchNormalization');
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(ours.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar);
    tf.dispose([value, ...Object.values(grads)]);
  }
  assert.equal(tf.memory().numTensors, before, 'no tensor leaks from training calls and their gradients');
  assert.deepEqual(ours.getConfig(), { ...stock.getConfig(), name: ours.name });
});

test('BatchNormalization: a saved model loads into this class; another axis runs the stock code', async () => {
  const input = tf.input({ shape: [3, 3, 2] });
  const model = tf.model({ inputs: input, outputs: batchNormalization({}).apply(input) as tf.SymbolicTensor });
  const loaded = await tf.models.modelFromJSON({ modelTopology: model.toJSON(null, false) as never });
  assert.ok(loaded.layers[1] instanceof BatchNormalization);
  const x = tf.randomNormal([4, 3, 3, 2], 0, 1, 'float32', 9);
  const other = batchNormalization({ axis: 1 });
  const stock = tf.layers.batchNormalization({ axis: 1 });
  const a = other.apply(x, { training: true }) as tf.Tensor;
  stock.apply(x);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.square(other.apply(t, { training: true }) as tf.Tensor)))(x);
  const gs = tf.grad((t: tf.Tensor) => tf.sum(tf.square(stock.apply(t, { training: true }) as tf.Tensor)))(x);
  assert.deepEqual(a.shape, x.shape);
  assert.deepEqual(bits(g), bits(gs), 'axis 1: the stock gradient');
});
