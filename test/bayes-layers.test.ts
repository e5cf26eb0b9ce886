import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { VariationalConv2D } from '../src/bayes/variationalConv2d';
import { VariationalDense } from '../src/bayes/variationalDense';
import { klDivergence, quantizationLoss, setMode, variationalLayers } from '../src/bayes/modelOps';
import { klTerm } from '../src/bayes/elbo';
import type { PriorSpec } from '../src/bayes/priors';

test.before(async () => {
  await initEngine({ backend: 'wasm' });
});

function tinyModel(opts: { M?: number; trainForward?: 'mean' | 'ste'; seed?: number } = {}): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 2] });
  let h = new VariationalConv2D({ M: opts.M ?? 3, filters: 3, kernelSize: 3, seed: (opts.seed ?? 1) + 1, trainForward: opts.trainForward }).apply(input) as tf.SymbolicTensor;
  h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  h = new VariationalDense({ M: opts.M ?? 3, units: 4, seed: (opts.seed ?? 1) + 2, trainForward: opts.trainForward }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: h });
}

function distinct(t: tf.Tensor): number {
  return new Set(Array.from(t.dataSync())).size;
}

test('quantized mode uses exactly M distinct weight values per layer, for M = 2..8', () => {
  for (let m = 2; m <= 8; m++) {
    const model = tinyModel({ M: m, seed: m });
    for (const l of variationalLayers(model)) {
      const q = l.quantizedWeights();
      assert.equal(distinct(q), m, `${l.name} M=${m}`);
      assert.deepEqual([...new Set(Array.from(q.dataSync()))].sort((a, b) => a - b), l.levelsValues());
      assert.equal(l.levelCounts().reduce((a, b) => a + b, 0), l.numWeights());
      q.dispose();
    }
    model.dispose();
  }
});

test('inference modes: quantized = x@Q(theta)+b, mean = x@theta+b, sample is stochastic around the mean', () => {
  const layer = new VariationalDense({ M: 3, units: 5, seed: 4, inputShape: [7] });
  const model = tf.sequential({ layers: [layer] });
  const [theta, ls2, lv] = layer.getWeights();
  layer.setWeights([theta, tf.fill(ls2.shape, Math.log(1e-4)), lv, tf.tensor1d([0.1, -0.2, 0, 0.3, 0.05])]);
  const x = tf.randomNormal([3, 7], 0, 1, 'float32', 9);
  const b = tf.tensor1d([0.1, -0.2, 0, 0.3, 0.05]);
  const q = layer.quantizedWeights();
  const near = (a: tf.Tensor, e: tf.Tensor, tol = 1e-5) => assert.ok(tf.max(tf.abs(tf.sub(a, e))).dataSync()[0] < tol);
  layer.mode = 'quantized';
  near(model.predict(x) as tf.Tensor, tf.add(tf.matMul(x, q), b));
  layer.mode = 'mean';
  near(model.predict(x) as tf.Tensor, tf.add(tf.matMul(x, theta), b));
  layer.mode = 'sample';
  const s1 = model.predict(x) as tf.Tensor;
  const s2 = model.predict(x) as tf.Tensor;
  assert.ok(tf.max(tf.abs(tf.sub(s1, s2))).dataSync()[0] > 1e-4, 'two samples differ');
  near(s1, tf.add(tf.matMul(x, theta), b), 0.2); // sigma = 0.01 per weight
  // setMode switches every layer and reports the old modes.
  assert.deepEqual(setMode(model, 'mean'), ['sample']);
  assert.equal(layer.mode, 'mean');
});

