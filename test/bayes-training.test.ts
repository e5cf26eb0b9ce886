import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { VariationalDense } from '../src/bayes/variationalDense';
import { klDivergence, quantizationLoss, setMode } from '../src/bayes/modelOps';
import { klTerm, klWarmup, negativeElbo } from '../src/bayes/elbo';
import { mcPredict } from '../src/bayes/mcPredict';
import type { PriorSpec } from '../src/bayes/priors';
import { Rng } from '../src/util/random';

test.before(async () => {
  await initEngine({ backend: 'wasm' });
});

/** Six noisy blobs in 2-D, two per class (opposite corners), 3 classes: needs the hidden layers. */
function synthetic(n: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor1D } {
  const rng = new Rng(seed);
  const xs: number[] = [];
  const ys: number[] = [];
  const centres = [[-1, -1], [1, 1], [-1, 1], [1, -1], [0, 1.6], [0, -1.6]];
  for (let i = 0; i < n; i++) {
    const k = rng.int(6);
    xs.push(centres[k][0] + 0.35 * (rng.next() - 0.5), centres[k][1] + 0.35 * (rng.next() - 0.5));
    ys.push(k % 3);
  }
  return { x: tf.tensor2d(xs, [n, 2]), y: tf.tensor1d(ys, 'int32') };
}

function mlp(seed: number, M = 3): tf.LayersModel {
  const rng = new Rng(seed);
  return tf.sequential({
    layers: [
      new VariationalDense({ M, units: 16, seed: rng.nextSeed(), inputShape: [2], logSigma2Init: -8 }),
      tf.layers.reLU(),
      new VariationalDense({ M, units: 16, seed: rng.nextSeed(), logSigma2Init: -8 }),
      tf.layers.reLU(),
      new VariationalDense({ M, units: 3, seed: rng.nextSeed(), logSigma2Init: -8 }),
    ],
  });
}

interface RunResult { losses: number[]; qloss: number[]; model: tf.LayersModel }

/**
 * 50 Adam steps on the full synthetic set. The prior is made 10x stronger than the ELBO's 1/N (klScale)
 * so that its effect on the quantization loss shows within so few steps.
 */
function train(seed: number, prior: PriorSpec, steps = 50): RunResult {
  const data = synthetic(256, 1);
  const model = mlp(seed);
  const opt = tf.train.adam(0.01);
  const losses: number[] = [];
  const qloss: number[] = [];
  const qOf = () => tf.tidy(() => quantizationLoss(model).dataSync()[0]);
  qloss.push(qOf());
  for (let s = 0; s < steps; s++) {
    const beta = klWarmup(s, 10); // warm-up over the first 10 steps here
    const cost = opt.minimize(() => {
      const logits = model.apply(data.x, { training: true }) as tf.Tensor;
      return negativeElbo(model, prior, logits, data.y, { numExamples: 256, klWeight: beta, klScale: 10 / 256 });
    }, true)!;
    losses.push(cost.dataSync()[0]);
    cost.dispose();
    qloss.push(qOf());
  }
  opt.dispose();
  data.x.dispose();
  data.y.dispose();
  return { losses, qloss, model };
}

test('klWarmup is linear from 0 to 1 over the warm-up epochs', () => {
  assert.deepEqual([0, 1, 7.5, 15, 30].map((e) => klWarmup(e, 15)), [0, 1 / 15, 0.5, 1, 1]);
  assert.equal(klWarmup(0, 0), 1);
});

test('klTerm is beta * KL / N (or an explicit scale)', () => {
  const model = mlp(3);
  const prior: PriorSpec = { kind: 'spikeSlab' };
  const kl = tf.tidy(() => klTerm(model, prior, { numExamples: 1, klWeight: 1 }).dataSync()[0]);
  assert.ok(kl > 0);
  const t = tf.tidy(() => klTerm(model, prior, { numExamples: 200, klWeight: 0.5 }).dataSync()[0]);
  assert.ok(Math.abs(t - (0.5 * kl) / 200) < 1e-6 * kl);
  const s = tf.tidy(() => klTerm(model, prior, { numExamples: 200, klScale: 0.01 }).dataSync()[0]);
  assert.ok(Math.abs(s - 0.01 * kl) < 1e-6 * kl);
  assert.equal(tf.tidy(() => klTerm(model, prior, { numExamples: 200, klWeight: 0 }).dataSync()[0]), 0);
  // The published code's scaling: β · Σ_layers KL_l / n_l, with no 1/N.
  const layerMean = tf.tidy(() => klDivergence(model, prior, { perLayerMean: true }).dataSync()[0]);
  const lm = tf.tidy(() => klTerm(model, prior, { numExamples: 200, klWeight: 0.5, perLayerMean: true }).dataSync()[0]);
  assert.ok(Math.abs(lm - 0.5 * layerMean) < 1e-6 * layerMean);
});

