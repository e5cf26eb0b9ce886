/** Stochastic quantization: errors by hand, selection counts for both rules, edge cases, statistics, hybrid tensor. */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import {
  SqQuantizer, binaryWeightValues, makeQuantizer, rouletteWithoutReplacement, sqDrawCount, sqHybridValues,
  sqRatioSchedule, sqRelativeErrors, sqSelect, stochasticQuantization, ternaryWeightValues,
} from '../src/quantizers';
import { Rng } from '../src/util/random';

const arr = (t: tf.Tensor): number[] => Array.from(t.dataSync());
const count = (m: ArrayLike<number>): number => Array.from(m).reduce((a, b) => a + b, 0);

function assertClose(actual: ArrayLike<number>, expected: number[], tol = 1e-6, msg = ''): void {
  assert.equal(actual.length, expected.length, `${msg} length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${msg} [${i}]: ${actual[i]} != ${expected[i]} (all: ${Array.from(actual)})`);
  }
}

before(async () => {
  await initEngine({ backend: 'wasm' });
});

describe('SQ errors and counts', () => {
  it('relative error per output channel (last axis) by hand, 0 for an all-zero channel', () => {
    // columns: [1, -3] (alpha 2: |1-2| + |-3+2| = 2, ||w|| = 4 -> 0.5), [2, 2] (exact: 0), [0, 0] (0)
    const w = tf.tensor2d([[1, 2, 0], [-3, 2, 0]]);
    const q = binaryWeightValues(w);
    assertClose(sqRelativeErrors(w, q), [0.5, 0, 0]);
    tf.dispose([w, q]);
  });

  it("counts: 'paper' quantizes round(r·C), 'code' keeps int((1 - r)·C) in full precision", () => {
    assert.equal(sqDrawCount(0.5, 10, 'paper'), 5);
    assert.equal(sqDrawCount(0.875, 64, 'paper'), 56);
    assert.equal(sqDrawCount(0.5, 10, 'code'), 5);
    assert.equal(sqDrawCount(0.875, 64, 'code'), 8);
    assert.equal(sqDrawCount(0.9, 10, 'code'), 1, 'float guard: (1 - 0.9) * 10 = 0.99999999');
    assert.equal(sqDrawCount(0.75, 3, 'code'), 0);
    assert.deepEqual(sqRatioSchedule, [0.5, 0.75, 0.875, 1.0]);
  });

  it('both rules select the right number of channels', () => {
    const rng = new Rng(1);
    const errors = Array.from({ length: 16 }, (_, i) => 0.05 + i / 40);
    for (const r of sqRatioSchedule) {
      assert.equal(count(sqSelect(errors, r, { rule: 'paper', rng })), Math.round(r * 16), `paper r=${r}`);
      assert.equal(16 - count(sqSelect(errors, r, { rule: 'code', rng })), Math.floor((1 - r) * 16 + 1e-9), `code r=${r}`);
    }
    for (const g of ['constant', 'linear', 'sigmoid', 'softmax'] as const) {
      assert.equal(count(sqSelect(errors, 0.25, { rule: 'paper', g, rng })), 4, `g=${g}`);
    }
  });
});