test('quantized inference caches Q(theta) until theta or the levels are written, and keeps the level gradient', () => {
  const layer = new VariationalDense({ M: 3, units: 4, seed: 5, inputShape: [6] });
  const model = tf.sequential({ layers: [layer] });
  const x = tf.randomNormal([2, 6], 0, 1, 'float32', 3);
  const expected = () => tf.tidy(() => tf.add(tf.matMul(x, layer.quantizedWeights()), layer.getWeights()[3]));
  const same = (a: tf.Tensor, e: tf.Tensor) => assert.deepEqual(Array.from(a.dataSync()), Array.from(e.dataSync()));
  const first = model.predict(x) as tf.Tensor;
  same(first, expected());
  const tensors = tf.memory().numTensors;
  const again = model.predict(x) as tf.Tensor;
  same(again, first);
  again.dispose();
  assert.equal(tf.memory().numTensors, tensors, 'a cached call allocates nothing that outlives it');
  // A write to θ (as an optimizer step or a checkpoint load does) invalidates the cache.
  const [theta, ls2, lv, b] = layer.getWeights();
  layer.setWeights([tf.mul(theta, -1), ls2, lv, b]);
  const flipped = model.predict(x) as tf.Tensor;
  same(flipped, expected());
  assert.notDeepEqual(Array.from(flipped.dataSync()), Array.from(first.dataSync()));
  // So does a write to the levels.
  layer.setWeights([tf.mul(theta, -1), ls2, tf.mul(lv, 2), b]);
  same(model.predict(x) as tf.Tensor, expected());
  // Under a gradient tape the levels still get their gradient (the cache is bypassed).
  const levels = layer.trainableWeights.find((w) => w.originalName.includes('level'));
  assert.ok(levels, 'the layer has a level variable');
  const g = tf.variableGrads(() => tf.sum(model.apply(x) as tf.Tensor) as tf.Scalar, [levels.read() as tf.Variable]);
  assert.ok(Object.values(g.grads).some((t) => tf.sum(tf.abs(t)).dataSync()[0] > 0), 'non-zero level gradient');
  model.dispose();
});

test('local reparameterization: output mean and variance over eps match x@theta+b and (x^2)@sigma^2 (dense and conv)', () => {
  const n = 4000;
  // Dense: one input row repeated n times; every row gets its own eps.
  const dense = new VariationalDense({ M: 3, units: 3, seed: 5, inputShape: [4] });
  tf.sequential({ layers: [dense] });
  const [theta, ls2, lv, bias] = dense.getWeights();
  const sig2 = tf.tensor2d([0.01, 0.04, 0.09, 0.02, 0.05, 0.01, 0.03, 0.03, 0.06, 0.1, 0.02, 0.07], [4, 3]);
  dense.setWeights([theta, tf.log(sig2), lv, tf.tensor1d([0.5, -0.5, 0])]);
  const x1 = tf.tensor2d([[1, -2, 0.5, 3]]);
  const out = dense.apply(tf.tile(x1, [n, 1]), { training: true }) as tf.Tensor;
  const { mean, variance } = tf.moments(out, 0);
  const expMean = tf.add(tf.matMul(x1, theta), tf.tensor1d([0.5, -0.5, 0])).reshape([3]);
  const expVar = tf.add(tf.matMul(tf.square(x1), sig2), 1e-8).reshape([3]);
  const m = mean.dataSync(), v = variance.dataSync(), em = expMean.dataSync(), ev = expVar.dataSync();
  for (let j = 0; j < 3; j++) {
    assert.ok(Math.abs(m[j] - em[j]) < 4 * Math.sqrt(ev[j] / n), `mean ${j}: ${m[j]} vs ${em[j]}`);
    assert.ok(Math.abs(v[j] / ev[j] - 1) < 0.1, `variance ${j}: ${v[j]} vs ${ev[j]}`);
  }
  void bias;
  // Conv: same check per output position.
  const conv = new VariationalConv2D({ M: 3, filters: 2, kernelSize: 2, seed: 6, inputShape: [3, 3, 1], useBias: false });
  tf.sequential({ layers: [conv] });
  const [ct, , clv] = conv.getWeights();
  const csig2 = tf.fill(ct.shape, 0.02);
  conv.setWeights([ct, tf.log(csig2), clv]);
  const img = tf.tensor4d([1, 0.5, -1, 2, 0, 1, -0.5, 1, 1.5], [1, 3, 3, 1]);
  const cout = conv.apply(tf.tile(img, [n, 1, 1, 1]), { training: true }) as tf.Tensor;
  const cm = tf.moments(cout, 0);
  const cem = tf.conv2d(img as tf.Tensor4D, ct as tf.Tensor4D, 1, 'valid').reshape([2, 2, 2]);
  const cev = tf.add(tf.conv2d(tf.square(img) as tf.Tensor4D, csig2 as tf.Tensor4D, 1, 'valid'), 1e-8).reshape([2, 2, 2]);
  const a = cm.mean.dataSync(), av = cm.variance.dataSync(), b = cem.dataSync(), bv = cev.dataSync();
  for (let j = 0; j < a.length; j++) {
    assert.ok(Math.abs(a[j] - b[j]) < 4 * Math.sqrt(bv[j] / n), `conv mean ${j}`);
    assert.ok(Math.abs(av[j] / bv[j] - 1) < 0.1, `conv variance ${j}: ${av[j]} vs ${bv[j]}`);
  }
});

