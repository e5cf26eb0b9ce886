/** makeQuantizer for every name: bits, gradients through apply, errors for bad specs; FlipRatio by hand; leaks. */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import {
  FlipRatio, describeOption, makeQuantizer, quantizerDefaults, quantizerDescriptor, quantizerDescriptors, quantizerNames,
  quantizerOptionNames, quantizerOptionsError, quantizers,
} from '../src/quantizers';
import type { AddWeight, QuantizerSpec } from '../src/quantizers';

const arr = (t: tf.Tensor): number[] => Array.from(t.dataSync());

const fakeAddWeight: AddWeight = (name, shape, _init, trainable) =>
  new tf.LayerVariable(tf.zeros(shape), 'float32', name, trainable);

before(async () => {
  await initEngine({ backend: 'wasm' });
});

const CASES: Array<[QuantizerSpec, number]> = [
  [{ name: 'none' }, 32],
  [{ name: 'identity' }, 32],
  [{ name: 'binaryConnect' }, 1],
  [{ name: 'binaryConnect', options: { stochastic: true, seed: 3 } }, 1],
  [{ name: 'binaryTanh' }, 1],
  [{ name: 'binaryWeight' }, 1],
  [{ name: 'ternaryWeight', options: { deltaRule: 'sqCode' } }, 2],
  [{ name: 'fixedPoint', options: { bits: 6, delta: 0.25 } }, 6],
  [{ name: 'pow2', options: { bits: 5, m: 0, withZero: false } }, 5],
  [{ name: 'minMax' }, 8],
  [{ name: 'minMax', options: { qlMin: 0, qlMax: 15, qrMin: -2, qrMax: 2 } }, 4],
  [{ name: 'inq' }, 4],
  [{ name: 'inq', options: { numBits: 5, schedule: [1, 2] } }, 5],
  [{ name: 'stochasticQuantization', options: { ratio: 0.5 } }, 1],
  [{ name: 'stochasticQuantization', options: { ratio: 0.75, base: 'twn', rule: 'code', seed: 2 } }, 2],
];

