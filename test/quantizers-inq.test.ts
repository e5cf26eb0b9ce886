/** INQ: exponent range and values by hand, schedule boundaries, fixed weights frozen through optimizer steps. */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import {
  InqQuantizer, inq, inqExponentRange, inqLargestAbsHalf, inqQuantizeArray, inqQuantizeValues, makeQuantizer,
} from '../src/quantizers';

const arr = (t: tf.Tensor): number[] => Array.from(t.dataSync());

before(async () => {
  await initEngine({ backend: 'wasm' });
});

describe('INQ values', () => {
  it('exponent range: n1 = floor(log2 s) + [frac >= log2 1.5], n2 = n1 + 1 - 2^(b-2)', () => {
    assert.deepEqual(inqExponentRange(1, 4), { n1: 0, n2: -3, pruningThreshold: 2 ** -4 });
    assert.equal(inqExponentRange(1.5, 4).n1, 1, 's = 1.5 is the arithmetic mean of 1 and 2: rounds up');
    assert.equal(inqExponentRange(1.49, 4).n1, 0);
    assert.equal(inqExponentRange(3, 4).n1, 2);
    assert.equal(inqExponentRange(0.3, 4).n1, -2);
    assert.equal(inqExponentRange(0, 4).n1, 0, 'all-zero tensor: s = 1');
    assert.equal(inqExponentRange(1, 5).n2, -7);
    assert.equal(inqExponentRange(1, 2).n2, 0, '2 bits: one magnitude 2^n1 and zero');
    assert.throws(() => inqExponentRange(1, 1), /numBits/);
  });

  it('values by hand (b = 4, max |w| = 1 -> exponents -3..0, zero below 2^-4)', () => {
    const w = [1.0, -0.75, 0.74, 0.3, 0.0625, 0.06, -0.1, 0, 0.375];
    // 0.75 = 1.5 * 2^-1 rounds up to 2^0; 0.0625 = 2^-4 is kept and clamped up to 2^n2 = 0.125.
    assert.deepEqual(Array.from(inqQuantizeArray(w, 4)), [1, -1, 0.5, 0.25, 0.125, 0, -0.125, 0, 0.5]);
    const t = tf.tensor2d(w.slice(0, 8), [2, 4]);
    const q = inqQuantizeValues(t, 4);
    assert.deepEqual(q.shape, [2, 4]);
    assert.deepEqual(arr(q), [1, -1, 0.5, 0.25, 0.125, 0, -0.125, 0]);
    // b = 3, max 5.9 -> n1 = 2, n2 = 1: 3 = 1.5 * 2 rounds up to 4; 1.4 (>= 2^(n2-1) = 1) is clamped up to 2^n2
    assert.deepEqual(Array.from(inqQuantizeArray([3, 1.4, -5.9, 0.99], 3)), [4, 2, -4, 0]);
    tf.dispose([t, q]);
  });

  it("nnabla's largest_abs count: max(1, floor(L/2)) of the free weights, largest |w| first", () => {
    assert.deepEqual(inqLargestAbsHalf([0.1, -5, 3, 0.2, -4], [0, 0, 0, 0, 0]), [1, 4]);
    assert.deepEqual(inqLargestAbsHalf([0.1, -5, 3, 0.2, -4], [0, 1, 0, 0, 1]), [2]);
    assert.deepEqual(inqLargestAbsHalf([0.1, -5], [0, 1]), [0]);
    assert.deepEqual(inqLargestAbsHalf([0.1, -5], [1, 1]), []);
  });

  it('inq(): fixed weights take their values, learnable ones pass; gradient only for learnable weights', () => {
    const w = tf.tensor1d([0.3, -0.7, 0.9, 0.1]);
    const mask = tf.tensor1d([0, 1, 1, 0]);
    const fixedValues = tf.tensor1d([0, -0.5, 1, 0]);
    assert.deepEqual(arr(inq(w, { mask, fixedValues })), [Math.fround(0.3), -0.5, 1, Math.fround(0.1)]);
    const dy = tf.tensor1d([1, 2, 3, 4]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(inq(v, { mask, fixedValues }), dy)))(w);
    assert.deepEqual(arr(g), [1, 0, 0, 4]);
    const gAll = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(inq(v, { mask, fixedValues, gradient: 'all' }), dy)))(w);
    assert.deepEqual(arr(gAll), [1, 2, 3, 4]);
    // without fixed values: nnabla's on-the-fly re-quantization (max |w| = 0.9 -> n1 = 0)
    assert.deepEqual(arr(inq(w, { mask })), [Math.fround(0.3), -0.5, 1, Math.fround(0.1)]);
    tf.dispose([w, mask, fixedValues, dy, g, gAll]);
  });
});

