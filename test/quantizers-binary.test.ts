/** binaryConnect, binaryTanh, binaryWeight, ternaryWeight: forward values and straight-through gradients by hand. */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import {
  binaryConnect, binaryTanh, binaryWeight, binaryWeightScale, ternaryThreshold, ternaryWeight, ternaryWeightParts,
} from '../src/quantizers';
import { Rng } from '../src/util/random';

const arr = (t: tf.Tensor): number[] => Array.from(t.dataSync());

function assertClose(actual: ArrayLike<number>, expected: number[], tol = 1e-6, msg = ''): void {
  assert.equal(actual.length, expected.length, `${msg} length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${msg} [${i}]: ${actual[i]} != ${expected[i]} (all: ${Array.from(actual)})`);
  }
}

/** Values and gradient of sum(c * f(x)): the gradient is the STE applied to dy = c. */
function valueAndGrad(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, c?: tf.Tensor): { y: number[]; g: number[] } {
  return tf.tidy(() => {
    const dy = c ?? tf.onesLike(x);
    const y = arr(f(x));
    const g = arr(tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v), dy)))(x));
    return { y, g };
  });
}

before(async () => {
  await initEngine({ backend: 'wasm' });
});

describe('binaryConnect', () => {
  it('deterministic: sign with sign(0) = +1 and a full straight-through gradient', () => {
    const x = tf.tensor1d([-2, -0.5, 0, 0.5, 2]);
    const c = tf.tensor1d([1, 2, 3, 4, 5]);
    const { y, g } = valueAndGrad((v) => binaryConnect(v), x, c);
    assert.deepEqual(y, [-1, -1, 1, 1, 1]);
    assert.deepEqual(g, [1, 2, 3, 4, 5]); // dy passes everywhere, even at |x| > 1
    tf.dispose([x, c]);
  });

  it('zeroTo and the Larq-style clipped STE (inclusive |x| <= clipValue)', () => {
    const x = tf.tensor1d([-2, -1, 0, 1, 2]);
    assert.deepEqual(valueAndGrad((v) => binaryConnect(v, { zeroTo: -1 }), x).y, [-1, -1, -1, 1, 1]);
    assert.deepEqual(valueAndGrad((v) => binaryConnect(v, { clipValue: 1 }), x).g, [0, 1, 1, 1, 0]);
    x.dispose();
  });

  it('stochastic: +1 with probability clip((x+1)/2, 0, 1), seeded, full STE', () => {
    const n = 4000;
    const x = tf.concat([tf.fill([n], 0), tf.fill([n], 0.5), tf.fill([n], -0.5), tf.fill([n], 1), tf.fill([n], -1.2)]);
    const q1 = arr(binaryConnect(x, { stochastic: true, seed: 42 }));
    const q2 = arr(binaryConnect(x, { stochastic: true, seed: 42 }));
    assert.deepEqual(q1, q2, 'same seed, same draw');
    assert.ok(q1.every((v) => v === 1 || v === -1));
    const share = (k: number) => q1.slice(k * n, (k + 1) * n).filter((v) => v === 1).length / n;
    assert.ok(Math.abs(share(0) - 0.5) < 0.03, `p(+1 | x=0) = ${share(0)}`);
    assert.ok(Math.abs(share(1) - 0.75) < 0.03, `p(+1 | x=0.5) = ${share(1)}`);
    assert.ok(Math.abs(share(2) - 0.25) < 0.03, `p(+1 | x=-0.5) = ${share(2)}`);
    assert.equal(share(3), 1, 'x >= 1 always +1');
    assert.equal(share(4), 0, 'x <= -1 always -1');
    const rng = new Rng(7);
    const a = arr(binaryConnect(x, { stochastic: true, rng }));
    const b = arr(binaryConnect(x, { stochastic: true, rng }));
    assert.notDeepEqual(a, b, 'an rng gives a fresh draw per call');
    const g = valueAndGrad((v) => binaryConnect(v, { stochastic: true, seed: 1 }), tf.tensor1d([-3, 0, 3])).g;
    assert.deepEqual(g, [1, 1, 1]);
    assert.throws(() => binaryConnect(x, { stochastic: true }), /seed/);
    x.dispose();
  });
});

describe('binaryTanh', () => {
  it('forward x > 0 ? 1 : -1 (so 0 -> -1), gradient only where |x| < 1 (nnabla: strict)', () => {
    const x = tf.tensor1d([-2, -1, -0.5, 0, 0.5, 1, 2]);
    const c = tf.tensor1d([1, 2, 3, 4, 5, 6, 7]);
    const { y, g } = valueAndGrad((v) => binaryTanh(v), x, c);
    assert.deepEqual(y, [-1, -1, -1, -1, 1, 1, 1]);
    assert.deepEqual(g, [0, 0, 3, 4, 5, 0, 0]);
    assert.deepEqual(valueAndGrad((v) => binaryTanh(v, { inclusive: true }), x, c).g, [0, 2, 3, 4, 5, 6, 0]);
    assert.deepEqual(valueAndGrad((v) => binaryTanh(v, { clipValue: 2 }), x, c).g, [0, 2, 3, 4, 5, 6, 0]);
    tf.dispose([x, c]);
  });
});

