/**
 * The f32x4 exp and log of assembly/train.ts against Math.exp / Math.log (float64) over the ranges the kernels
 * use. The kernels themselves (the spike-and-slab KL) are tested in bayes-priors.test.ts.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { vectorMath } from '../src/engine/trainKernels';

const grid = (lo: number, hi: number, n: number) => Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));

test('f32x4 exp: within 3 float32 ulps of exp over [-87.3, 88.3], clamped outside', () => {
  const x = grid(-87.3, 88.3, 20001);
  const y = vectorMath('exp', x);
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(y[i] / Math.exp(x[i]) - 1));
  assert.ok(worst < 3 * 2 ** -23, `worst relative error ${worst}`);
  const [zero, big, small] = vectorMath('exp', Float32Array.from([0, 200, -200]));
  assert.equal(zero, 1);
  assert.ok(Number.isFinite(big) && big > 1e38, `exp(200) clamps to a finite ${big}`);
  assert.ok(small > 0 && small < 1.2e-38, `exp(-200) clamps to ${small}`);
});

test('f32x4 log: within 2e-7 absolute (or 3 ulps relative) of log from 1e-12 to 1e30', () => {
  const x = Float32Array.from({ length: 20001 }, (_, i) => Math.exp(-27.6 + (96.7 * i) / 20000));
  const y = vectorMath('log', x);
  for (let i = 0; i < x.length; i++) {
    const want = Math.log(x[i]);
    const err = Math.abs(y[i] - want);
    assert.ok(err < 2e-7 || err < 3 * 2 ** -23 * Math.abs(want), `log(${x[i]}) = ${y[i]}, want ${want}`);
  }
  assert.equal(vectorMath('log', Float32Array.from([1]))[0], 0);
});
