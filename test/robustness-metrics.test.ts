import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracy, aupr, auroc, brierScore, expectedCalibrationError, expectedEntropy, maxSoftmaxProbability,
  meanProbabilities, mutualInformation, negativeLogLikelihood, NLL_PROB_FLOOR, predictedClasses, predictiveEntropy,
} from '../src/robustness';

const close = (a: number, b: number, tol = 1e-6, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b}`);

/** n copies of one row. */
function rows(row: number[], n: number): number[] {
  return Array.from({ length: n }, () => row).flat();
}

test('accuracy, NLL and Brier on a calibrated 4-example set (hand values)', () => {
  // p = [.75, .25] four times, labels 0, 0, 0, 1: 75 % accurate and 75 % confident.
  const p = new Float32Array(rows([0.75, 0.25], 4));
  const y = new Uint8Array([0, 0, 0, 1]);
  assert.equal(accuracy(p, y), 0.75);
  // −(3 ln .75 + ln .25) / 4
  close(negativeLogLikelihood(p, y), -(3 * Math.log(0.75) + Math.log(0.25)) / 4);
  close(negativeLogLikelihood(p, y), 0.562335, 1e-6);
  // right: .25² + .25² = .125; wrong: .75² + .75² = 1.125; mean (3·.125 + 1.125)/4
  close(brierScore(p, y), 0.375);
  close(expectedCalibrationError(p, y).ece, 0);
});

test('Brier and NLL on a 2-example hand case', () => {
  // Example 1: [.7, .2, .1], label 0 → (.3² + .2² + .1²) = .14, −ln .7
  // Example 2: [.1, .6, .3], label 2 → (.1² + .6² + .7²) = .86, −ln .3
  const p = new Float32Array([0.7, 0.2, 0.1, 0.1, 0.6, 0.3]);
  const y = [0, 2];
  close(brierScore(p, y), (0.14 + 0.86) / 2);
  close(negativeLogLikelihood(p, y), -(Math.log(0.7) + Math.log(0.3)) / 2);
  assert.equal(accuracy(p, y), 0.5);
  assert.deepEqual(Array.from(predictedClasses(p, 3)), [0, 1]);
});

test('a confidently wrong predictor: Brier 2, ECE 1, NLL at the floor', () => {
  const p = new Float32Array([1, 0, 1, 0]);
  const y = [1, 1];
  assert.equal(brierScore(p, y), 2);
  assert.equal(expectedCalibrationError(p, y).ece, 1);
  close(negativeLogLikelihood(p, y), -Math.log(NLL_PROB_FLOOR), 1e-9);
  close(negativeLogLikelihood(p, y, { floor: 1e-3 }), -Math.log(1e-3), 1e-9);
  assert.equal(accuracy(p, y), 0);
});

test('ECE of a constant 0.9-confident predictor at 60 % accuracy is 0.3, in one bin', () => {
  const p = new Float32Array(rows([0.9, 0.1], 10));
  const y = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
  const r = expectedCalibrationError(p, y, { bins: 15 });
  close(r.ece, 0.3);
  close(r.mce, 0.3);
  assert.equal(r.bins.length, 15);
  const used = r.bins.filter((b) => b.count > 0);
  assert.equal(used.length, 1);
  // 0.9 lies in (13/15, 14/15] = (0.8667, 0.9333].
  assert.equal(r.bins.indexOf(used[0]), 13);
  close(used[0].accuracy, 0.6);
  close(used[0].confidence, 0.9);
  close(used[0].lower, 13 / 15, 1e-12);
  close(used[0].upper, 14 / 15, 1e-12);
  assert.ok(Number.isNaN(r.bins[0].accuracy) && r.bins[0].count === 0);
});

test('ECE of a perfectly calibrated predictor is 0, with several bins in use', () => {
  // 10 examples at .95 with 9.5 right is not possible; use .8 (4 of 5 right) and .6 (3 of 5 right).
  const p = new Float32Array([...rows([0.8, 0.2], 5), ...rows([0.4, 0.6], 5)]);
  const y = [0, 0, 0, 0, 1, 1, 1, 1, 0, 0];
  close(expectedCalibrationError(p, y).ece, 0);
  // Uniform predictions on balanced labels are calibrated too (accuracy 0.1, confidence 0.1), but useless.
  const k = 10;
  const pu = new Float32Array(100 * k).fill(0.1);
  const yu = Array.from({ length: 100 }, (_, i) => i % k);
  close(expectedCalibrationError(pu, yu).ece, 0);
  close(accuracy(pu, yu), 0.1);
  close(brierScore(pu, yu), 0.9);
  close(negativeLogLikelihood(pu, yu), Math.log(10));
});

test('ECE over two bins (hand value .4·.20 + .6·.05 = .11)', () => {
  const p = new Float32Array([...rows([0.95, 0.05], 4), ...rows([0.55, 0.45], 6)]);
  const y = [0, 0, 0, 1, 0, 0, 0, 1, 1, 1];
  const r = expectedCalibrationError(p, y);
  close(r.ece, 0.11);
  close(r.mce, 0.2);
  assert.deepEqual(r.bins.map((b) => b.count).filter((c) => c > 0), [6, 4]);
  close(accuracy(p, y), 0.6);
  close(brierScore(p, y), 0.485);
});

test('ECE bins are right-closed: a confidence on an edge goes to the lower bin, 1 to the last', () => {
  const at = (c: number, bins: number) => expectedCalibrationError([c, 1 - c], [0], { bins }).bins.findIndex((b) => b.count > 0);
  assert.equal(at(0.7, 10), 6); // (0.6, 0.7], although 0.7·10 = 7.000000000000001 in floating point
  assert.equal(at(0.6, 10), 5);
  assert.equal(at(0.61, 10), 6);
  assert.equal(at(1, 10), 9);
  assert.equal(at(0.5, 2), 0);
  assert.equal(at(1, 15), 14);
});

test('predictive entropy: log k for uniform rows, 0 for one-hot rows', () => {
  const k = 10;
  const p = new Float32Array(2 * k);
  p.fill(0.1, 0, k);
  p[k + 3] = 1;
  const h = predictiveEntropy(p, k);
  close(h[0], Math.log(10));
  assert.equal(h[1], 0);
  const ms = maxSoftmaxProbability(p, k);
  close(ms[0], 0.1);
  assert.equal(ms[1], 1);
  close(predictiveEntropy([0.5, 0.5], 2)[0], Math.LN2, 1e-12);
});

test('mutual information: 0 for identical samples, log 2 for two disagreeing one-hot samples', () => {
  const same = new Float32Array([0.7, 0.2, 0.1, 0.3, 0.3, 0.4]);
  const mi0 = mutualInformation([same, same, same], 3);
  assert.deepEqual(Array.from(mi0), [0, 0]);
  const mi = mutualInformation([new Float32Array([1, 0]), new Float32Array([0, 1])], 2);
  close(mi[0], Math.LN2, 1e-12);
  // H[mean] = H[.7, .3] = .610864; mean H = (H[.9,.1] + ln 2)/2 = (.325083 + .693147)/2 = .509115
  const mi3 = mutualInformation([[0.9, 0.1], [0.5, 0.5]], 2);
  close(mi3[0], 0.101749, 1e-6);
  close(expectedEntropy([[0.9, 0.1], [0.5, 0.5]], 2)[0], 0.509115, 1e-6);
  // One sample: no disagreement, MI 0.
  assert.equal(mutualInformation([[0.9, 0.1]], 2)[0], 0);
});

test('mutual information = entropy of the mean − expected entropy, and ≥ 0, on random samples', () => {
  let s = 12345;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const n = 50;
  const k = 4;
  const samples = Array.from({ length: 7 }, () => {
    const a = new Float32Array(n * k);
    for (let i = 0; i < n; i++) {
      let z = 0;
      for (let j = 0; j < k; j++) z += a[i * k + j] = rand() ** 3;
      for (let j = 0; j < k; j++) a[i * k + j] /= z;
    }
    return a;
  });
  const mi = mutualInformation(samples, k);
  const total = predictiveEntropy(meanProbabilities(samples), k);
  const aleatoric = expectedEntropy(samples, k);
  for (let i = 0; i < n; i++) {
    assert.ok(mi[i] >= 0);
    close(mi[i], Math.max(0, total[i] - aleatoric[i]), 1e-6, `example ${i}`);
  }
});

test('AUROC: 1 when OOD scores are all higher, 0 reversed, 0.5 for identical sets, ties count 1/2', () => {
  const lo = [0.1, 0.2, 0.3];
  const hi = [0.7, 0.8];
  assert.equal(auroc(lo, hi), 1);
  assert.equal(auroc(hi, lo), 0);
  assert.equal(auroc([0.4, 0.4, 0.6], [0.4, 0.4, 0.6]), 0.5);
  assert.equal(auroc(new Float32Array(5).fill(1), new Float32Array(3).fill(1)), 0.5);
  // Pairs (out, in): (.9,.1) 1, (.9,.8) 1, (.8,.1) 1, (.8,.8) 1/2 → 3.5/4.
  assert.equal(auroc([0.1, 0.8], [0.9, 0.8]), 0.875);
  // (.95 and .9 beat both; .15 beats .1 only) → 5/6
  close(auroc([0.1, 0.2], [0.15, 0.9, 0.95]), 5 / 6, 1e-12);
});

test('AUROC equals the pairwise count on random scores with ties', () => {
  let s = 7;
  const rand = () => ((s = (s * 69069 + 1) % 4294967296) / 4294967296);
  const scoresIn = Array.from({ length: 120 }, () => Math.round(rand() * 20) / 20);
  const scoresOut = Array.from({ length: 80 }, () => Math.round((rand() * 0.8 + 0.2) * 20) / 20);
  let wins = 0;
  for (const o of scoresOut) for (const i of scoresIn) wins += o > i ? 1 : o === i ? 0.5 : 0;
  close(auroc(scoresIn, scoresOut), wins / (scoresIn.length * scoresOut.length), 1e-12);
});

test('AUPR (average precision, step-wise): 1 when separable, hand values otherwise', () => {
  assert.equal(aupr([0.1, 0.2, 0.3], [0.7, 0.8]), 1);
  assert.equal(aupr([0.1, 0.2, 0.3], [0.7, 0.8], { positive: 'in' }), 1);
  assert.ok(aupr([0.7, 0.8], [0.1, 0.2, 0.3]) < 0.5); // scores pointing the wrong way
  // OOD positive: thresholds .9 (P 1, R .5), .8 with a tie (P 2/3, R 1) → .5·1 + .5·2/3.
  close(aupr([0.1, 0.8], [0.9, 0.8]), 0.833333, 1e-6);
  // Ranked .95o .9o .2i .15o .1i: R 1/3 P 1, R 2/3 P 1, (R unchanged), R 1 P 3/4 → 2/3 + 1/3·3/4.
  close(aupr([0.1, 0.2], [0.15, 0.9, 0.95]), 2 / 3 + 0.25, 1e-12);
  // In-distribution positive, ranked by −score: .1i .15o .2i ...: R .5 P 1, (R unchanged), R 1 P 2/3.
  close(aupr([0.1, 0.2], [0.15, 0.9, 0.95], { positive: 'in' }), 0.5 + 1 / 3, 1e-12);
  // All scores tied: one threshold, precision = the positive fraction.
  close(aupr([0.5, 0.5, 0.5], [0.5]), 0.25, 1e-12);
});

test('clear errors for mismatched shapes, bad labels and empty score sets', () => {
  assert.throws(() => accuracy(new Float32Array(5), [0, 1]), /do not split into 2 rows/);
  assert.throws(() => brierScore(new Float32Array(4), [0, 2]), /label 2 at example 1/);
  assert.throws(() => negativeLogLikelihood(new Float32Array(0), []), /no examples/);
  assert.throws(() => predictiveEntropy(new Float32Array(5), 2), /whole number of rows/);
  assert.throws(() => mutualInformation([], 2), /at least one sample/);
  assert.throws(() => mutualInformation([[0.5, 0.5], [1, 0, 0, 1]], 2), /sample 1 has 4 values/);
  assert.throws(() => auroc([], [1]), /scoresIn is empty/);
  assert.throws(() => aupr([1], [NaN]), /scoresOut\[0\] is NaN/);
  assert.throws(() => expectedCalibrationError([0.5, 0.5], [0], { bins: 0 }), /bins must be a positive integer/);
});