const spikeSlab: PriorSpec = { kind: 'spikeSlab' };
const gaussian: PriorSpec = { kind: 'gaussian' };

function gradsFor(model: tf.LayersModel, prior: PriorSpec): Record<string, tf.Tensor> {
  const x = tf.randomNormal([8, 6, 6, 2], 0, 1, 'float32', 3);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32'), 4);
  return tf.variableGrads(() => {
    const logits = model.apply(x, { training: true }) as tf.Tensor;
    return tf.add(tf.losses.softmaxCrossEntropy(y, logits), tf.mul(klDivergence(model, prior), 1e-3)) as tf.Scalar;
  }).grads;
}

function absMax(t: tf.Tensor): number {
  return tf.max(tf.abs(t)).dataSync()[0];
}

test('gradients of CE + spike-and-slab KL are finite and non-zero for theta, log sigma^2 and the levels', () => {
  const model = tinyModel();
  const grads = gradsFor(model, spikeSlab);
  for (const kind of ['theta', 'log_sigma2', 'levels', 'bias']) {
    const names = Object.keys(grads).filter((k) => k.endsWith(`/${kind}`));
    assert.equal(names.length, 2, kind);
    for (const k of names) {
      assert.ok(Array.from(grads[k].dataSync()).every(Number.isFinite), `${k} finite`);
      assert.ok(absMax(grads[k]) > 0, `${k} non-zero`);
    }
  }
});

test('levels learn from the prior (mean forward) or also from the likelihood (straight-through forward)', () => {
  // Gaussian prior does not depend on the levels: with the mean forward they get no gradient at all...
  const g1 = gradsFor(tinyModel({ trainForward: 'mean' }), gaussian);
  for (const k of Object.keys(g1).filter((k) => k.endsWith('/levels'))) assert.equal(absMax(g1[k]), 0, k);
  // ...with the straight-through forward the cross-entropy reaches them, and theta still gets a gradient.
  const g2 = gradsFor(tinyModel({ trainForward: 'ste' }), gaussian);
  for (const k of Object.keys(g2).filter((k) => k.endsWith('/levels') || k.endsWith('/theta'))) assert.ok(absMax(g2[k]) > 0, k);
});

test('straight-through forward trains on exactly the weights that are tested', () => {
  const layer = new VariationalDense({ M: 4, units: 3, seed: 8, inputShape: [5], trainForward: 'ste' });
  tf.sequential({ layers: [layer] });
  const [theta, ls2, lv, bias] = layer.getWeights();
  layer.setWeights([theta, tf.fill(ls2.shape, -80), lv, bias]); // sigma ~ 0: the training pass is its mean
  const x = tf.randomNormal([4, 5], 0, 1, 'float32', 2);
  const train = layer.apply(x, { training: true }) as tf.Tensor;
  layer.mode = 'quantized';
  const testOut = layer.apply(x) as tf.Tensor;
  assert.ok(absMax(tf.sub(train, testOut)) < 1e-3);
});

test('quantizationLoss is sum (Q(theta) - theta)^2 over all layers', () => {
  const model = tinyModel();
  let expected = 0;
  for (const l of variationalLayers(model)) {
    const q = l.quantizedWeights().dataSync();
    const t = l.meansValues();
    for (let i = 0; i < t.length; i++) expected += (q[i] - t[i]) ** 2;
    assert.ok(Math.abs(l.quantizationLoss().dataSync()[0] - (() => {
      let s = 0; for (let i = 0; i < t.length; i++) s += (q[i] - t[i]) ** 2; return s;
    })()) < 1e-6);
  }
  assert.ok(Math.abs(quantizationLoss(model).dataSync()[0] - expected) < 1e-5);
});