describe('makeQuantizer', () => {
  it('knows every method of the zoo', () => {
    assert.deepEqual([...quantizerNames].sort(), [
      'binaryConnect', 'binaryTanh', 'binaryWeight', 'fixedPoint', 'identity', 'inq', 'minMax', 'none', 'pow2',
      'stochasticQuantization', 'ternaryWeight',
    ]);
    assert.deepEqual(Object.keys(quantizers).sort(), [
      'binaryConnect', 'binaryTanh', 'binaryWeight', 'fixedPoint', 'inq', 'minMax', 'pow2', 'stochasticQuantization',
      'ternaryWeight',
    ]);
  });

  for (const [spec, bits] of CASES) {
    it(`${JSON.stringify(spec)}: ${bits} bits, shape-preserving apply with a gradient, stable memory`, () => {
      const q = makeQuantizer(spec);
      assert.equal(q.bits, bits);
      assert.deepEqual(JSON.parse(JSON.stringify(q.spec)), spec);
      const shape = [3, 3, 2, 4];
      q.build?.(shape, fakeAddWeight);
      const w = tf.variable(tf.randomNormal(shape, 0, 0.5, 'float32', 21));
      tf.tidy(() => q.apply(w, true)); // first call may create state (selections, snapshots)
      q.afterStep?.(1, w);
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const y = q.apply(w, true);
        assert.deepEqual(y.shape, shape);
        const { grads } = tf.variableGrads(() => tf.sum(tf.square(q.apply(w, true))) as tf.Scalar, [w]);
        assert.ok(arr(grads[w.name]).some((v) => v !== 0), 'some gradient reaches the latent weights');
        const v = q.quantizedValue ? q.quantizedValue(w) : q.apply(w, false);
        assert.deepEqual(v.shape, shape);
        assert.notEqual(v, w, 'never the variable itself');
      });
      q.afterStep?.(2, w);
      assert.equal(tf.memory().numTensors, before, 'no leaked tensors');
      w.dispose();
    });
  }

  it('quantizedValue equals the evaluation forward for deterministic quantizers', () => {
    const w = tf.randomNormal([4, 5], 0, 1, 'float32', 4);
    for (const name of ['binaryConnect', 'binaryTanh', 'binaryWeight', 'ternaryWeight', 'fixedPoint', 'pow2', 'minMax']) {
      const q = makeQuantizer({ name });
      assert.deepEqual(arr(q.quantizedValue!(w)), arr(q.apply(w, false)), name);
    }
    w.dispose();
  });

  it('stochastic binaryConnect: a new draw per training call, real weights at evaluation (paper), or sign', () => {
    const w = tf.randomNormal([64], 0, 0.5, 'float32', 5);
    const q = makeQuantizer({ name: 'binaryConnect', options: { stochastic: true, seed: 1 } });
    assert.notDeepEqual(arr(q.apply(w, true)), arr(q.apply(w, true)));
    assert.deepEqual(arr(q.apply(w, false)), arr(w));
    const s = makeQuantizer({ name: 'binaryConnect', options: { stochastic: true, seed: 1, evalMode: 'sign' } });
    assert.deepEqual(arr(s.quantizedValue!(w)), arr(w).map((v) => (v >= 0 ? 1 : -1)));
    const again = makeQuantizer({ name: 'binaryConnect', options: { stochastic: true, seed: 1 } });
    const fresh = makeQuantizer({ name: 'binaryConnect', options: { stochastic: true, seed: 1 } });
    assert.deepEqual(arr(again.apply(w, true)), arr(fresh.apply(w, true)), 'same seed, same sequence');
    w.dispose();
  });

  it('code(): the sign for alpha-scaled sign codes (BWN, TWN, SQ), the value itself otherwise', () => {
    const w = tf.tensor2d([[0.3, -0.1], [-0.5, 0.05]]);
    for (const name of ['binaryWeight', 'ternaryWeight']) {
      const q = makeQuantizer({ name });
      const v = q.quantizedValue!(w);
      const c = q.code!(v);
      assert.deepEqual(arr(c), arr(v).map(Math.sign), name);
      tf.dispose([v, c]);
    }
    const fx = makeQuantizer({ name: 'fixedPoint', options: { bits: 4, delta: 0.25 } });
    const v = fx.quantizedValue!(w);
    const c = fx.code!(v);
    assert.deepEqual(arr(c), arr(v));
    assert.notEqual(c, v, 'a copy the caller may dispose');
    tf.dispose([w, v, c]);
  });

  it('unknown names list the valid ones; unknown options list the valid options', () => {
    assert.throws(() => makeQuantizer({ name: 'ternary' }), (e: Error) =>
      /Unknown quantizer "ternary"/.test(e.message) && e.message.includes('ternaryWeight') && e.message.includes('stochasticQuantization'));
    assert.throws(() => makeQuantizer({ name: 'fixedPoint', options: { bit: 8 } }), /Unknown option 'bit' for quantizer 'fixedPoint'. Valid options: bits, delta/);
    assert.throws(() => makeQuantizer({ name: 'none', options: { bits: 8 } }), /Valid options: \(none\)/);
    assert.throws(() => makeQuantizer({ name: 'toString' }), /Unknown quantizer/);
  });

  it('bad option values give clear errors', () => {
    const bad: Array<[QuantizerSpec, RegExp]> = [
      [{ name: 'fixedPoint', options: { bits: 0 } }, /fixedPoint: bits must be an integer >= 2/],
      [{ name: 'fixedPoint', options: { bits: 0, signed: false } }, /bits must be an integer >= 1/],
      [{ name: 'fixedPoint', options: { delta: 0 } }, /delta' must be a number > 0/],
      [{ name: 'fixedPoint', options: { delta: -1 } }, /delta/],
      [{ name: 'fixedPoint', options: { bits: '8' } }, /bits must be an integer/],
      [{ name: 'fixedPoint', options: { signed: 'yes' } }, /must be true or false/],
      [{ name: 'pow2', options: { bits: 2 } }, /pow2: bits must be an integer >= 3/],
      [{ name: 'minMax', options: { qlMin: 5, qlMax: 5 } }, /qlMax/],
      [{ name: 'minMax', options: { qrMin: 2, qrMax: 1 } }, /qrMax/],
      [{ name: 'stochasticQuantization', options: { ratio: 1.5 } }, /ratio must be a number in \[0, 1\]/],
      [{ name: 'stochasticQuantization', options: { ratio: -0.5 } }, /ratio/],
      [{ name: 'stochasticQuantization', options: { rule: 'foo' } }, /unknown rule "foo"; use one of 'paper', 'code'/],
      [{ name: 'stochasticQuantization', options: { base: 'xnor' } }, /unknown base/],
      [{ name: 'stochasticQuantization', options: { g: 'cubic' } }, /unknown g/],
      [{ name: 'ternaryWeight', options: { deltaRule: 'x' } }, /unknown deltaRule/],
      [{ name: 'binaryConnect', options: { evalMode: 'sample' } }, /unknown evalMode/],
      [{ name: 'inq', options: { gradient: 'none' } }, /unknown gradient/],
    ];
    for (const [spec, re] of bad) assert.throws(() => makeQuantizer(spec), re, JSON.stringify(spec));
  });
});

