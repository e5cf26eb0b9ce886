/** fixedPoint and pow2 (nnabla semantics): rounding ties, clamp boundaries, gradient masks, with-zero threshold. */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { fixedPoint, fixedPointRange, nearestPow2, pow2, pow2Range, roundHalfAwayFromZero } from '../src/quantizers';

const arr = (t: tf.Tensor): number[] => Array.from(t.dataSync());

function valueAndGrad(f: (x: tf.Tensor) => tf.Tensor, values: number[]): { y: number[]; g: number[] } {
  return tf.tidy(() => {
    const x = tf.tensor1d(values);
    const dy = tf.tensor1d(values.map((_, i) => i + 1));
    const y = arr(f(x));
    const g = arr(tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v), dy)))(x));
    return { y, g };
  });
}

/** The gradient as a 0/1 pass mask (dy_i = i + 1). */
const passMask = (g: number[]): number[] => g.map((v, i) => (v === i + 1 ? 1 : v === 0 ? 0 : Number.NaN));

before(async () => {
  await initEngine({ backend: 'wasm' });
});

describe('roundHalfAwayFromZero', () => {
  it('rounds ties away from zero (tf.round rounds them to even)', () => {
    const x = tf.tensor1d([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, 2.4, -2.6, 0]);
    assert.deepEqual(arr(roundHalfAwayFromZero(x)), [1, 2, 3, -1, -2, -3, 0, 2, -3, 0]);
    x.dispose();
  });
});

describe('fixedPoint', () => {
  it('range: signed n bits -> ±(2^(n-1) - 1)·delta, unsigned -> [0, (2^n - 1)·delta]', () => {
    assert.deepEqual(fixedPointRange(), { min: -7.9375, max: 7.9375, delta: 0.0625 });
    assert.deepEqual(fixedPointRange({ bits: 3, delta: 1, signed: false }), { min: 0, max: 7, delta: 1 });
  });

  it('signed: ties 0.5δ, 1.5δ, 2.5δ and negative ties round away from zero; clamp at ±max', () => {
    const opts = { bits: 4, delta: 0.5 }; // max = 7 * 0.5 = 3.5
    const x = [0.25, 0.75, 1.25, -0.25, -0.75, -1.25, 0.2, -0.2, 3.5, 3.6, -3.5, -4, 3.4];
    const { y, g } = valueAndGrad((v) => fixedPoint(v, opts), x);
    assert.deepEqual(y, [0.5, 1, 1.5, -0.5, -1, -1.5, 0, -0, 3.5, 3.5, -3.5, -3.5, 3.5]);
    // fine-grained STE: pass where min <= x <= max, both bounds inclusive
    assert.deepEqual(passMask(g), [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1]);
  });

  it('unsigned: [0, (2^n - 1)·delta], negative inputs clamp to 0 with no gradient', () => {
    const opts = { bits: 3, delta: 1, signed: false };
    const { y, g } = valueAndGrad((v) => fixedPoint(v, opts), [-0.2, 0, 0.5, 6.5, 7, 7.4]);
    assert.deepEqual(y, [0, 0, 1, 7, 7, 7]);
    assert.deepEqual(passMask(g), [0, 1, 1, 1, 1, 0]);
  });

  it('steFineGrained false passes dy everywhere', () => {
    const { g } = valueAndGrad((v) => fixedPoint(v, { bits: 4, delta: 0.5, steFineGrained: false }), [-9, 0, 9]);
    assert.deepEqual(g, [1, 2, 3]);
  });

  it('rejects bad options', () => {
    assert.throws(() => fixedPointRange({ bits: 1 }), /bits must be an integer >= 2/);
    assert.throws(() => fixedPointRange({ bits: 0, signed: false }), /bits must be an integer >= 1/);
    assert.throws(() => fixedPointRange({ delta: 0 }), /delta/);
    assert.throws(() => fixedPointRange({ bits: 2.5 }), /bits/);
  });
});

