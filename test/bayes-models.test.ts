import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { maryLenet5 } from '../src/models/maryLenet5';
import { maryDensenet40 } from '../src/models/maryDensenet40';
import { klDivergence, modelPrior, setMode, variationalLayers } from '../src/bayes/modelOps';
import { VariationalDense } from '../src/bayes/variationalDense';
import type { PriorSpec } from '../src/bayes/priors';

test.before(async () => {
  await initEngine({ backend: 'wasm' });
});

test('maryLenet5: 6-16-120-84-10 variational layers, raw logits, prior attached, trains a step', () => {
  const prior: PriorSpec = { kind: 'spikeSlab' };
  const model = maryLenet5({ M: 3, prior, seed: 2 });
  const layers = variationalLayers(model);
  assert.deepEqual(layers.map((l) => l.numWeights()), [5 * 5 * 1 * 6, 5 * 5 * 6 * 16, 256 * 120, 120 * 84, 84 * 10]);
  assert.ok(layers.every((l) => l.M === 3 && l.logSigma2Init === -10));
  assert.equal(model.layers.filter((l) => l.getClassName() === 'BatchNormalization').length, 4);
  assert.ok(model.layers[model.layers.length - 1] instanceof VariationalDense, 'logits come straight from the last layer (no sigmoid)');
  assert.equal(modelPrior(model), prior);
  const x = tf.randomNormal([4, 28, 28, 1], 0, 1, 'float32', 1);
  const y = model.predict(x) as tf.Tensor;
  assert.deepEqual(y.shape, [4, 10]);
  const { grads } = tf.variableGrads(() => {
    const logits = model.apply(x, { training: true }) as tf.Tensor;
    return tf.add(tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([1, 2, 3, 4], 'int32'), 10), logits),
      tf.div(klDivergence(model), 60000)) as tf.Scalar;
  });
  for (const [k, g] of Object.entries(grads)) assert.ok(Array.from(g.dataSync()).every(Number.isFinite), k);
  assert.ok(Object.keys(grads).filter((k) => k.endsWith('/levels')).length === 5);
  // Same seed -> same initial weights; the CIFAR variant flattens 400 features.
  const again = maryLenet5({ M: 3, seed: 2 });
  assert.deepEqual(variationalLayers(again)[2].meansValues(), layers[2].meansValues());
  const cifar = maryLenet5({ M: 4, inputShape: [32, 32, 3] });
  assert.equal(variationalLayers(cifar)[2].numWeights(), 400 * 120);
  // conv1Padding 'same' is the float LeNet-5's network: 28x28 maps after conv1, 5*5*16 = 400 features.
  const same = maryLenet5({ M: 3, conv1Padding: 'same' });
  assert.equal(variationalLayers(same)[2].numWeights(), 400 * 120);
  const slowBn = maryLenet5({ M: 3, bnMomentum: 0.99 });
  const momenta = (m: tf.LayersModel) => m.layers.filter((l) => l.getClassName() === 'BatchNormalization').map((l) => l.getConfig().momentum);
  assert.deepEqual(momenta(model), [0.9, 0.9, 0.9, 0.9]);
  assert.deepEqual(momenta(slowBn), [0.99, 0.99, 0.99, 0.99]);
  for (const m of [model, again, cifar, same, slowBn]) m.dispose();
});

test('maryDensenet40: 40 variational layers, 16 -> 160 -> 304 -> 448 channels, 10-class head', () => {
  const model = maryDensenet40({ seed: 3 });
  const layers = variationalLayers(model);
  assert.equal(layers.length, 1 + 36 + 2 + 1);
  assert.ok(layers.every((l) => l.M === 3 && l.logSigma2Init === -8));
  const fc = layers[layers.length - 1];
  assert.equal(fc.numWeights(), 448 * 10);
  assert.equal(layers[0].numWeights(), 3 * 3 * 3 * 16);
  assert.equal(layers.filter((l) => l.name.startsWith('var_trans')).map((l) => l.numWeights()).join(), [160 * 160, 304 * 304].join());
  const total = layers.reduce((s, l) => s + l.numWeights(), 0);
  let dense = 0;
  for (const c0 of [16, 160, 304]) for (let i = 0; i < 12; i++) dense += 3 * 3 * (c0 + 12 * i) * 12;
  assert.equal(total, 432 + dense + 160 * 160 + 304 * 304 + 4480);
  // Convolutions have no bias; the head has one.
  assert.ok(layers.slice(0, -1).every((l) => !l.useBias) && fc.useBias);
  setMode(model, 'quantized');
  const y = model.predict(tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 1)) as tf.Tensor;
  assert.deepEqual(y.shape, [1, 10]);
  assert.ok(Array.from(y.dataSync()).every(Number.isFinite));
  // The deployed network uses exactly the levels: every quantized weight is one of its layer's M = 3 values.
  for (const l of layers) {
    const levels = l.levelsValues();
    const q = l.quantizedWeights();
    const distinct = new Set(Array.from(q.dataSync()));
    q.dispose();
    assert.ok(distinct.size <= 3 && [...distinct].every((v) => levels.some((r) => Math.abs(r - v) < 1e-7)), `${l.name}: ${[...distinct]} vs ${levels}`);
  }
  model.dispose();
});

test('initFromFloat: the Bayesian LeNet-5 in mean mode computes exactly the trained float LeNet-5', async () => {
  const { lenet5 } = await import('../src/models/lenet5');
  const { initFromFloat } = await import('../src/bayes/modelOps');
  const float = lenet5({ seed: 3 });
  // Give the float net non-trivial biases and BN statistics, as training would.
  float.setWeights(float.getWeights().map((w, i) => (w.shape.length === 1 ? tf.add(w, tf.randomUniform(w.shape, 0.1, 0.5, 'float32', i)) : w)));
  const mary = maryLenet5({ M: 3, seed: 1, conv1Padding: 'same', freezeThreshold: 0.02 });
  initFromFloat(mary, float);
  const x = tf.randomNormal([4, 28, 28, 1], 0, 1, 'float32', 7);
  setMode(mary, 'mean');
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(mary.predict(x) as tf.Tensor, float.predict(x) as tf.Tensor))).dataSync()[0]);
  assert.ok(diff < 1e-4, `max |mean-mode logits - float logits| = ${diff}`);
  // The levels are re-spread over each layer's float kernel: Lloyd-Max for M = 3 is {-a, 0, a}, a = sqrt(3)*2/3*std.
  const kernel = float.getLayer('fc1').getWeights()[0];
  const std = Math.sqrt(tf.moments(kernel).variance.dataSync()[0]);
  const levels = variationalLayers(mary)[2].levelsValues();
  assert.ok(Math.abs(levels[2] - Math.sqrt(3) * (2 / 3) * std) < 1e-5 && levels[1] === 0 && Math.abs(levels[0] + levels[2]) < 1e-6);
  // The code's 'valid' LeNet is another network: a clear error, not a silent partial copy.
  const valid = maryLenet5({ M: 3, seed: 1 });
  assert.throws(() => initFromFloat(valid, float), /var_fc1: float kernel has shape \[400,120\], this layer's means have \[256,120\]/);
  [float, mary, valid].forEach((m) => m.dispose());
  x.dispose();
});
