import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { gaussianKl, gaussianWindow, kllu, priorKl, spikeSlabKl } from '../src/bayes/priors';
import { spikeSlabKlKernel } from '../src/engine/trainKernels';

// Plain-JS versions of the formulas, written independently of the tensor code.
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const klluJs = (la: number) => -(0.63576 * sigmoid(1.8732 + 1.48695 * la) - 0.5 * Math.log(1 + Math.exp(-la)) - 0.63576);
const windowJs = (z: number, c: number, w: number) => Math.exp(-0.5 * (z - c) ** 2 / w ** 2);
const clip = (x: number, c: number) => Math.min(c, Math.max(-c, x));

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

test.before(async () => {
  await initEngine({ backend: 'wasm' });
});

test('kllu matches the Molchanov et al. formula and is a positive, decreasing KL', () => {
  const las = [-8, -3, -1, 0, 0.5, 2, 3, 8];
  const got = Array.from(kllu(tf.tensor1d(las)).dataSync());
  las.forEach((la, i) => close(got[i], klluJs(la), 1e-5, `kllu(${la})`));
  for (let i = 1; i < got.length; i++) assert.ok(got[i] < got[i - 1], 'kllu decreases in log alpha');
  assert.ok(got.every((v) => v > 0), 'kllu is positive');
  close(got[0], klluJs(-8), 1e-5, 'no overflow far out'); // uses softplus, not log(1 + exp(8))
  assert.ok(Number.isFinite(kllu(tf.scalar(-200)).dataSync()[0]));
});

test('gaussianWindow is exp(-(z-c)^2 / 2 width^2), floored at exp(-75)', () => {
  const z = [-0.3, -0.1, 0, 0.05, 0.2];
  const got = Array.from(gaussianWindow(tf.tensor1d(z), 0.05, 0.075).dataSync());
  z.forEach((v, i) => close(got[i], windowJs(v, 0.05, 0.075), 1e-5, `window(${v})`));
  close(gaussianWindow(tf.scalar(100), 0, 0.075).dataSync()[0], Math.exp(-75), 1e-3, 'floor');
});

test('spikeSlabKl equals the hand-computed multiple spike-and-slab sum (window and normalized gates)', () => {
  const mean = [-0.26, -0.2, -0.01, 0.0, 0.03, 0.19, 0.5];
  const ls2 = [-10, -6, -9, -8, -12, -7, -10];
  const levels = [-0.2, 0, 0.21];
  const width = 0.075;
  const c = 3;
  let expectWindow = 0;
  let expectNorm = 0;
  mean.forEach((m, i) => {
    const ws = levels.map((r) => windowJs(m, r, width));
    const tot = ws.reduce((a, b) => a + b, 0);
    levels.forEach((r, k) => {
      const la = clip(ls2[i] - Math.log((m - r) ** 2 + 1e-12), c);
      expectWindow += klluJs(la) * ws[k];
      expectNorm += (klluJs(la) * ws[k]) / tot;
    });
  });
  const args = { mean: tf.tensor1d(mean), logSigma2: tf.tensor1d(ls2), levels: tf.tensor1d(levels), slabWidth: width, clip: c, gate: 'window' as const };
  close(spikeSlabKl(args).dataSync()[0], expectWindow, 1e-5, 'window gate');
  close(spikeSlabKl({ ...args, gate: 'normalized' }).dataSync()[0], expectNorm, 1e-5, 'normalized gate');
  // Shape-agnostic: a 2-D weight gives the same sum.
  const args2 = { ...args, mean: tf.tensor2d(mean, [7, 1]), logSigma2: tf.tensor2d(ls2, [7, 1]) };
  close(spikeSlabKl(args2).dataSync()[0], expectWindow, 1e-5, '2-D weights');
  // Defaults: normalized gates, clip 8, width 0.075.
  let expectDefault = 0;
  mean.forEach((m, i) => {
    const ws = levels.map((r) => windowJs(m, r, 0.075));
    const tot = ws.reduce((a, b) => a + b, 0);
    levels.forEach((r, k) => { expectDefault += (klluJs(clip(ls2[i] - Math.log((m - r) ** 2 + 1e-12), 8)) * ws[k]) / tot; });
  });
  close(spikeSlabKl({ mean: args.mean, logSigma2: args.logSigma2, levels: args.levels }).dataSync()[0], expectDefault, 1e-5, 'defaults');
  // A different clip changes the value in the expected way.
  let expectClip5 = 0;
  mean.forEach((m, i) => levels.forEach((r) => {
    expectClip5 += klluJs(clip(ls2[i] - Math.log((m - r) ** 2 + 1e-12), 5)) * windowJs(m, r, width);
  }));
  close(spikeSlabKl({ ...args, clip: 5 }).dataSync()[0], expectClip5, 1e-5, 'clip 5');
});

