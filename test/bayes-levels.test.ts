import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { assignLevels, checkM, defaultLevelSpread, initLevels, partitions, separateLevels, sortLevels } from '../src/bayes/levels';

test.before(async () => {
  await initEngine({ backend: 'wasm' });
});

test('M must be an integer in 2..8', () => {
  for (const m of [2, 3, 5, 8]) checkM(m);
  for (const m of [0, 1, 9, 2.5, NaN]) assert.throws(() => checkM(m), /levels M in 2\.\.8/);
  assert.throws(() => initLevels(1, 0.1));
  assert.throws(() => initLevels(3, 0));
});

test('initLevels: ascending, evenly spaced over ±spread·std, an exact 0 for odd M', () => {
  for (let m = 2; m <= 8; m++) {
    const l = initLevels(m, 0.1);
    const a = defaultLevelSpread(m) * 0.1;
    assert.equal(l.length, m);
    assert.ok(Math.abs(l[0] + a) < 1e-12 && Math.abs(l[m - 1] - a) < 1e-12);
    for (let i = 1; i < m; i++) assert.ok(Math.abs(l[i] - l[i - 1] - (2 * a) / (m - 1)) < 1e-12);
    if (m % 2 === 1) assert.equal(l[(m - 1) / 2], 0);
    else assert.ok(!l.includes(0));
  }
  // Lloyd-Max for U(-b, b): M = 3 gives {-2b/3, 0, 2b/3}; std = b/sqrt(3).
  const b = 0.3;
  const l3 = initLevels(3, b / Math.sqrt(3));
  assert.ok(Math.abs(l3[2] - (2 * b) / 3) < 1e-12);
});

test('sortLevels sorts, keeps ties, and passes each gradient back to the entry it came from', () => {
  const raw = tf.tensor1d([0.3, -0.1, 0.3, -0.5]);
  assert.deepEqual(Array.from(sortLevels(raw).dataSync()).map((v) => +v.toFixed(6)), [-0.5, -0.1, 0.3, 0.3]);
  const w = tf.tensor1d([1, 2, 3, 4]); // weight per sorted position
  const g = tf.grad((r: tf.Tensor) => tf.sum(tf.mul(sortLevels(r), w)))(raw);
  // raw[3] -> pos 0, raw[1] -> pos 1, raw[0] -> pos 2, raw[2] -> pos 3 (tie keeps original order)
  assert.deepEqual(Array.from(g.dataSync()), [3, 2, 4, 1]);
});

test('assignLevels: nearest level, exact midpoints go to the lower level, extremes clamp', () => {
  const levels = tf.tensor1d([-0.5, 0, 0.75]); // partitions -0.25 and 0.375, exactly representable
  assert.deepEqual(Array.from(partitions(levels).dataSync()), [-0.25, 0.375]);
  const theta = tf.tensor1d([-10, -0.5, -0.25, -0.2499, 0, 0.375, 0.3751, 0.75, 10]);
  const { indices, quantized } = assignLevels(theta, levels);
  assert.equal(indices.dtype, 'int32');
  assert.deepEqual(Array.from(indices.dataSync()), [0, 0, 0, 1, 1, 1, 2, 2, 2]);
  assert.deepEqual(Array.from(quantized.dataSync()), [-0.5, -0.5, -0.5, 0, 0, 0, 0.75, 0.75, 0.75]);
  // Brute-force check against argmin |theta - r| with the lower-level tie rule, on random data and M = 2..8.
  for (let m = 2; m <= 8; m++) {
    const lv = Array.from({ length: m }, (_, i) => -1 + (2 * i) / (m - 1) + 0.03 * Math.sin(7 * i + m));
    const th = Array.from({ length: 500 }, (_, i) => 1.5 * Math.sin(i * 12.9898 + m));
    const got = Array.from(assignLevels(tf.tensor1d(th), tf.tensor1d(lv)).indices.dataSync());
    th.forEach((t, i) => {
      let best = 0;
      for (let k = 1; k < m; k++) if (Math.abs(t - lv[k]) < Math.abs(t - lv[best])) best = k;
      assert.equal(got[i], best, `M=${m} theta=${t}`);
    });
  }
});

test('assignLevels: asymmetric levels move the partitions; M = 2 has a single partition', () => {
  const { indices } = assignLevels(tf.tensor1d([-0.05, 0.049, 0.051, 0.3]), tf.tensor1d([-0.1, 0.2]));
  assert.deepEqual(Array.from(indices.dataSync()), [0, 0, 1, 1]); // partition at 0.05, not 0
});