describe('pow2', () => {
  it('range: signed without zero n=8 m=1 -> [2^-126, 2]; with zero halves the exponent codes', () => {
    assert.deepEqual(pow2Range({ bits: 8, m: 1, withZero: false }), { pMin: 2 ** -126, pMax: 2, pruningThreshold: 2 ** -126 * 2 ** -0.5 });
    assert.equal(pow2Range({ bits: 8, m: 1 }).pMin, 2 ** (1 - 63));
    assert.equal(pow2Range({ bits: 4, m: 0, signed: false, withZero: false }).pMin, 2 ** -15);
    assert.throws(() => pow2Range({ bits: 2 }), /bits must be an integer >= 3/);
    assert.throws(() => pow2Range({ bits: 0, signed: false, withZero: false }), /bits/);
  });

  it('nearest power of two in the log domain: the boundary is 2^k·√2', () => {
    const a = tf.tensor1d([1.4142, 1.4143, 0.7071, 0.70711, 2.8284, 2.8285, 1, 2, 8, 0.125, 0, 3, 0.3]);
    assert.deepEqual(arr(nearestPow2(a)), [1, 2, 0.5, 1, 2, 4, 1, 2, 8, 0.125, 0, 4, 0.25]);
    a.dispose();
  });

  it('signed, no zero (the nnabla example): clamp to [2^-126, 2], gradient cut where the rounded q > 2^m', () => {
    const opts = { bits: 8, m: 1, withZero: false };
    const x = [3, -3, 1.4142, 1.4143, 0.7071, 0.70711, -0.3, 0, 1, 2, 2.8, 2.9, -2.9];
    const { y, g } = valueAndGrad((v) => pow2(v, opts), x);
    assert.deepEqual(y, [2, -2, 1, 2, 0.5, 1, -0.25, 2 ** -126, 1, 2, 2, 2, -2]);
    // 2.8 < 2√2 rounds to 2 = p_max: passes; 2.9 and 3 round to 4 > p_max: cut. No cut at the small end.
    assert.deepEqual(passMask(g), [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
  });

  it('with zero: values below p_min·2^-1/2 are pruned to 0, values above go to p_min', () => {
    const opts = { bits: 4, m: 0 }; // signed + zero: n' = 2, p_min = 2^-3, p_max = 1, threshold 0.0884
    const r = pow2Range(opts);
    assert.equal(r.pMin, 0.125);
    assert.ok(Math.abs(r.pruningThreshold - 0.125 / Math.SQRT2) < 1e-12);
    const x = [0.06, 0.08, 0.088, 0.0885, 0.09, -0.2, 0, -0.088, -0.0885, 5];
    const { y, g } = valueAndGrad((v) => pow2(v, opts), x);
    assert.deepEqual(y, [0, 0, 0, 0.125, 0.125, -0.25, 0, -0, -0.125, 1]);
    assert.deepEqual(passMask(g), [1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
  });

  it('unsigned: negative x -> p_min (no zero) or 0 (with zero), and no gradient for x < 0', () => {
    const noZero = valueAndGrad((v) => pow2(v, { bits: 3, m: 0, signed: false, withZero: false }), [-0.5, 0, 0.5, 0.3]);
    assert.deepEqual(noZero.y, [2 ** -7, 2 ** -7, 0.5, 0.25]);
    assert.deepEqual(passMask(noZero.g), [0, 1, 1, 1]);
    const withZero = valueAndGrad((v) => pow2(v, { bits: 3, m: 0, signed: false, withZero: true }), [-0.5, 0, 0.5, 0.001]);
    assert.deepEqual(withZero.y, [0, 0, 0.5, 0]);
    assert.deepEqual(passMask(withZero.g), [0, 1, 1, 1]);
  });

  it('steFineGrained false passes dy everywhere', () => {
    const { g } = valueAndGrad((v) => pow2(v, { steFineGrained: false, signed: false }), [-9, 0, 9]);
    assert.deepEqual(g, [1, 2, 3]);
  });
});

describe('no tensor leaks', () => {
  it('forward and gradient inside tf.tidy leave numTensors unchanged', () => {
    const w = tf.randomNormal([4, 6], 0, 2, 'float32', 5);
    for (const f of [(x: tf.Tensor) => fixedPoint(x), (x: tf.Tensor) => pow2(x), (x: tf.Tensor) => pow2(x, { signed: false })]) {
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
