/**
 * Evaluation in the trained mode: batch-norm recalibration (the population statistics of the evaluated mode, and
 * an exact restore), the Q(θ)-centred sampling mode, posterior σ quantiles and the validation split.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { maryLenet5 } from '../src/models/maryLenet5';
import { evaluateMode, posteriorSigma, recalibrateBatchNorm, trainedModes, variationalLayers, setMode } from '../src/bayes';
import { batches, holdOutValidation, type ImageDataset } from '../src/data';

test.before(async () => {
  await initEngine({ backend: 'wasm' });
});

/** A small dataset of random digits-shaped images (values 0..255), 10 classes. */
function fakeDataset(n: number, nTest = 50): ImageDataset {
  const per = 28 * 28;
  const mk = (count: number, seed: number) => {
    const images = new Uint8Array(count * per);
    let s = seed;
    for (let i = 0; i < images.length; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      images[i] = s >>> 24;
    }
    const labels = new Uint8Array(count).map((_, i) => i % 10);
    return { images, labels, count };
  };
  return {
    name: 'mnist', height: 28, width: 28, channels: 1, numClasses: 10, classNames: [...'0123456789'],
    train: mk(n, 1), test: mk(nTest, 2), mean: [0.5], std: [0.3], source: 'generated',
  };
}

function bnStats(model: tf.LayersModel): number[][] {
  return model.layers.filter((l) => l.getClassName() === 'BatchNormalization')
    .flatMap((l) => l.getWeights().slice(2).map((w) => Array.from(w.dataSync())));
}

test('holdOutValidation: the last examples of the training split, no copies, clear errors', () => {
  const ds = fakeDataset(100);
  const v = holdOutValidation(ds, 30);
  assert.equal(v.train.count, 70);
  assert.equal(v.validation!.count, 30);
  assert.deepEqual(Array.from(v.validation!.labels), Array.from(ds.train.labels.slice(70)));
  assert.equal(v.validation!.images.buffer, ds.train.images.buffer, 'a view, not a copy');
  assert.deepEqual(Array.from(v.validation!.images.slice(0, 5)), Array.from(ds.train.images.slice(70 * 784, 70 * 784 + 5)));
  assert.equal(holdOutValidation(ds, 0), ds);
  assert.throws(() => holdOutValidation(ds, 100), /leaves no training examples/);
  assert.throws(() => holdOutValidation(ds, -1), /non-negative integer/);
  assert.throws(() => holdOutValidation(v, 10), /already has a validation split/);
});

test('recalibrateBatchNorm: the average of per-batch statistics in the evaluated mode, restored exactly', () => {
  const model = maryLenet5({ M: 3, seed: 3 });
  const ds = fakeDataset(40);
  const before = bnStats(model);
  const restore = recalibrateBatchNorm(model, ds, 'quantized', { examples: 40, batchSize: 20 });
  const after = bnStats(model);
  assert.notDeepEqual(after, before);
  // By hand: conv1's output in quantized mode on the two batches (the same seeded order), per-channel moments.
  const conv1 = variationalLayers(model)[0];
  const modes = setMode(model, 'quantized');
  const xs = [...batches(ds, 'train', { batchSize: 20, shuffle: true, seed: 0x5eed })];
  const means = xs.map((b) => tf.tidy(() => Array.from(tf.moments(conv1.apply(b.x) as tf.Tensor, [0, 1, 2]).mean.dataSync())));
  setMode(model, modes[0]);
  const expected = means[0].map((m, c) => (m + means[1][c]) / 2);
  after[0].forEach((v, c) => assert.ok(Math.abs(v - expected[c]) < 1e-5, `channel ${c}: ${v} vs ${expected[c]}`));
  restore();
  assert.deepEqual(bnStats(model), before, 'restored bit for bit');
  assert.deepEqual(variationalLayers(model).map((l) => l.mode), ['quantized', 'quantized', 'quantized', 'quantized', 'quantized']);
  assert.ok(variationalLayers(model).every((l) => !l.modeInTraining));
});

test('evaluateMode leaves the statistics unchanged and restores the modes; trainedModes pairs each forward with its modes', () => {
  const model = maryLenet5({ M: 3, seed: 4 });
  const ds = fakeDataset(40);
  const before = bnStats(model);
  const r = evaluateMode(model, ds, 'test', 'mean', { recalibrate: true, recalibration: { examples: 40, batchSize: 20 } });
  assert.equal(r.count, 50);
  assert.ok(r.accuracy >= 0 && r.accuracy <= 1 && r.nll > 0);
  assert.deepEqual(bnStats(model), before);
  assert.deepEqual(trainedModes('ste'), { deterministic: 'quantized', sample: 'sampleQuantized' });
  assert.deepEqual(trainedModes('mean'), { deterministic: 'mean', sample: 'sample' });
});

test("'sampleQuantized' samples N(Q(θ), σ²): with σ → 0 it equals the quantized mode, 'sample' equals the mean mode", () => {
  const model = maryLenet5({ M: 3, seed: 5, logSigma2Init: -60 });
  const x = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 7);
  const out = (mode: 'quantized' | 'mean' | 'sample' | 'sampleQuantized') => {
    setMode(model, mode);
    return Array.from((model.predict(x) as tf.Tensor).dataSync());
  };
  const q = out('quantized');
  const m = out('mean');
  out('sampleQuantized').forEach((v, i) => assert.ok(Math.abs(v - q[i]) < 1e-4));
  out('sample').forEach((v, i) => assert.ok(Math.abs(v - m[i]) < 1e-4));
  assert.ok(q.some((v, i) => Math.abs(v - m[i]) > 1e-3), 'the two centres differ');
});

test('posteriorSigma: median and 90th percentile of σ per layer, against a hand count', () => {
  const model = maryLenet5({ M: 2, seed: 6 });
  const fc3 = variationalLayers(model)[4];
  const n = fc3.numWeights(); // 840
  const ls = new Float32Array(n);
  for (let i = 0; i < n; i++) ls[i] = 2 * Math.log((i + 1) / n); // σ = (i+1)/n
  const logSigma2 = fc3.weights.find((w) => w.originalName.endsWith('log_sigma2'))!;
  logSigma2.write(tf.tensor(ls, logSigma2.shape as number[]));
  const s = posteriorSigma(model);
  assert.equal(s.length, 5);
  assert.ok(Math.abs(s[0].median - Math.exp(-5)) < 1e-6 && s[0].initial === Math.exp(-5), 'σ = e^-5 from log σ² = -10');
  // σ_i = (i+1)/840: the median interpolates between i = 419 and 420 -> 420.5/840; p90 at position 755.1 -> 756.1/840
  assert.ok(Math.abs(s[4].median - 420.5 / 840) < 1e-5, `${s[4].median}`);
  assert.ok(Math.abs(s[4].p90 - 756.1 / 840) < 1e-5, `${s[4].p90}`);
});