describe('InqQuantizer schedule', () => {
  const init = [0.9, -0.05, 0.3, -0.6, 0.12, 0.45, -0.2, 0.02];

  it('fixes half of the free weights at each scheduled step, all at the last; nothing in between', () => {
    const q = makeQuantizer({ name: 'inq', options: { schedule: [3, 5, 7] } }) as InqQuantizer;
    assert.equal(q.bits, 4);
    const w = tf.variable(tf.tensor1d(init));
    const fixedAfter: number[] = [];
    for (let step = 1; step <= 8; step++) {
      q.afterStep(step, w);
      fixedAfter.push(Math.round(q.fixedFraction() * 8));
    }
    // step:          1  2  3  4  5  6  7  8
    assert.deepEqual(fixedAfter, [0, 0, 4, 4, 6, 6, 8, 8]);
    // max |w| = 0.9 -> n1 = 0, n2 = -3, zero below 2^-4
    assert.deepEqual(arr(w), [1, 0, 0.25, -0.5, 0.125, 0.5, -0.25, 0]);
    w.dispose();
  });

  it('which weights: the largest |w| first (step 3 fixes 0.9, -0.6, 0.45, 0.3)', () => {
    const q = new InqQuantizer({ name: 'inq' }, { schedule: [3, 5, 7] });
    const w = tf.variable(tf.tensor1d(init));
    q.afterStep(2, w);
    assert.deepEqual(arr(q.mask([8])), [0, 0, 0, 0, 0, 0, 0, 0], 'step before: nothing fixed');
    q.afterStep(3, w);
    assert.deepEqual(arr(q.mask([8])), [1, 0, 1, 1, 0, 1, 0, 0]);
    assert.deepEqual(arr(w).map((v) => Math.fround(v)), [1, -0.05, 0.25, -0.5, 0.12, 0.5, -0.2, 0.02].map(Math.fround));
    q.afterStep(4, w);
    assert.deepEqual(arr(q.mask([8])), [1, 0, 1, 1, 0, 1, 0, 0], 'step after: unchanged');
    q.afterStep(5, w); // free: -0.05, 0.12, -0.2, 0.02 -> fix -0.2, 0.12
    assert.deepEqual(arr(q.mask([8])), [1, 0, 1, 1, 1, 1, 1, 0]);
    q.dispose();
    w.dispose();
  });

  it('fixed weights never change through optimizer steps (Adam with momentum); free ones keep learning', () => {
    const q = new InqQuantizer({ name: 'inq' }, { schedule: [2, 6] });
    const w = tf.variable(tf.tensor1d(init));
    const target = tf.tensor1d([1, 1, 1, 1, 1, 1, 1, 1]);
    const opt = tf.train.adam(0.05);
    let fixedSnapshot: number[] | null = null;
    let mask: number[] = [];
    for (let step = 1; step <= 5; step++) {
      opt.minimize(() => tf.sum(tf.square(tf.sub(q.apply(w, true), target))) as tf.Scalar, false, [w]);
      q.afterStep(step, w);
      const now = arr(w);
      if (step === 2) {
        mask = arr(q.mask([8]));
        fixedSnapshot = now;
      } else if (fixedSnapshot) {
        for (let i = 0; i < 8; i++) {
          if (mask[i]) assert.equal(now[i], fixedSnapshot[i], `fixed weight ${i} moved at step ${step}`);
        }
        assert.ok(now.some((v, i) => !mask[i] && v !== fixedSnapshot![i]), 'free weights still learn');
      }
    }
    assert.deepEqual(mask, [1, 0, 1, 1, 0, 1, 0, 0]);
    // the quantized value used at inference: fixed weights at powers of two
    const qv = arr(q.quantizedValue(w));
    for (let i = 0; i < 8; i++) if (mask[i]) assert.ok(Number.isInteger(Math.log2(Math.abs(qv[i]))), `${qv[i]} is a power of two`);
    q.afterStep(6, w);
    assert.equal(q.fixedFraction(), 1);
    const all = arr(w);
    assert.ok(all.every((v) => v === 0 || Number.isInteger(Math.log2(Math.abs(v)))), `all powers of two: ${all}`);
    opt.dispose();
    q.dispose();
    tf.dispose([w, target]);
  });

  it("'random' selection is reproducible from its seed", () => {
    const draw = (seed: number) => {
      const q = new InqQuantizer({ name: 'inq' }, { schedule: [1, 2], selection: 'random', seed });
      const w = tf.variable(tf.randomNormal([64], 0, 1, 'float32', 1));
      q.afterStep(1, w);
      const m = arr(q.mask([64]));
      q.dispose();
      w.dispose();
      return m;
    };
    assert.deepEqual(draw(3), draw(3));
    const share = draw(3).reduce((a, b) => a + b, 0) / 64;
    assert.ok(share > 0.3 && share < 0.7, `about half fixed: ${share}`);
  });

  it('rejects bad options', () => {
    assert.throws(() => makeQuantizer({ name: 'inq', options: { numBits: 1 } }), /numBits/);
    assert.throws(() => makeQuantizer({ name: 'inq', options: { schedule: [] } }), /schedule/);
    assert.throws(() => makeQuantizer({ name: 'inq', options: { schedule: [1.5] } }), /schedule/);
    assert.throws(() => makeQuantizer({ name: 'inq', options: { selection: 'smallest' } }), /selection/);
  });

  it('no tensor leaks around apply, afterStep and quantizedValue', () => {
    const q = new InqQuantizer({ name: 'inq' }, { schedule: [1, 3] });
    const w = tf.variable(tf.tensor1d(init));
    tf.tidy(() => q.apply(w, true)); // first call creates the state
    q.afterStep(1, w);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      q.apply(w, true);
      tf.grad((v: tf.Tensor) => tf.sum(q.apply(v, true)))(w);
      q.quantizedValue(w);
    });
    q.afterStep(2, w);
    q.afterStep(3, w);
    assert.equal(tf.memory().numTensors, before);
    q.dispose();
    w.dispose();
  });
});