test('seeded training is reproducible, learns, and the spike-and-slab prior shrinks the quantization loss', () => {
  const prior: PriorSpec = { kind: 'spikeSlab' };
  const a = train(5, prior);
  const b = train(5, prior);
  assert.deepEqual(a.losses, b.losses, 'same seed, same loss history');
  assert.deepEqual(a.qloss, b.qloss);
  const c = train(6, prior, 5);
  assert.notDeepEqual(c.losses, a.losses.slice(0, 5), 'another seed differs');
  assert.ok(a.losses.every(Number.isFinite));
  const q = a.qloss;
  assert.ok(q[q.length - 1] < 0.1 * q[0], `quantization loss ${q[0]} -> ${q[q.length - 1]}`);
  // The same run under the Gaussian prior (which only shrinks towards 0) quantizes much more slowly.
  const g = train(5, { kind: 'gaussian' });
  // (Measured: Gaussian 2.77 -> 2.12 -> 0.18 at steps 0/10/50, spike-and-slab 2.77 -> 0.58 -> 0.002.)
  assert.ok(g.qloss[10] > 3 * q[10], `Gaussian ${g.qloss[10]} vs spike-and-slab ${q[10]} after 10 steps`);
  assert.ok(g.qloss[50] > 10 * q[50], `Gaussian ${g.qloss[50]} vs spike-and-slab ${q[50]} after 50 steps`);
  g.model.dispose();
  // The quantized network still classifies the training data.
  const data = synthetic(256, 1);
  setMode(a.model, 'quantized');
  const acc = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(a.model.predict(data.x) as tf.Tensor, -1), data.y), 'float32')).dataSync()[0]);
  assert.ok(acc > 0.7, `quantized accuracy ${acc} (chance 0.33)`);
  for (const r of [a, b, c]) r.model.dispose();
});

test('no tensors leak over repeated training steps and Monte-Carlo prediction', () => {
  const data = synthetic(64, 2);
  const model = mlp(7);
  const opt = tf.train.adam(0.01);
  const prior: PriorSpec = { kind: 'spikeSlab' };
  const step = () => {
    const cost = opt.minimize(() => {
      const logits = model.apply(data.x, { training: true }) as tf.Tensor;
      return negativeElbo(model, prior, logits, data.y, { numExamples: 64 });
    }, true)!;
    cost.dispose();
    tf.tidy(() => quantizationLoss(model).dataSync());
  };
  step(); // creates the optimizer's slots
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) step();
  assert.equal(tf.memory().numTensors, before, 'training steps');
  const p = mcPredict(model, data.x, { samples: 3, seed: 1 });
  Object.values(p).forEach((t) => t.dispose());
  assert.equal(tf.memory().numTensors, before, 'mcPredict');
  opt.dispose();
  model.dispose();
});

test('mcPredict: mean probabilities, predictive entropy, reproducible with a seed, modes restored', () => {
  const { model } = train(5, { kind: 'spikeSlab' }, 30);
  const data = synthetic(32, 3);
  setMode(model, 'quantized');
  const p1 = mcPredict(model, data.x, { samples: 8, seed: 4 });
  const p2 = mcPredict(model, data.x, { samples: 8, seed: 4 });
  assert.deepEqual(Array.from(p1.probs.dataSync()), Array.from(p2.probs.dataSync()));
  assert.deepEqual(p1.probs.shape, [32, 3]);
  assert.deepEqual(p1.entropy.shape, [32]);
  const rows = tf.sum(p1.probs, -1).dataSync();
  rows.forEach((r) => assert.ok(Math.abs(r - 1) < 1e-5));
  const h = p1.entropy.dataSync();
  const eh = p1.expectedEntropy.dataSync();
  const mi = p1.mutualInformation.dataSync();
  for (let i = 0; i < 32; i++) {
    assert.ok(h[i] >= 0 && h[i] <= Math.log(3) + 1e-5);
    assert.ok(mi[i] >= 0 && Math.abs(h[i] - eh[i] - mi[i]) < 1e-5);
  }
  // Entropy from the returned probabilities, by hand.
  const pr = p1.probs.arraySync() as number[][];
  pr.forEach((row, i) => assert.ok(Math.abs(-row.reduce((s, v) => s + v * Math.log(v + 1e-12), 0) - h[i]) < 1e-4));
  // The layers went back to their previous mode.
  assert.deepEqual(setMode(model, 'mean'), ['quantized', 'quantized', 'quantized']);
  model.dispose();
});

test('bayesMcPredictor (robustness protocol): one weight draw per sample for the whole batch, as mcPredict with batchSize = the batch', async () => {
  const { bayesMcPredictor } = await import('../src/experiments/robustnessProtocol');
  const { model } = train(5, { kind: 'spikeSlab' }, 30);
  const data = synthetic(64, 5);
  const pred = bayesMcPredictor('p', model, 'sample', 4, 100);
  const a = pred.predictBatch(data.x as unknown as tf.Tensor4D, 2);
  const b = pred.predictBatch(data.x as unknown as tf.Tensor4D, 2);
  assert.deepEqual(Array.from(a.probs), Array.from(b.probs), 'seeded per batch: the same numbers again');
  const whole = mcPredict(model, data.x, { samples: 4, seed: 102, mode: 'sample', batchSize: 64 });
  assert.deepEqual(Array.from(a.probs), Array.from(whole.probs.dataSync()));
  assert.deepEqual(Array.from(a.mi!), Array.from(whole.mutualInformation.dataSync()));
  // model.predict's default batch of 32 draws new weights for the second half: other numbers.
  const split = mcPredict(model, data.x, { samples: 4, seed: 102, mode: 'sample' });
  assert.notDeepEqual(Array.from(split.probs.dataSync()), Array.from(a.probs));
  [whole, split].forEach((p) => Object.values(p).forEach((t) => t.dispose()));
  model.dispose();
});