test('Q(theta) is differentiable w.r.t. the levels: each level gets the upstream of its cell', () => {
  const theta = tf.tensor1d([-0.6, -0.4, 0.1, 0.7, 0.8]);
  const g = tf.grad((l: tf.Tensor) => tf.sum(assignLevels(theta, l).quantized))(tf.tensor1d([-0.5, 0, 0.75]));
  assert.deepEqual(Array.from(g.dataSync()), [2, 1, 2]);
  const gt = tf.grad((t: tf.Tensor) => tf.sum(assignLevels(t, tf.tensor1d([-0.5, 0, 0.75])).quantized))(theta);
  assert.deepEqual(Array.from(gt.dataSync()), [0, 0, 0, 0, 0]); // piecewise constant in theta
});

test('assignLevels equals the tensor-op formula bit for bit: index = #{p : θ > p}, p = (r_k + r_k+1)·0.5 in float32', () => {
  for (const m of [2, 3, 5, 8]) {
    const lv = tf.tensor1d(Array.from({ length: m }, (_, i) => -0.3 + (0.6 * i) / (m - 1) + 0.01 * Math.cos(3 * i + m)));
    const theta = tf.randomUniform([40, 50], -0.4, 0.4, 'float32', m);
    const p = partitions(lv);
    let ref = tf.zeros(theta.shape, 'int32');
    for (let k = 0; k < m - 1; k++) ref = tf.add(ref, tf.cast(tf.greater(theta, tf.reshape(tf.slice(p, [k], [1]), [])), 'int32'));
    const { indices, quantized } = assignLevels(theta, lv);
    assert.deepEqual(indices.shape, theta.shape);
    assert.deepEqual(Array.from(indices.dataSync()), Array.from(ref.dataSync()), `M=${m} indices`);
    assert.deepEqual(Array.from(quantized.dataSync()), Array.from(tf.gather(lv, ref.flatten()).dataSync()), `M=${m} Q(θ)`);
    // ∂/∂r_k of Σ w·Q(θ) = Σ of w over cell k
    const w = tf.randomNormal(theta.shape, 0, 1, 'float32', 10 + m);
    const g = tf.grad((l: tf.Tensor) => tf.sum(tf.mul(assignLevels(theta, l).quantized, w)))(lv).dataSync();
    const idx = ref.dataSync();
    const wv = w.dataSync();
    for (let k = 0; k < m; k++) {
      let want = 0;
      for (let i = 0; i < idx.length; i++) if (idx[i] === k) want += wv[i];
      assert.ok(Math.abs(g[k] - want) < 1e-4, `M=${m} dr[${k}] ${g[k]} vs ${want}`);
    }
  }
});

test('separateLevels: pushes too-close neighbours apart about their midpoint, leaves spaced levels alone', () => {
  // Span 0.3 over M-1 = 2 gaps: mean spacing 0.15, a quarter of it is 0.0375.
  // The pair (-0.1, -0.09) is spread about -0.095 to a quarter of the mean spacing of the final levels.
  const r = separateLevels([0.2, -0.1, -0.09], 0.25);
  const gap = (0.25 * (r[2] - r[0])) / 2;
  assert.ok(Math.abs(r[0] + r[1] + 0.19) < 1e-12, `midpoint kept: ${r}`);
  assert.ok(Math.abs(r[1] - r[0] - gap) < 1e-4 * gap, `${r}`);
  assert.ok(gap > 0.0375 && gap < 0.04, `${gap}`);
  assert.equal(r[2], 0.2);
  // Already spaced: only sorted.
  assert.deepEqual(separateLevels([0.3, -0.3, 0], 0.25), [-0.3, 0, 0.3]);
  // Three merged levels in the middle of M = 4: every adjacent gap ends at least the target (up to rounding).
  const m = separateLevels([-1, 0.5, 0.5, 0.5], 0.3);
  const g = (0.3 * (m[3] - m[0])) / 3;
  for (let k = 0; k + 1 < 4; k++) assert.ok(m[k + 1] - m[k] >= g * (1 - 1e-3), `${m}`);
  // fraction 0 only sorts; all-equal levels have no scale and stay; fraction >= 1 is rejected.
  assert.deepEqual(separateLevels([0.2, 0.1], 0), [0.1, 0.2]);
  assert.deepEqual(separateLevels([0.1, 0.1, 0.1], 0.25), [0.1, 0.1, 0.1]);
  assert.throws(() => separateLevels([0, 1], 1), /below 1/);
});
