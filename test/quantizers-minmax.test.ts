/** minMax (nnabla min_max_quantize): nudging by hand, ties, gradients for x and for the learned range, EMA. */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { MinMaxQuantizer, makeQuantizer, minMax, minMaxBits, minMaxParams, minMaxValues } from '../src/quantizers';
import type { AddWeight } from '../src/quantizers';

const arr = (t: tf.Tensor): number[] => Array.from(t.dataSync());

function assertClose(actual: ArrayLike<number>, expected: number[], tol = 1e-6, msg = ''): void {
  assert.equal(actual.length, expected.length, `${msg} length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${msg} [${i}]: ${actual[i]} != ${expected[i]} (all: ${Array.from(actual)})`);
  }
}

/** A stand-in for a layer's addWeight. */
const fakeAddWeight: AddWeight = (name, shape, _init, trainable) =>
  new tf.LayerVariable(tf.zeros(shape), 'float32', name, trainable);

before(async () => {
  await initEngine({ backend: 'wasm' });
});

describe('minMax: nudged zero point', () => {
  it('qr = [-1, 1.5], ql = [0, 4] by hand: scale 0.625, zp round(1.6) = 2, range nudged to [-1.25, 1.25]', () => {
    const p = minMaxParams(tf.scalar(-1), tf.scalar(1.5), 0, 4, 0.01);
    assertClose(arr(p.scale), [0.625]);
    assert.deepEqual(arr(p.zeroPoint), [2]);
    assertClose(arr(p.qrMin), [-1.25]);
    assertClose(arr(p.qrMax), [1.25]);
    tf.dispose([p.scale, p.zeroPoint, p.qrMin, p.qrMax]);
  });

  it('zero point clamped to ql_min when qr_min > 0, and the eps nudge of an empty range', () => {
    const p = minMaxParams(tf.scalar(0.5), tf.scalar(2.5), 0, 4, 0.01); // zp = -1 <= 0 -> 0: range [0, 2]
    assert.deepEqual(arr(p.zeroPoint), [0]);
    assertClose(arr(p.qrMin), [0]);
    assertClose(arr(p.qrMax), [2]);
    const e = minMaxParams(tf.scalar(0), tf.scalar(0), 0, 255, 0.01); // qr_max -> qr_min + eps
    assertClose(arr(e.scale), [0.01 / 255], 1e-9);
    assertClose(arr(e.qrMax), [0.01], 1e-7);
    tf.dispose([p.scale, p.zeroPoint, p.qrMin, p.qrMax, e.scale, e.zeroPoint, e.qrMin, e.qrMax]);
  });
});

describe('minMax: values and gradients', () => {
  const opts = { qlMin: 0, qlMax: 4 };
  // levels -1.25, -0.625, 0, 0.625, 1.25
  const xs = [-2, -1.25, -1.2, -0.3125, 0.3125, 1.0, 1.25, 1.3];

  it('forward: clip to the nudged range, round half away from zero (ties go up: levels >= 0)', () => {
    const x = tf.tensor1d(xs);
    const y = minMaxValues(x, { ...opts, qrMin: -1, qrMax: 1.5 });
    // -0.3125 -> level 1.5 -> 2 -> 0; 0.3125 -> level 2.5 -> 3 -> 0.625 (tf.round would give 0 and 0)
    assertClose(arr(y), [-1.25, -1.25, -1.25, 0, 0.625, 1.25, 1.25, 1.25]);
    tf.dispose([x, y]);
  });

  it('gradients: x masked to [qr_min\', qr_max\'] (inclusive); qr_min/qr_max get the sums of dy outside', () => {
    const x = tf.tensor1d(xs);
    const dy = tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8]);
    const lo = tf.scalar(-1);
    const hi = tf.scalar(1.5);
    const [gx, glo, ghi] = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      tf.sum(tf.mul(minMax(a, { ...opts, qrMin: b, qrMax: c }), dy)))([x, lo, hi]);
    // x = 1.3 lies inside [qr_min, qr_max] = [-1, 1.5] but outside the nudged [-1.25, 1.25]: cut.
    assert.deepEqual(arr(gx), [0, 2, 3, 4, 5, 6, 7, 0]);
    assert.deepEqual(arr(glo), [1]); // sum(dy * [x < -1.25])
    assert.deepEqual(arr(ghi), [8]); // sum(dy * [x > 1.25])
    const [gx2] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(minMax(a, { ...opts, qrMin: -1, qrMax: 1.5, steFineGrained: false }), dy)))([x]);
    assert.deepEqual(arr(gx2), [1, 2, 3, 4, 5, 6, 7, 8]);
    tf.dispose([x, dy, lo, hi, gx, glo, ghi, gx2]);
  });

  it('range gradients are summed to the shape of broadcast bounds', () => {
    const x = tf.tensor2d([[-3, 0], [3, 0.5]]);
    const lo = tf.tensor1d([-1]);
    const hi = tf.tensor1d([1]);
    const [glo, ghi] = tf.grads((b: tf.Tensor, c: tf.Tensor) => tf.sum(minMax(x, { qrMin: b, qrMax: c })))([lo, hi]);
    assert.deepEqual(glo.shape, [1]);
    assert.deepEqual(arr(glo), [1]);
    assert.deepEqual(arr(ghi), [1]);
    tf.dispose([x, lo, hi, glo, ghi]);
  });

  it('bits = log2(ql_max - ql_min + 1); bad levels are rejected', () => {
    assert.equal(minMaxBits(0, 255), 8);
    assert.equal(minMaxBits(-128, 127), 8);
    assert.equal(minMaxBits(0, 4), 3);
    assert.throws(() => minMaxValues(tf.scalar(0), { qlMin: 4, qlMax: 4 }), /qlMax/);
  });
});