describe('SQ edge cases', () => {
  const errors = [0.1, 0.4, 0.2, 0.3];

  it('r = 0: nothing quantized (paper); code keeps every channel with e > 0 in full precision', () => {
    assert.deepEqual(Array.from(sqSelect(errors, 0, { rule: 'paper' })), [0, 0, 0, 0]);
    assert.deepEqual(Array.from(sqSelect(errors, 0, { rule: 'code' })), [0, 0, 0, 0]);
    assert.deepEqual(Array.from(sqSelect([0.1, 0, 0.2, 0], 0, { rule: 'code' })), [0, 1, 0, 1]);
  });

  it('r = 1: everything quantized, no draw (no rng needed)', () => {
    assert.deepEqual(Array.from(sqSelect(errors, 1, { rule: 'paper' })), [1, 1, 1, 1]);
    assert.deepEqual(Array.from(sqSelect(errors, 1, { rule: 'code' })), [1, 1, 1, 1]);
  });

  it('all-zero errors: code draws nobody (all quantized, Q = W there); paper still quantizes round(r·C)', () => {
    const zeros = [0, 0, 0, 0];
    assert.deepEqual(Array.from(sqSelect(zeros, 0.5, { rule: 'code', seed: 1 })), [1, 1, 1, 1]);
    assert.equal(count(sqSelect(zeros, 0.5, { rule: 'paper', seed: 1 })), 2);
  });

  it('empty selection: fewer drawable channels than N_r stops early', () => {
    // N_r = 2 but only channel 2 has a positive error
    assert.deepEqual(Array.from(sqSelect([0, 0, 0.5, 0], 0.5, { rule: 'code', seed: 3 })), [1, 1, 0, 1]);
    assert.deepEqual(rouletteWithoutReplacement([-Infinity, -Infinity], 2, new Rng(1)), []);
    assert.deepEqual(sqSelect([], 0.5, { rule: 'code', seed: 1 }).length, 0);
  });

  it('rejects bad options with clear errors', () => {
    assert.throws(() => sqSelect(errors, 1.5), /ratio must be a number in \[0, 1\]/);
    assert.throws(() => sqSelect(errors, 50), /percent/);
    assert.throws(() => sqSelect(errors, -0.1), /ratio/);
    assert.throws(() => sqSelect(errors, 0.5, { rule: 'nope' as 'paper', seed: 1 }), /unknown rule "nope"/);
    assert.throws(() => sqSelect(errors, 0.5, { g: 'cubic' as 'linear', seed: 1 }), /unknown g/);
    assert.throws(() => sqSelect(errors, 0.5), /rng.*seed/);
  });
});

describe('SQ statistics and reproducibility', () => {
  const errors = [0.1, 0.2, 0.3, 0.4];
  const trials = 4000;

  it('seeded: the same seed gives the same selections', () => {
    const run = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 20 }, () => Array.from(sqSelect(errors, 0.5, { rule: 'code', rng })).join(''));
    };
    assert.deepEqual(run(5), run(5));
    assert.notDeepEqual(run(5), run(6));
  });

  it("code rule: channels with larger error stay full precision more often (p ∝ e)", () => {
    const rng = new Rng(11);
    const fp = [0, 0, 0, 0];
    for (let t = 0; t < trials; t++) {
      const m = sqSelect(errors, 0.75, { rule: 'code', rng }); // N_r = 1
      for (let i = 0; i < 4; i++) fp[i] += 1 - m[i];
    }
    const share = fp.map((v) => v / trials);
    for (let i = 1; i < 4; i++) assert.ok(share[i] > share[i - 1], `monotone: ${share}`);
    assertClose(share, [0.1, 0.2, 0.3, 0.4], 0.03, 'p ∝ e');
  });

  it("paper rule (linear g): channels with larger error are quantized less often (p ∝ 1/e)", () => {
    const rng = new Rng(12);
    const quantized = [0, 0, 0, 0];
    for (let t = 0; t < trials; t++) {
      const m = sqSelect(errors, 0.25, { rule: 'paper', g: 'linear', rng }); // N_q = 1
      for (let i = 0; i < 4; i++) quantized[i] += m[i];
    }
    const inv = errors.map((e) => 1 / e);
    const z = inv.reduce((a, b) => a + b, 0);
    assertClose(quantized.map((v) => v / trials), inv.map((v) => v / z), 0.03, 'p ∝ 1/e');
    // softmax of 1/e is almost deterministic here: the smallest error wins
    const m = sqSelect(errors, 0.25, { rule: 'paper', g: 'softmax', rng });
    assert.deepEqual(Array.from(m), [1, 0, 0, 0]);
  });
});

