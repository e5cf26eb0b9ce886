import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { afterTrainStep, quantizedLayers } from '../src/layers';
import { METHOD_NAMES, ModelName, buildModel, lenet5, methodOptions } from '../src/models';

test.before(async () => {
  await initEngine({ backend: process.env.QNNLAB_BACKEND ?? 'wasm' });
});

/**
 * Two optimizer steps on a tiny batch; returns the losses and the tensor counts after each step
 * (the first step creates the optimizer slots, so the counts after steps 1 and 2 must be equal).
 */
function twoSteps(model: tf.LayersModel, inputShape: number[], numClasses = 10, batch = 2) {
  const x = tf.randomNormal([batch, ...inputShape], 0, 1, 'float32', 42);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => (3 * i + 1) % numClasses), 'int32'), numClasses);
  const opt = tf.train.adam(1e-3);
  const losses: number[] = [];
  const counts: number[] = [];
  for (let step = 1; step <= 2; step++) {
    const loss = opt.minimize(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true,
    ) as tf.Scalar;
    losses.push(loss.dataSync()[0]);
    loss.dispose();
    afterTrainStep(model, step);
    counts.push(tf.memory().numTensors);
  }
  tf.dispose([x, y]);
  opt.dispose();
  return { losses, counts };
}

const cases: Array<{ model: ModelName; method: string; inputShape: [number, number, number] }> = [
  { model: 'lenet5', method: 'binary-connect', inputShape: [28, 28, 1] },
  { model: 'vgg9', method: 'sq-twn', inputShape: [16, 16, 3] },
  { model: 'resnet20', method: 'fixed-point-net', inputShape: [8, 8, 3] },
  { model: 'resnet56', method: 'sq-bwn', inputShape: [8, 8, 3] },
  { model: 'resnet23', method: 'min-max', inputShape: [8, 8, 3] },
  { model: 'densenet40', method: 'binary-net', inputShape: [8, 8, 3] },
];

for (const c of cases) {
  test(`${c.model} (${c.method}) trains one step without leaking tensors`, () => {
    const model = buildModel(c.model, { ...methodOptions(c.method), seed: 1, inputShape: c.inputShape });
    const before = model.getWeights().map((w) => w.clone());
    const { losses, counts } = twoSteps(model, c.inputShape);
    assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
    assert.equal(counts[1], counts[0], `tensors after step 1: ${counts[0]}, after step 2: ${counts[1]}`);
    const changed = quantizedLayers(model).filter((l) => {
      const i = model.weights.indexOf(l.latentKernel());
      return tf.tidy(() => tf.max(tf.abs(tf.sub(before[i], l.latentKernel().read()))).dataSync()[0] > 0);
    });
    assert.equal(changed.length, quantizedLayers(model).length, 'every latent kernel was updated');
    tf.dispose(before);
    model.dispose();
  });
}

test('lenet5 trains with every method preset', () => {
  for (const method of METHOD_NAMES) {
    const model = lenet5({ ...methodOptions(method), seed: 2 });
    const { losses, counts } = twoSteps(model, [28, 28, 1]);
    assert.ok(losses.every(Number.isFinite), `${method}: losses ${losses}`);
    assert.equal(counts[1], counts[0], `${method}: tensor count ${counts}`);
    model.dispose();
  }
});

test('lenet5 fits a fixed batch with every method preset: the loss falls', () => {
  for (const method of METHOD_NAMES) {
    const model = lenet5({ ...methodOptions(method), seed: 4 });
    const x = tf.randomUniform([16, 28, 28, 1], 0, 1, 'float32', 5);
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 10), 'int32'), 10);
    const opt = tf.train.adam(3e-3);
    const losses: number[] = [];
    for (let step = 1; step <= 25; step++) {
      const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true) as tf.Scalar;
      losses.push(loss.dataSync()[0]);
      loss.dispose();
      afterTrainStep(model, step);
    }
    const first = (losses[0] + losses[1]) / 2;
    const last = (losses[23] + losses[24]) / 2;
    assert.ok(last < 0.8 * first, `${method}: loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
    tf.dispose([x, y]);
    opt.dispose();
    model.dispose();
  }
});

test('afterTrainStep drives INQ: after the last scheduled step every kernel value is 0 or +-2^k', () => {
  const model = lenet5({ kernelQuantizer: { name: 'inq', options: { numBits: 4, schedule: [1, 2] } }, seed: 3 });
  twoSteps(model, [28, 28, 1]);
  for (const l of quantizedLayers(model)) {
    const q = l.quantizedKernel();
    for (const v of q.dataSync()) {
      const ok = v === 0 || Number.isInteger(Math.log2(Math.abs(v)));
      assert.ok(ok, `${l.name}: ${v} is not a power of two`);
    }
    q.dispose();
  }
  model.dispose();
});