describe('MinMaxQuantizer (stateful)', () => {
  it('learnable range: trainable weights that an optimizer step moves', () => {
    const q = makeQuantizer({ name: 'minMax', options: { qrMin: -1, qrMax: 1.5, qlMin: 0, qlMax: 4 } }) as MinMaxQuantizer;
    assert.equal(q.bits, 3);
    q.build([2], fakeAddWeight);
    const [lo, hi] = q.rangeVariables();
    assert.equal(lo.trainable, true);
    assert.deepEqual(q.range(), [-1, 1.5]);
    const x = tf.tensor1d([-2, 3]);
    const { grads } = tf.variableGrads(() => tf.sum(q.apply(x, true)) as tf.Scalar, [lo, hi]);
    assert.deepEqual(arr(grads[lo.name]), [1]);
    assert.deepEqual(arr(grads[hi.name]), [1]);
    tf.train.sgd(0.1).applyGradients(grads);
    assertClose(q.range(), [-1.1, 1.4]); // loss = sum(q): both range gradients are +1
    tf.dispose([x, ...Object.values(grads)]);
  });

  it('xMinMax: the range follows each input; with ema: qr = 0.999·qr + 0.001·min/max(x), training only', () => {
    const q = makeQuantizer({ name: 'minMax', options: { xMinMax: true } }) as MinMaxQuantizer;
    const x = tf.tensor1d([-1, 0.5, 3]);
    tf.tidy(() => q.apply(x, false));
    assertClose(q.range(), [-1, 3]);
    assert.equal(q.rangeVariables()[0].trainable, false);

    const e = makeQuantizer({ name: 'minMax', options: { xMinMax: true, ema: true } }) as MinMaxQuantizer;
    tf.tidy(() => e.apply(x, true));
    assertClose(e.range(), [0.999 * -6 + 0.001 * -1, 0.999 * 6 + 0.001 * 3], 1e-5);
    tf.tidy(() => e.apply(x, false));
    assertClose(e.range(), [0.999 * -6 + 0.001 * -1, 0.999 * 6 + 0.001 * 3], 1e-5, 'no update at evaluation');
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      e.apply(x, true);
      e.quantizedValue(x);
    });
    assert.equal(tf.memory().numTensors, before, 'no leak from the EMA update');
    x.dispose();
  });
});

describe('no tensor leaks', () => {
  it('forward and gradients inside tf.tidy leave numTensors unchanged', () => {
    const x = tf.randomNormal([5, 7], 0, 3, 'float32', 2);
    const lo = tf.variable(tf.scalar(-2));
    const hi = tf.variable(tf.scalar(2));
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      minMax(x);
      tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(minMax(a, { qrMin: b, qrMax: c })))([x, lo, hi]);
    });
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, lo, hi]);
  });
});