test('spikeSlabKl: a weight exactly on a level is finite and has finite gradients', () => {
  const mean = tf.tensor1d([0, 0.1]);
  const levels = tf.tensor1d([0, 0.1]);
  const ls2 = tf.tensor1d([-10, -10]);
  const v = spikeSlabKl({ mean, logSigma2: ls2, levels }).dataSync()[0];
  assert.ok(Number.isFinite(v));
  const g = tf.grads((m: tf.Tensor, s: tf.Tensor, l: tf.Tensor) => spikeSlabKl({ mean: m, logSigma2: s, levels: l }))([mean, ls2, levels]);
  for (const t of g) assert.ok(Array.from(t.dataSync()).every(Number.isFinite));
});

test('gaussianKl: closed form with log sigma^2, zero when q = prior, published log-sigma variant', () => {
  const mean = [0.1, -0.3, 0.0];
  const ls2 = [-8, -3, -4];
  const mu0 = 0.05;
  const lp = -4;
  const correct = mean.reduce((acc, m, i) => {
    const s2 = Math.exp(ls2[i]);
    const p2 = Math.exp(lp);
    return acc + 0.5 * Math.log(p2 / s2) + (s2 + (m - mu0) ** 2) / (2 * p2) - 0.5;
  }, 0);
  const args = { mean: tf.tensor1d(mean), logSigma2: tf.tensor1d(ls2), priorMean: mu0, priorLogSigma2: lp };
  close(gaussianKl(args).dataSync()[0], correct, 1e-5, 'KL(N||N)');
  // The published _kl_loss reads both log-variances as log sigma: kl = ls1 - ls0 + (e^{2 ls0} + dmu^2)/(2 e^{2 ls1}) - 1/2.
  const published = mean.reduce((acc, m, i) =>
    acc + lp - ls2[i] + (Math.exp(2 * ls2[i]) + (m - mu0) ** 2) / (2 * Math.exp(2 * lp)) - 0.5, 0);
  close(gaussianKl({ ...args, logScale: 'publishedLogSigma' }).dataSync()[0], published, 1e-5, 'published');
  assert.notEqual(Math.round(correct * 1e3), Math.round(published * 1e3));
  const same = gaussianKl({ mean: tf.fill([4, 3], 0.2), logSigma2: tf.fill([4, 3], -3), priorMean: 0.2, priorLogSigma2: -3 });
  close(same.dataSync()[0], 0, 1e-6, 'q = prior');
});

test('priorKl dispatches on the spec', () => {
  const q = { mean: tf.tensor1d([0.1, -0.05]), logSigma2: tf.tensor1d([-9, -9]), levels: tf.tensor1d([-0.1, 0, 0.1]) };
  close(priorKl({ kind: 'spikeSlab', clip: 4 }, q).dataSync()[0], spikeSlabKl({ ...q, clip: 4 }).dataSync()[0], 1e-6, 'spikeSlab');
  close(priorKl({ kind: 'gaussian', priorLogSigma2: -2 }, q).dataSync()[0],
    gaussianKl({ mean: q.mean, logSigma2: q.logSigma2, priorLogSigma2: -2 }).dataSync()[0], 1e-6, 'gaussian');
});