describe('binaryWeight (BWN)', () => {
  it('dense kernel [in, out]: alpha = mean |w| over axis 0, sign(0) = +1', () => {
    const w = tf.tensor2d([[1, -3], [-1, 1]]);
    assertClose(arr(binaryWeightScale(w)), [1, 2]);
    assert.deepEqual(arr(binaryWeight(w)), [1, -2, -1, 2]);
    const z = tf.tensor2d([[0, 2], [-2, 2]]);
    assert.deepEqual(arr(binaryWeight(z)), [1, 2, -1, 2]);
    tf.dispose([w, z]);
  });

  it('conv kernel [kh, kw, cin, cout]: alpha per output channel over axes 0, 1, 2', () => {
    const ch0 = [1, -1, 2, -2, 0.5, -0.5, 1.5, -1.5]; // mean |w| = 10/8 = 1.25
    const ch1 = [0.5, -0.5, 0, 0.5, -0.5, 0.5, 0.5, -0.5]; // mean |w| = 3.5/8 = 0.4375
    const flat: number[] = [];
    for (let p = 0; p < 8; p++) flat.push(ch0[p], ch1[p]);
    const w = tf.tensor4d(flat, [2, 2, 2, 2]);
    const alpha = binaryWeightScale(w);
    assert.deepEqual(alpha.shape, [1, 1, 1, 2]);
    assertClose(arr(alpha), [1.25, 0.4375]);
    const expected: number[] = [];
    for (let p = 0; p < 8; p++) expected.push(ch0[p] >= 0 ? 1.25 : -1.25, ch1[p] >= 0 ? 0.4375 : -0.4375);
    const c = tf.tensor4d(flat.map((_, i) => i + 1), [2, 2, 2, 2]);
    const { y, g } = valueAndGrad((v) => binaryWeight(v), w, c);
    assertClose(y, expected);
    // nnabla: full STE through sign, not multiplied by alpha, no gradient through alpha.
    assert.deepEqual(g, flat.map((_, i) => i + 1));
    tf.dispose([w, alpha, c]);
  });
});

describe('ternaryWeight (TWN)', () => {
  it('2x3 kernel by hand: delta = 0.7 * mean|w| (layer), alpha per output column, 0 if none above', () => {
    // columns (output channels): [1, -1], [0.1, 0.2], [-2, 2]; mean |w| = 6.3 / 6 = 1.05, delta = 0.735
    const w = tf.tensor2d([[1, 0.1, -2], [-1, 0.2, 2]]);
    assertClose(arr(ternaryThreshold(w)), [0.735], 1e-6);
    const parts = ternaryWeightParts(w);
    assert.deepEqual(arr(parts.t), [1, 0, -1, -1, 0, 1]);
    assertClose(arr(parts.alpha), [1, 0, 2]);
    tf.dispose([parts.t, parts.alpha, parts.delta]);
    const c = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const { y, g } = valueAndGrad((v) => ternaryWeight(v), w, c);
    assertClose(y, [1, 0, -2, -1, 0, 2]);
    assert.deepEqual(g, [1, 2, 3, 4, 5, 6], 'plain STE');
    // one layer-wide alpha: mean of |w| above delta = (1 + 2 + 1 + 2) / 4
    assertClose(arr(ternaryWeight(w, { perChannel: false })), [1.5, 0, -1.5, -1.5, 0, 1.5]);
    tf.dispose([w, c]);
  });

  it('the threshold is strict (|w| = delta -> 0) and an empty column gets alpha 0', () => {
    const w = tf.tensor2d([[1, 3], [-1, 3]]); // mean |w| = 2, factor 0.5 -> delta = 1 exactly
    const parts = ternaryWeightParts(w, { thresholdFactor: 0.5 });
    assert.deepEqual(arr(parts.delta), [1]);
    assert.deepEqual(arr(parts.t), [0, 1, 0, 1]);
    assert.deepEqual(arr(parts.alpha), [0, 3]);
    assert.deepEqual(arr(ternaryWeight(w, { thresholdFactor: 0.5 })), [0, 3, 0, 3]);
    tf.dispose([w, parts.t, parts.alpha, parts.delta]);
  });

  it("deltaRule 'sqCode': 0.7 * mean |w - mean(w)| as in the SQ Caffe code", () => {
    const w = tf.tensor2d([[1, 0.1, -2], [-1, 0.2, 2]]);
    // mean(w) = 0.05; |w - 0.05| = .95 .05 2.05 1.05 .15 1.95 -> mean 6.2/6; delta = 0.7 * 6.2 / 6
    assertClose(arr(ternaryThreshold(w, { deltaRule: 'sqCode' })), [0.7 * 6.2 / 6], 1e-6);
    assert.throws(() => ternaryThreshold(w, { deltaRule: 'nope' as 'paper' }), /deltaRule/);
    w.dispose();
  });
});

describe('no tensor leaks', () => {
  it('forward and gradient inside tf.tidy leave numTensors unchanged', () => {
    const w = tf.randomNormal([3, 3, 4, 5], 0, 1, 'float32', 3);
    const fns: Array<(x: tf.Tensor) => tf.Tensor> = [
      (x) => binaryConnect(x), (x) => binaryConnect(x, { stochastic: true, seed: 1, clipValue: 1 }),
      (x) => binaryTanh(x), (x) => binaryWeight(x), (x) => ternaryWeight(x),
    ];
    for (const f of fns) {
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        f(w);
        tf.grad((v: tf.Tensor) => tf.sum(f(v)))(w);
      });
      assert.equal(tf.memory().numTensors, before);
    }
    w.dispose();
  });
});