test('layers serialize: getConfig round trip and a saved model predicts the same', async () => {
  const model = tinyModel({ M: 5, trainForward: 'ste' });
  const conv = variationalLayers(model)[0] as VariationalConv2D;
  const cfg = conv.getConfig();
  assert.equal(cfg.numLevels, 5);
  assert.equal(cfg.trainForward, 'ste');
  assert.deepEqual(cfg.kernelSize, [3, 3]);
  const clone = VariationalConv2D.fromConfig(VariationalConv2D, cfg) as VariationalConv2D;
  assert.equal(clone.M, 5);
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (a) => {
    saved = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
  const x = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 4);
  assert.ok(absMax(tf.sub(model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor)) < 1e-5);
  assert.deepEqual(variationalLayers(loaded).map((l) => l.levelsValues()), variationalLayers(model).map((l) => l.levelsValues()));
});

test('M outside 2..8 is rejected when the layer is made', () => {
  assert.throws(() => new VariationalDense({ M: 1, units: 2 }), /2\.\.8/);
  assert.throws(() => new VariationalConv2D({ M: 9, filters: 2, kernelSize: 3 }), /2\.\.8/);
});

test('separateLevels on a layer keeps M distinct levels and each stored slot keeps its place', () => {
  const layer = new VariationalDense({ M: 3, units: 2, seed: 4, inputShape: [3] });
  tf.sequential({ layers: [layer] });
  // Weights: theta, log_sigma2, levels, bias. Stored out of order with two levels merged: slot 0 = 0.2, slots 1, 2 = -0.1.
  const ws = layer.getWeights();
  layer.setWeights([ws[0], ws[1], tf.tensor1d([0.2, -0.1, -0.1]), ws[3]]);
  assert.equal(layer.separateLevels(0.25), true);
  const after = Array.from(layer.getWeights()[2].dataSync());
  assert.ok(Math.abs(after[0] - 0.2) < 1e-7, 'the untouched level stays in its slot');
  assert.ok(after[1] < after[2] && after[2] - after[1] > 0.03, `${after}`);
  assert.equal(new Set(layer.levelsValues()).size, 3);
  assert.equal(layer.separateLevels(0.25), false, 'a second call has nothing to move');
});

test('klDivergence perLayerMean averages each layer over its weights before summing layers', () => {
  const model = tinyModel();
  const prior = { kind: 'spikeSlab' as const };
  const layers = variationalLayers(model);
  const expected = layers.reduce((s, l) => s + tf.tidy(() => l.kl(prior).dataSync()[0]) / l.numWeights(), 0);
  const got = tf.tidy(() => klDivergence(model, prior, { perLayerMean: true }).dataSync()[0]);
  assert.ok(Math.abs(got - expected) < 1e-5 * Math.abs(expected), `${got} vs ${expected}`);
  const sum = tf.tidy(() => klDivergence(model, prior).dataSync()[0]);
  assert.ok(sum > got * 5, 'the plain sum weighs every weight once');
});

test('klTerm layerExponent weighs layer l by (N/n_l)^a / N: a = 0 is the ELBO, a = 1 the per-layer mean', () => {
  const model = tinyModel();
  const prior = { kind: 'spikeSlab' as const };
  const layers = variationalLayers(model);
  const N = 1000;
  const kls = layers.map((l) => tf.tidy(() => l.kl(prior).dataSync()[0]));
  const term = (o: Partial<Parameters<typeof klTerm>[2]>) => tf.tidy(() => klTerm(model, prior, { numExamples: N, ...o }).dataSync()[0]);
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-5 * Math.abs(b), `${a} vs ${b}`);
  const expected = kls.reduce((s, kl, i) => s + (kl * Math.sqrt(N / layers[i].numWeights())) / N, 0);
  close(term({ layerExponent: 0.5, klWeight: 2 }), 2 * expected);
  close(term({ layerExponent: 0 }), term({}));
  close(term({ layerExponent: 1 }), term({ perLayerMean: true }));
  assert.throws(() => term({ layerExponent: 1.2 }), /layerExponent must be in \[0, 1\]/);
  assert.throws(() => term({ layerExponent: 0.5, perLayerMean: true }), /not both/);
});