describe('descriptors: one source for defaults, option names and checks', () => {
  it('every registry name has a descriptor whose option table gives the option names', () => {
    for (const name of quantizerNames) {
      const d = quantizerDescriptor(name);
      assert.ok(d.name === name || d.aliases?.includes(name), name);
      assert.ok(d.description.length > 20 && d.source.length > 0, name);
      assert.deepEqual(quantizerOptionNames(name), Object.keys(d.options), name);
      for (const spec of Object.values(d.options)) assert.ok(spec.description.length > 5 && describeOption(spec).length > 0);
    }
    assert.deepEqual(quantizerDescriptors.map((d) => d.name).filter((n) => n !== 'identity').sort(), Object.keys(quantizers).sort());
    assert.deepEqual(quantizerOptionNames('fixedPoint'), ['bits', 'delta', 'signed', 'steFineGrained']);
  });

  it('the defaults an omitted option means', () => {
    assert.deepEqual(quantizerDefaults('fixedPoint'), { bits: 8, delta: 2 ** -4, signed: true, steFineGrained: true });
    assert.deepEqual(quantizerDefaults('minMax', ['qrMin', 'qrMax', 'qlMin', 'qlMax']), { qrMin: -6, qrMax: 6, qlMin: 0, qlMax: 255 });
    assert.deepEqual(quantizerDefaults('minMax', ['eps', 'decay']), { eps: 0.01, decay: 0.999 });
    assert.deepEqual(quantizerDefaults('inq'), { numBits: 4, schedule: [5000, 6000, 7000, 8000, 9000], selection: 'largestAbs', seed: 0, gradient: 'free' });
    assert.equal(quantizerDefaults('stochasticQuantization').ratio, 0.5);
    assert.equal(quantizerDefaults('binaryConnect').evalMode, 'sign', 'deterministic: evaluated with the signs');
    assert.throws(() => quantizerDefaults('pow2', ['bit']), /Unknown option 'bit' for quantizer 'pow2'/);
    assert.throws(() => quantizerDefaults('nope'), /Unknown quantizer "nope"/);
  });

  it('the pure functions and the registry use the same defaults', () => {
    const x = tf.randomNormal([6, 5], 0, 2, 'float32', 8);
    const pure: Array<[string, (t: tf.Tensor, o?: Record<string, unknown>) => tf.Tensor]> = [
      ['binaryTanh', (t, o) => quantizers.binaryTanh(t, o)],
      ['binaryWeight', (t, o) => quantizers.binaryWeight(t, o)],
      ['ternaryWeight', (t, o) => quantizers.ternaryWeight(t, o)],
      ['fixedPoint', (t, o) => quantizers.fixedPoint(t, o)],
      ['pow2', (t, o) => quantizers.pow2(t, o)],
      ['minMax', (t, o) => quantizers.minMax(t, o)],
    ];
    for (const [name, f] of pure) {
      const defaults = quantizerDefaults(name);
      for (const k of ['xMinMax', 'ema', 'decay']) delete defaults[k]; // the stateful quantizer's own options
      const implicit = arr(f(x));
      assert.deepEqual(arr(f(x, defaults)), implicit, `${name}: no options = the descriptor's defaults`);
      assert.deepEqual(arr(makeQuantizer({ name }).quantizedValue!(x)), implicit, `${name}: makeQuantizer without options`);
    }
    x.dispose();
  });

  it('quantizerOptionsError: null for what makeQuantizer accepts, its message for what it refuses, no tensors', () => {
    const before = tf.memory().numTensors;
    for (const [spec] of CASES) assert.equal(quantizerOptionsError(spec.name, spec.options), null, JSON.stringify(spec));
    const bad: Array<[QuantizerSpec, RegExp | null]> = [
      [{ name: 'ternary' }, /Unknown quantizer "ternary". Valid names: .*ternaryWeight/],
      [{ name: 'fixedPoint', options: { bit: 8 } }, /Unknown option 'bit' for quantizer 'fixedPoint'. Valid options: bits, delta, signed, steFineGrained\./],
      [{ name: 'fixedPoint', options: { delta: 0 } }, /^fixedPoint: option 'delta' must be a number > 0, got 0\.$/],
      [{ name: 'fixedPoint', options: { bits: 1 } }, /^fixedPoint: bits must be an integer >= 2, got 1\.$/],
      [{ name: 'pow2', options: { bits: 2, withZero: false } }, null],
      [{ name: 'pow2', options: { bits: 1, withZero: false } }, /pow2: bits must be an integer >= 2, got 1/],
      [{ name: 'minMax', options: { qrMin: 1, qrMax: 1 } }, /minMax: option 'qrMax' must be a number > 1, got 1\./],
      [{ name: 'minMax', options: { decay: 1.5 } }, /minMax: option 'decay' must be a number in \[0, 1\], got 1.5\./],
      [{ name: 'stochasticQuantization', options: { ratio: 50 } }, /ratio must be a number in \[0, 1\].*percent/],
      [{ name: 'inq', options: { schedule: [100, -1] } }, /inq: schedule must be a non-empty list of step numbers \(integers >= 0\), got \[100,-1\]/],
      [{ name: 'binaryConnect', options: { evalMode: 'sample' } }, /binaryConnect: unknown evalMode "sample"; use one of 'real', 'sign'/],
      [{ name: 'binaryTanh', options: 'strict' as unknown as Record<string, unknown> }, /options must be an object/],
    ];
    for (const [spec, re] of bad) {
      const msg = quantizerOptionsError(spec.name, spec.options);
      if (re === null) {
        assert.equal(msg, null, JSON.stringify(spec));
        continue;
      }
      assert.match(msg ?? '', re, JSON.stringify(spec));
      assert.throws(() => makeQuantizer(spec), (e: Error) => e.message === msg, 'makeQuantizer throws the same message');
    }
    assert.equal(tf.memory().numTensors, before);
  });
});

describe('FlipRatio', () => {
  it('share of changed elements since the previous call, by hand', () => {
    const f = new FlipRatio();
    const q = (v: number[]) => tf.tensor1d(v);
    const steps = [[1, -1, 1, 1], [1, 1, 1, -1], [1, 1, 1, -1], [-1, -1, -1, 1]].map(q);
    assert.ok(Number.isNaN(f.update(steps[0])), 'nothing to compare with at first');
    assert.ok(Number.isNaN(f.mean));
    assert.equal(f.update(steps[1]), 0.5);
    assert.equal(f.update(steps[2]), 0);
    assert.equal(f.update(steps[3]), 1);
    assert.equal(f.mean, 0.5);
    f.resetMean();
    assert.equal(f.update(steps[3]), 0);
    assert.throws(() => f.update(tf.tensor1d([1, 1])), /shape changed/);
    const before = tf.memory().numTensors;
    f.update(steps[0]);
    f.update(steps[1]);
    assert.equal(tf.memory().numTensors, before, 'keeps exactly one copy');
    f.dispose();
    tf.dispose(steps);
    assert.equal(tf.memory().numTensors, before - 5);
  });
});
