import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { maryLenet5 } from '../src/models/maryLenet5';
import { maryDensenet40 } from '../src/models/maryDensenet40';
import { klDivergence, modelPrior, setMode, variationalLayers } from '../src/bayes/modelOps';
import { VariationalDense } from '../src/bayes/variationalDense';
import { DEFAULT_LOG_ALPHA_CLIP, DEFAULT_SLAB_WIDTH, KLLU_K1, KLLU_K2, KLLU_K3 } from '../src/bayes/priors';
import type { PriorSpec } from '../src/bayes/priors';
import type { VariationalLayer } from '../src/bayes/variationalLayer';

test.before(async () => {
  await initEngine({ backend: 'wasm' });
});

/** A layer's weight variable by its local name ('theta', 'log_sigma2', 'levels', 'bias'). */
function weightOf(l: tf.layers.Layer, local: string): tf.LayerVariable {
  return l.weights.find((w) => w.originalName.endsWith(`/${local}`))!;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/**
 * maryLenet5 (conv1 'valid') in inference, by hand: every variational layer computes x∘Q(θ) + b with its own
 * Q(θ), every batch norm (gamma, beta, moving mean, moving variance; epsilon 1e-5) is written out.
 */
function manualMaryLenet5(model: tf.LayersModel, x: tf.Tensor4D): tf.Tensor {
  return tf.tidy(() => {
    const [c1, c2, f1, f2, f3] = variationalLayers(model);
    const bns = model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
    const lin = (l: VariationalLayer, h: tf.Tensor): tf.Tensor => {
      const q = l.quantizedWeights();
      const out = h.rank === 4 ? tf.conv2d(h as tf.Tensor4D, q as tf.Tensor4D, 1, 'valid') : tf.matMul(h as tf.Tensor2D, q as tf.Tensor2D);
      return tf.add(out, weightOf(l, 'bias').read());
    };
    const bnRelu = (i: number, h: tf.Tensor): tf.Tensor => {
      const [gamma, beta, mean, variance] = bns[i].getWeights();
      return tf.relu(tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, 1e-5))), gamma), beta));
    };
    let h: tf.Tensor = tf.maxPool(bnRelu(0, lin(c1, x)) as tf.Tensor4D, 2, 2, 'valid');
    h = tf.maxPool(bnRelu(1, lin(c2, h)) as tf.Tensor4D, 2, 2, 'valid');
    h = tf.reshape(h, [x.shape[0], -1]);
    h = bnRelu(2, lin(f1, h));
    h = bnRelu(3, lin(f2, h));
    return lin(f3, h);
  });
}

/** The normalized-gate spike-and-slab KL of a layer, in float64 from its θ, log σ² and levels (see priors.ts). */
function spikeSlabKlByHand(l: VariationalLayer): number {
  const theta = l.meansValues();
  const ls2 = l.logSigma2Values();
  const levels = l.levelsValues();
  const w = DEFAULT_SLAB_WIDTH;
  const clip = DEFAULT_LOG_ALPHA_CLIP;
  const kllu = (la: number) => KLLU_K1 - KLLU_K1 / (1 + Math.exp(-(KLLU_K2 + KLLU_K3 * la))) + 0.5 * Math.log1p(Math.exp(-la));
  let kl = 0;
  for (let i = 0; i < theta.length; i++) {
    const d2 = levels.map((r) => (theta[i] - r) ** 2);
    const e = d2.map((d) => Math.exp(-d / (2 * w * w)));
    const z = e.reduce((a, b) => a + b, 0);
    d2.forEach((d, k) => {
      const la = Math.min(clip, Math.max(-clip, ls2[i] - Math.log(d + 1e-12)));
      kl += (e[k] / z) * kllu(la);
    });
  }
  return kl;
}

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
  // The step reaches every variational parameter: θ and log σ² through the likelihood (local
  // reparameterization) and the KL, the levels through the KL.
  for (const l of layers) {
    for (const local of ['theta', 'log_sigma2', 'levels', 'bias']) {
      const g = grads[weightOf(l, local).name];
      assert.ok(g != null && tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]) > 0, `${l.name}/${local}: zero gradient`);
    }
  }
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