/** The spike-and-slab KL written with tensor ops, autodiff giving its gradients: the reference for the fused pass. */
function composedSpikeSlabKl(mean: tf.Tensor, ls2: tf.Tensor, levels: tf.Tensor, width: number, c: number, gate: 'window' | 'normalized'): tf.Scalar {
  const m1 = tf.expandDims(mean, -1);
  const dist2 = tf.square(tf.sub(m1, levels));
  const la = tf.clipByValue(tf.sub(tf.expandDims(ls2, -1), tf.log(tf.add(dist2, 1e-12))), -c, c);
  const gates = gate === 'window' ? gaussianWindow(m1, levels, width) : tf.softmax(tf.div(dist2, -2 * width * width), -1);
  return tf.sum(tf.mul(kllu(la), gates)) as tf.Scalar;
}

test('spikeSlabKl: value and gradients equal the tensor-op formula under autodiff (both gates, clip active and not)', () => {
  const rnd = (n: number, lo: number, hi: number, seed: number) => tf.randomUniform([n], lo, hi, 'float32', seed);
  const n = 600;
  const mean = tf.reshape(rnd(n, -0.5, 0.5, 1), [20, 30]);
  const ls2 = tf.reshape(rnd(n, -14, -2, 2), [20, 30]); // log α from far below -8 to above +8
  const levels = tf.tensor1d([-0.21, -0.02, 0.18, 0.4]);
  for (const gate of ['window', 'normalized'] as const) {
    for (const c of [3, 8]) {
      const f = (m: tf.Tensor, s: tf.Tensor, l: tf.Tensor) => spikeSlabKl({ mean: m, logSigma2: s, levels: l, slabWidth: 0.075, clip: c, gate });
      const ref = (m: tf.Tensor, s: tf.Tensor, l: tf.Tensor) => composedSpikeSlabKl(m, s, l, 0.075, c, gate);
      close(f(mean, ls2, levels).dataSync()[0], ref(mean, ls2, levels).dataSync()[0], 1e-5, `${gate} clip ${c} value`);
      const got = tf.grads(f)([mean, ls2, levels]);
      const want = tf.grads(ref)([mean, ls2, levels]);
      ['mean', 'logSigma2', 'levels'].forEach((name, j) => {
        assert.deepEqual(got[j].shape, want[j].shape);
        const a = got[j].dataSync();
        const b = want[j].dataSync();
        const scale = Math.max(...Array.from(b, Math.abs));
        assert.ok(scale > 0, `${name}: reference gradient is not all zero`);
        for (let i = 0; i < a.length; i++) close(a[i], b[i], 1e-4 * Math.max(1, scale), `${gate} clip ${c} d${name}[${i}]`);
      });
    }
  }
});

test('spikeSlabKlKernel: gradients match central differences of its own value', () => {
  const mean = [-0.3, -0.12, 0.001, 0.05, 0.11, 0.35];
  const ls2 = [-9, -4, -11, -7, -12, -5];
  const levels = [-0.15, 0.0, 0.12];
  for (const gate of ['window', 'normalized'] as const) {
    const f32 = (a: number[]) => Float32Array.from(a);
    const kl = (m: number[], s: number[], l: number[]) => spikeSlabKlKernel(f32(m), f32(s), f32(l), 0.075, 8, gate).kl;
    const r = spikeSlabKlKernel(f32(mean), f32(ls2), f32(levels), 0.075, 8, gate);
    // The kernel computes in float32 (its sums are float64): a central difference over a step the float32
    // inputs really take, large enough that float32 rounding of the value stays below the tolerance.
    const fd = (arr: number[], i: number, h: number, call: (a: number[]) => number) => {
      const p = arr.slice(); p[i] = Math.fround(arr[i] + h);
      const mn = arr.slice(); mn[i] = Math.fround(arr[i] - h);
      return (call(p) - call(mn)) / (p[i] - mn[i]);
    };
    mean.forEach((_, i) => close(r.dMean[i], fd(mean, i, 2e-4, (a) => kl(a, ls2, levels)), 2e-3, `${gate} dMean[${i}]`));
    ls2.forEach((_, i) => close(r.dLogSigma2[i], fd(ls2, i, 1e-3, (a) => kl(mean, a, levels)), 2e-3, `${gate} dLogSigma2[${i}]`));
    levels.forEach((_, k) => close(r.dLevels[k], fd(levels, k, 2e-4, (a) => kl(mean, ls2, a)), 2e-3, `${gate} dLevels[${k}]`));
  }
});
