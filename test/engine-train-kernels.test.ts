/**
 * The f32x4 exp and log of assembly/train.ts against Math.exp / Math.log (float64) over the ranges the kernels
 * use. The kernels themselves (the spike-and-slab KL) are tested in bayes-priors.test.ts.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { normalNoiseKernel, vectorMath } from '../src/engine/trainKernels';
import { normalNoise } from '../src/engine/randomNormal';

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

/** The generator of normalNoise written out in JavaScript (float64 log and square root; decisions in float32). */
function referenceNoise(n: number, seed: number): Float64Array {
  const M64 = (1n << 64n) - 1n;
  const GOLDEN = 0x9e3779b97f4a7c15n;
  const splitmix = (z: bigint) => {
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
    return z ^ (z >> 31n);
  };
  // word w of lane l from seed + (2(4w + l) + 1)·golden
  const st = Array.from({ length: 4 }, (_, l) => Array.from({ length: 4 }, (_, w) => Number(splitmix((BigInt(seed) + BigInt(2 * (4 * w + l) + 1) * GOLDEN) & M64) & 0xffffffffn) >>> 0));
  const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;
  const next = (s: number[]) => {
    const r = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3] >>> 0, 11);
    for (let j = 0; j < 4; j++) s[j] >>>= 0;
    return r;
  };
  const out = new Float64Array(n);
  let i = 0;
  while (i < n) {
    const r1 = st.map(next);
    const r2 = st.map(next);
    for (let l = 0; l < 4 && i < n; l++) {
      const v1 = (r1[l] >>> 8) / 8388608 - 1;
      const v2 = (r2[l] >>> 8) / 8388608 - 1;
      const s = Math.fround(Math.fround(v1 * v1) + Math.fround(v2 * v2));
      if (!(s < 1 && s > 0)) continue;
      const m = Math.sqrt((-2 * Math.log(s)) / s);
      out[i++] = v1 * m;
      if (i < n) out[i++] = v2 * m;
    }
  }
  return out;
}

test('normalNoise: the xoshiro128** + polar-method stream written out in JavaScript, to float32 rounding of log', () => {
  for (const [n, seed] of [[1, 0], [7, 1], [1001, 42], [20000, 0xffffffff]]) {
    const got = normalNoiseKernel(n, seed);
    const want = referenceNoise(n, seed);
    assert.equal(got.length, n);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(got[i] - want[i]) <= 2e-6 * Math.max(1, Math.abs(want[i])), `seed ${seed} [${i}]: ${got[i]} vs ${want[i]}`);
  }
  assert.throws(() => normalNoiseKernel(4, -1), /32-bit unsigned/);
  assert.throws(() => normalNoiseKernel(4, 1.5), /32-bit unsigned/);
});

test('normalNoise: deterministic per seed, a shorter draw is a prefix of a longer one, seeds differ', () => {
  const a = normalNoiseKernel(5000, 7);
  assert.deepEqual(Array.from(normalNoiseKernel(5000, 7)), Array.from(a));
  assert.deepEqual(Array.from(normalNoiseKernel(333, 7)), Array.from(a.subarray(0, 333)));
  const b = normalNoiseKernel(5000, 8);
  assert.ok(a.some((v, i) => v !== b[i]));
  const t = normalNoise([2, 3, 5], 9);
  assert.deepEqual(t.shape, [2, 3, 5]);
  assert.deepEqual(Array.from(t.dataSync()), Array.from(normalNoiseKernel(30, 9)));
  assert.throws(() => normalNoise([2, -1], 1), /bad shape/);
});

test('normalNoise: 10^6 draws are standard normal (moments, Kolmogorov-Smirnov), neighbours uncorrelated', () => {
  const n = 1_000_000;
  const x = normalNoiseKernel(n, 12345);
  let m1 = 0, m2 = 0, m3 = 0, m4 = 0, lag = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    m1 += v; m2 += v * v; m3 += v * v * v; m4 += v * v * v * v;
    if (i > 0) lag += v * x[i - 1];
  }
  m1 /= n; m2 /= n; m3 /= n; m4 /= n; lag /= n - 1;
  // standard errors at n = 10^6: mean 0.001, variance 0.0014, skewness 0.0024, kurtosis 0.005, lag-1 0.001
  assert.ok(Math.abs(m1) < 0.005, `mean ${m1}`);
  assert.ok(Math.abs(m2 - 1) < 0.007, `variance ${m2}`);
  assert.ok(Math.abs(m3) < 0.012, `third moment ${m3}`);
  assert.ok(Math.abs(m4 - 3) < 0.04, `fourth moment ${m4}`);
  assert.ok(Math.abs(lag) < 0.005, `lag-1 correlation ${lag}`);
  assert.ok(Math.abs(erf(1) - 0.8427007929497149) < 1e-13 && Math.abs(erf(-3.5) + 0.9999992569016276) < 1e-13, 'erf');
  const sorted = Float64Array.from(x).sort();
  const cdf = (z: number) => 0.5 * (1 + erf(z / Math.SQRT2));
  let d = 0;
  for (let i = 0; i < n; i += 97) d = Math.max(d, Math.abs(cdf(sorted[i]) - (i + 0.5) / n));
  assert.ok(d < 0.002, `KS distance ${d} (the 0.1 % critical value is 0.00195)`);
});

/** erf: its Taylor series below |x| = 3, the continued fraction of erfc above (both accurate to about 1e-15). */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let sum = ax, term = ax;
    for (let k = 1; k < 100; k++) {
      term *= (-ax * ax) / k;
      const add = term / (2 * k + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let k = 60; k >= 1; k--) f = (k / 2) / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}