test('maryLenet5 inference modes: quantized = the network with Q(θ) by hand, mean deterministic, sample stochastic', () => {
  const model = maryLenet5({ M: 3, prior: { kind: 'spikeSlab' }, seed: 4 });
  const layers = variationalLayers(model);
  // Non-zero biases, so that the hand forward pass checks them too.
  layers.forEach((l, i) => {
    const b = weightOf(l, 'bias');
    b.write(tf.randomUniform(b.shape as number[], -0.5, 0.5, 'float32', 10 + i));
  });
  const x = tf.randomNormal([4, 28, 28, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
  const yq = model.predict(x) as tf.Tensor;
  assert.equal(layers[0].mode, 'quantized', 'the default inference mode');
  const byHand = manualMaryLenet5(model, x);
  const scale = tf.tidy(() => tf.max(tf.abs(byHand)).dataSync()[0]);
  assert.ok(maxAbsDiff(yq, byHand) <= 1e-5 * scale, `quantized vs by hand: ${maxAbsDiff(yq, byHand)} (scale ${scale})`);

  setMode(model, 'mean');
  const [m1, m2] = [model.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor];
  assert.deepEqual(Array.from(m1.dataSync()), Array.from(m2.dataSync()), 'mean mode is deterministic');
  assert.ok(maxAbsDiff(m1, yq) > 1e-3, 'mean (θ) and quantized (Q(θ)) differ');
  setMode(model, 'sample');
  const [s1, s2] = [model.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor];
  // σ = e^-5 per weight: each call draws new weights, close to the mean network but not equal to it.
  assert.ok(maxAbsDiff(s1, s2) > 1e-4, `two samples differ: ${maxAbsDiff(s1, s2)}`);
  assert.ok(maxAbsDiff(s1, m1) < 0.5 * scale, 'a sample stays near the mean network');
  tf.dispose([x, yq, byHand, m1, m2, s1, s2]);
  model.dispose();
});

test('maryLenet5 KL: positive, the sum of the layer KLs, and the spike-and-slab sum by hand', () => {
  const prior: PriorSpec = { kind: 'spikeSlab' };
  const model = maryLenet5({ M: 3, prior, seed: 6 });
  const layers = variationalLayers(model);
  const total = tf.tidy(() => klDivergence(model).dataSync()[0]);
  const perLayer = layers.map((l) => tf.tidy(() => l.kl(prior).dataSync()[0]));
  assert.ok(perLayer.every((v) => v > 0), `${perLayer}`);
  const sum = perLayer.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(total - sum) <= 1e-5 * sum, `${total} vs ${sum}`);
  // The smallest layer (var_fc3, 84 x 10 weights) in float64.
  const hand = spikeSlabKlByHand(layers[4]);
  assert.ok(Math.abs(perLayer[4] - hand) <= 1e-4 * hand, `var_fc3 KL ${perLayer[4]} vs ${hand} by hand`);
  model.dispose();
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
  const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 1);
  const y = model.predict(x) as tf.Tensor;
  assert.deepEqual(y.shape, [1, 10]);
  // The deployed network uses exactly the levels: every quantized weight is one of its layer's M = 3 values.
  for (const l of layers) {
    const levels = l.levelsValues();
    const q = l.quantizedWeights();
    const distinct = new Set(Array.from(q.dataSync()));
    q.dispose();
    assert.ok(distinct.size <= 3 && [...distinct].every((v) => levels.some((r) => Math.abs(r - v) < 1e-7)), `${l.name}: ${[...distinct]} vs ${levels}`);
  }
  // The quantized mode is exactly the network whose means are Q(θ): write Q(θ) into θ and run the mean mode.
  setMode(model, 'mean');
  const yMean = model.predict(x) as tf.Tensor;
  assert.ok(maxAbsDiff(yMean, y) > 1e-4, 'θ and Q(θ) give different logits');
  for (const l of layers) {
    const q = l.quantizedWeights();
    weightOf(l, 'theta').write(q);
    q.dispose();
  }
  const yQtheta = model.predict(x) as tf.Tensor;
  assert.deepEqual(Array.from(yQtheta.dataSync()), Array.from(y.dataSync()));
  tf.dispose([x, y, yMean, yQtheta]);
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