describe('SQ hybrid tensor', () => {
  let w: tf.Tensor;
  before(() => {
    w = tf.tensor2d([[0.5, -1, 2, 0.1], [-1.5, 0.3, -0.2, 0.4], [0.25, 1, 1, -0.9]]);
  });

  it('selected channels get the base quantizer (BWN), the others stay full precision; STE gradient', () => {
    const mask = [1, 0, 1, 0];
    const bwn = arr(binaryWeightValues(w));
    const full = arr(w);
    const y = arr(sqHybridValues(w, mask));
    for (let i = 0; i < y.length; i++) assert.equal(y[i], mask[i % 4] ? bwn[i] : full[i], `element ${i}`);
    const dy = tf.tensor2d([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(stochasticQuantization(v, { ratio: 0.5, mask }), dy)))(w);
    assert.deepEqual(arr(g), arr(dy));
    tf.dispose([dy, g]);
  });

  it('TWN base: delta stays layer-wide (a quantized column equals that column of TWN(W))', () => {
    const twn = arr(ternaryWeightValues(w));
    const y = arr(sqHybridValues(w, [0, 1, 0, 0], { base: 'twn' }));
    const full = arr(w);
    for (let i = 0; i < y.length; i++) assert.equal(y[i], i % 4 === 1 ? twn[i] : full[i]);
  });

  it('r = 0 returns W, r = 1 returns base(W); draws are reproducible from a seed', () => {
    assert.deepEqual(arr(stochasticQuantization(w, { ratio: 0, rule: 'paper' })), arr(w));
    assert.deepEqual(arr(stochasticQuantization(w, { ratio: 0, rule: 'code' })), arr(w));
    assert.deepEqual(arr(stochasticQuantization(w, { ratio: 1, base: 'twn' })), arr(ternaryWeightValues(w)));
    const a = arr(stochasticQuantization(w, { ratio: 0.5, seed: 9 }));
    const b = arr(stochasticQuantization(w, { ratio: 0.5, seed: 9 }));
    assert.deepEqual(a, b);
    assert.throws(() => sqHybridValues(w, [1, 0]), /mask has 2 entries/);
  });

  it('no tensor leaks', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      stochasticQuantization(w, { ratio: 0.5, seed: 2, base: 'twn' });
      tf.grad((v: tf.Tensor) => tf.sum(stochasticQuantization(v, { ratio: 0.75, seed: 2, rule: 'code' })))(w);
    });
    assert.equal(tf.memory().numTensors, before);
  });
});

describe('SqQuantizer (stateful)', () => {
  it('draws on first use, redraws after each step, setRatio changes stage and spec', () => {
    const q = makeQuantizer({ name: 'stochasticQuantization', options: { ratio: 0.5, base: 'twn', rule: 'paper', seed: 4 } }) as SqQuantizer;
    assert.equal(q.bits, 2);
    const w = tf.variable(tf.randomNormal([3, 3, 2, 8], 0, 1, 'float32', 8));
    assert.equal(q.currentSelection(), null);
    tf.tidy(() => q.apply(w, true));
    const first = q.currentSelection() as Uint8Array;
    assert.equal(count(first), 4);
    const seen = new Set<string>([Array.from(first).join('')]);
    for (let step = 1; step <= 10; step++) {
      q.afterStep(step, w);
      const s = q.currentSelection() as Uint8Array;
      assert.equal(count(s), 4);
      seen.add(Array.from(s).join(''));
    }
    assert.ok(seen.size > 1, 'the selection is redrawn');
    q.setRatio(sqRatioSchedule[2]);
    assert.equal(q.currentSelection(), null);
    assert.equal(q.spec.options?.ratio, 0.875);
    tf.tidy(() => q.apply(w, true));
    assert.equal(count(q.currentSelection() as Uint8Array), 7);
    q.setRatio(1);
    assert.deepEqual(arr(q.quantizedValue(w)), arr(ternaryWeightValues(w)));
    assert.throws(() => q.setRatio(2), /ratio/);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      q.apply(w, true);
      q.quantizedValue(w);
    });
    q.afterStep(11, w);
    assert.equal(tf.memory().numTensors, before);
    w.dispose();
  });
});
