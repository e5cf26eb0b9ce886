/**
 * qnnlab's training kernels, compiled to WebAssembly (assembly/train.wasm) by AssemblyScript:
 * `npm run build:wasm`. src/engine/trainKernels.ts loads the module and calls it; docs/engine.md says why.
 *
 * Memory: the host owns the linear memory above heapBase() and passes byte addresses; nothing here allocates.
 */

/** First byte the host may use (everything below holds this module's static data). */
export function heapBase(): usize {
  return __heap_base;
}

// Molchanov et al. 2017's approximation of KL(N(θ, αθ²) || log-uniform) (src/bayes/priors.ts: kllu).
const K1: f64 = 0.63576;
const K2: f64 = 1.8732;
const K3: f64 = 1.48695;

// ---------------------------------------------------------------------------------------------------------
// f32x4 exp and log (the Cephes single-precision polynomials, as in sse_mathfun): about 2 ulp over the ranges
// used here. The scalar Math.exp / Math.log cost about 15 ns each and made the KL pass below 6x slower.

// @ts-ignore: decorator
@inline function expv(x: v128): v128 {
  // x = n·ln2 + r with |r| <= ln2/2 (ln2 in two parts, so r is exact); e^r by a degree-6 polynomial; 2^n from bits
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87.33654)), f32x4.splat(88.37626));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  const pow2n = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, pow2n);
}

// @ts-ignore: decorator
@inline function logv(x: v128): v128 {
  // x = 2^e·m with m in [√½, √2); log m = log(1 + f) by a degree-9 polynomial in f = m - 1. x must be > 0.
  const bits = x;
  let e = f32x4.convert_i32x4_s(i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(126)));
  let m = v128.or(v128.and(bits, i32x4.splat(0x807fffff)), i32x4.splat(0x3f000000)); // in [0.5, 1)
  const small = f32x4.lt(m, f32x4.splat(0.707106781186547524));
  e = f32x4.sub(e, v128.and(small, f32x4.splat(1)));
  const f = f32x4.sub(f32x4.add(m, v128.and(small, m)), f32x4.splat(1));
  const z = f32x4.mul(f, f);
  let y = f32x4.splat(7.0376836292e-2);
  y = f32x4.add(f32x4.mul(y, f), f32x4.splat(-1.1514610310e-1));
  y = f32x4.add(f32x4.mul(y, f), f32x4.splat(1.1676998740e-1));
  y = f32x4.add(f32x4.mul(y, f), f32x4.splat(-1.2420140846e-1));
  y = f32x4.add(f32x4.mul(y, f), f32x4.splat(1.4249322787e-1));
  y = f32x4.add(f32x4.mul(y, f), f32x4.splat(-1.6668057665e-1));
  y = f32x4.add(f32x4.mul(y, f), f32x4.splat(2.0000714765e-1));
  y = f32x4.add(f32x4.mul(y, f), f32x4.splat(-2.4999993993e-1));
  y = f32x4.add(f32x4.mul(y, f), f32x4.splat(3.3333331174e-1));
  y = f32x4.mul(f32x4.mul(y, f), z);
  y = f32x4.add(y, f32x4.mul(e, f32x4.splat(-2.12194440e-4)));
  y = f32x4.sub(y, f32x4.mul(z, f32x4.splat(0.5)));
  return f32x4.add(f32x4.add(f, y), f32x4.mul(e, f32x4.splat(0.693359375)));
}

/** exp and log of four lanes (for the tests of the two polynomials). */
export function expF32x4(inp: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) v128.store(out + (<usize>i << 2), expv(v128.load(inp + (<usize>i << 2))));
}

export function logF32x4(inp: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) v128.store(out + (<usize>i << 2), logv(v128.load(inp + (<usize>i << 2))));
}

// @ts-ignore: decorator
@inline function addLanesF64(acc: usize, v: v128): void {
  // four f32 lanes into two f64x2 accumulators at acc, acc + 16
  v128.store(acc, f64x2.add(v128.load(acc), f64x2.promote_low_f32x4(v)));
  v128.store(acc + 16, f64x2.add(v128.load(acc + 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1))));
}

/**
 * The multiple spike-and-slab KL of n weights against m levels and its gradients, in one pass (src/bayes/priors.ts
 * has the formula), four weights at a time in float32; the sums over weights are float64.
 * Inputs: mean, logSigma2 (f32, n rounded up to a multiple of 4, the padding finite), levels (f32[m]).
 * Outputs: dMean, dLogSigma2 (f32, as long as the inputs), dLevels (f64[m]). `scratch`: (6 + 2)·m·16 + 32 bytes,
 * 16-byte aligned, as are all f32 arrays. Returns the KL.
 * With e_k = -(θ - r_k)²/2width², g_k the gates and κ_k = kllu(log α_k):
 *   ∂KL/∂log α_k = g_k·κ'_k (0 where the clip is active), κ' = -k1·k3·σ(u)(1 - σ(u)) - σ(-log α)/2, u = k2 + k3·log α
 *   ∂KL/∂e_k     = g_k·(κ_k - Σ_j g_j κ_j) (normalized: a softmax), g_k·κ_k (window; 0 below the -75 floor)
 * and (θ - r_k)² reaches log α_k through -log(· + 1e-12) and e_k through -1/2width².
 */
export function spikeSlabKl(
  mean: usize, logSigma2: usize, n: i32, levels: usize, m: i32, width: f32, clip: f32, normalized: bool,
  dMean: usize, dLogSigma2: usize, dLevels: usize, scratch: usize,
): f64 {
  const stride = <usize>m << 4;
  const d = scratch; // θ - r_k, one v128 per level
  const q = d + stride; // (θ - r_k)²
  const e = q + stride; // gate exponent
  const g = e + stride; // gate
  const kappa = g + stride;
  const dLa = kappa + stride; // ∂KL/∂log α_k
  const accLevels = dLa + stride; // two f64x2 per level
  const accKl = accLevels + (stride << 1);
  memory.fill(accLevels, 0, (stride << 1) + 32);
  const inv2w2 = f32x4.splat(<f32>1 / (2 * width * width));
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  const half = f32x4.splat(0.5);
  const k1 = f32x4.splat(<f32>K1);
  const k1k3 = f32x4.splat(<f32>(K1 * K3));
  const hi = f32x4.splat(clip);
  const lo = f32x4.splat(-clip);
  const floor = f32x4.splat(-75);
  const tiny = f32x4.splat(1e-12);
  for (let i = 0; i < n; i += 4) {
    const th = v128.load(mean + (<usize>i << 2));
    const s = v128.load(logSigma2 + (<usize>i << 2));
    let eMax = f32x4.splat(-Infinity);
    for (let k = 0; k < m; k++) {
      const o = <usize>k << 4;
      const dk = f32x4.sub(th, f32x4.splat(load<f32>(levels + (<usize>k << 2))));
      const qk = f32x4.mul(dk, dk);
      const ek = f32x4.neg(f32x4.mul(qk, inv2w2));
      v128.store(d + o, dk);
      v128.store(q + o, qk);
      v128.store(e + o, ek);
      eMax = f32x4.max(eMax, ek);
    }
    if (normalized) {
      let z = zero;
      for (let k = 0; k < m; k++) {
        const gk = expv(f32x4.sub(v128.load(e + (<usize>k << 4)), eMax));
        v128.store(g + (<usize>k << 4), gk);
        z = f32x4.add(z, gk);
      }
      const iz = f32x4.div(one, z);
      for (let k = 0; k < m; k++) v128.store(g + (<usize>k << 4), f32x4.mul(v128.load(g + (<usize>k << 4)), iz));
    } else {
      for (let k = 0; k < m; k++) v128.store(g + (<usize>k << 4), expv(f32x4.max(v128.load(e + (<usize>k << 4)), floor)));
    }
    let kli = zero;
    for (let k = 0; k < m; k++) {
      const o = <usize>k << 4;
      const a = f32x4.sub(s, logv(f32x4.add(v128.load(q + o), tiny)));
      const inside = v128.and(f32x4.ge(a, lo), f32x4.le(a, hi));
      const la = f32x4.min(f32x4.max(a, lo), hi);
      const sig = f32x4.div(one, f32x4.add(one, expv(f32x4.neg(f32x4.add(f32x4.splat(<f32>K2), f32x4.mul(f32x4.splat(<f32>K3), la))))));
      // softplus(-la) and σ(-la) from one exponential, t = e^-|la|; log1p(t) = log(u)·t/(u - 1), u = 1 + t
      const t = expv(f32x4.neg(f32x4.abs(la)));
      const u = f32x4.add(one, t);
      const um1 = f32x4.sub(u, one);
      const l1p = v128.bitselect(t, f32x4.div(f32x4.mul(logv(u), t), um1), f32x4.eq(um1, zero));
      const neg = f32x4.lt(la, zero);
      const sp = f32x4.add(v128.and(neg, f32x4.neg(la)), l1p);
      const sigNeg = f32x4.div(v128.bitselect(one, t, neg), u);
      const gk = v128.load(g + o);
      const kk = f32x4.add(f32x4.sub(k1, f32x4.mul(k1, sig)), f32x4.mul(half, sp));
      v128.store(kappa + o, kk);
      const dk = f32x4.sub(f32x4.neg(f32x4.mul(k1k3, f32x4.mul(sig, f32x4.sub(one, sig)))), f32x4.mul(half, sigNeg));
      v128.store(dLa + o, v128.and(inside, f32x4.mul(gk, dk)));
      kli = f32x4.add(kli, f32x4.mul(gk, kk));
    }
    // lanes past n (the padding) count in no sum
    const valid = i + 4 <= n ? i32x4.splat(-1) : i32x4.lt_s(i32x4(i, i + 1, i + 2, i + 3), i32x4.splat(n));
    addLanesF64(accKl, v128.and(valid, kli));
    let dTheta = zero;
    let dS = zero;
    for (let k = 0; k < m; k++) {
      const o = <usize>k << 4;
      const gk = v128.load(g + o);
      const kk = v128.load(kappa + o);
      const dl = v128.load(dLa + o);
      dS = f32x4.add(dS, dl);
      const dE = normalized
        ? f32x4.mul(gk, f32x4.sub(kk, kli))
        : v128.and(f32x4.ge(v128.load(e + o), floor), f32x4.mul(gk, kk));
      const dq = f32x4.sub(f32x4.neg(f32x4.div(dl, f32x4.add(v128.load(q + o), tiny))), f32x4.mul(dE, inv2w2));
      const gq = f32x4.mul(f32x4.mul(f32x4.splat(2), v128.load(d + o)), dq);
      dTheta = f32x4.add(dTheta, gq);
      addLanesF64(accLevels + (<usize>k << 5), v128.and(valid, gq));
    }
    v128.store(dMean + (<usize>i << 2), dTheta);
    v128.store(dLogSigma2 + (<usize>i << 2), dS);
  }
  for (let k = 0; k < m; k++) {
    const acc = accLevels + (<usize>k << 5);
    const sum = load<f64>(acc) + load<f64>(acc, 8) + load<f64>(acc, 16) + load<f64>(acc, 24);
    store<f64>(dLevels + (<usize>k << 3), -sum);
  }
  return load<f64>(accKl) + load<f64>(accKl, 8) + load<f64>(accKl, 16) + load<f64>(accKl, 24);
}

// ---------------------------------------------------------------------------------------------------------
// Noise of the local reparameterization: standard normals from four xoshiro128** streams (Blackman & Vigna),
// one per f32x4 lane, by Marsaglia's polar method. tfjs's generator (Alea, one draw at a time through a serial
// dependency chain) took about 30 ms of a Bayesian LeNet-5 step for its 0.85 M draws.

// @ts-ignore: decorator
@inline function rotl(x: v128, k: i32): v128 {
  return v128.or(i32x4.shl(x, k), i32x4.shr_u(x, 32 - k));
}

/** splitmix64, the seeding xoshiro's authors recommend. */
function splitmix64(z: u64): u64 {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

/**
 * n standard normals into out (f32[n + 8]: see the stores) from a 32-bit seed. Lane l of stream word w is seeded from splitmix64 of
 * seed + (2·(w·4 + l) + 1)·golden ratio. Each round draws four candidate pairs (v1, v2) uniform in [-1, 1)²
 * (24 bits each), keeps those with 0 < s = v1² + v2² < 1 and writes v1·m, v2·m, m = √(-2 log s / s), lane by
 * lane, until n values are written.
 */
export function normalNoise(out: usize, n: i32, seed32: u32): void {
  const seed = <u64>seed32;
  const GOLDEN: u64 = 0x9e3779b97f4a7c15;
  let w0 = i32x4(<i32>splitmix64(seed + GOLDEN), <i32>splitmix64(seed + 3 * GOLDEN), <i32>splitmix64(seed + 5 * GOLDEN), <i32>splitmix64(seed + 7 * GOLDEN));
  let w1 = i32x4(<i32>splitmix64(seed + 9 * GOLDEN), <i32>splitmix64(seed + 11 * GOLDEN), <i32>splitmix64(seed + 13 * GOLDEN), <i32>splitmix64(seed + 15 * GOLDEN));
  let w2 = i32x4(<i32>splitmix64(seed + 17 * GOLDEN), <i32>splitmix64(seed + 19 * GOLDEN), <i32>splitmix64(seed + 21 * GOLDEN), <i32>splitmix64(seed + 23 * GOLDEN));
  let w3 = i32x4(<i32>splitmix64(seed + 25 * GOLDEN), <i32>splitmix64(seed + 27 * GOLDEN), <i32>splitmix64(seed + 29 * GOLDEN), <i32>splitmix64(seed + 31 * GOLDEN));
  const scale = f32x4.splat(<f32>1 / <f32>8388608); // 2^-23: 24-bit integers to [0, 2)
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  const minus2 = f32x4.splat(-2);
  let i = 0;
  while (i < n) {
    // two xoshiro128** outputs per lane
    const r1 = i32x4.mul(rotl(i32x4.mul(w1, i32x4.splat(5)), 7), i32x4.splat(9));
    let t = i32x4.shl(w1, 9);
    w2 = v128.xor(w2, w0); w3 = v128.xor(w3, w1); w1 = v128.xor(w1, w2); w0 = v128.xor(w0, w3); w2 = v128.xor(w2, t); w3 = rotl(w3, 11);
    const r2 = i32x4.mul(rotl(i32x4.mul(w1, i32x4.splat(5)), 7), i32x4.splat(9));
    t = i32x4.shl(w1, 9);
    w2 = v128.xor(w2, w0); w3 = v128.xor(w3, w1); w1 = v128.xor(w1, w2); w0 = v128.xor(w0, w3); w2 = v128.xor(w2, t); w3 = rotl(w3, 11);
    const v1 = f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_u(r1, 8)), scale), one);
    const v2 = f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_u(r2, 8)), scale), one);
    const s = f32x4.add(f32x4.mul(v1, v1), f32x4.mul(v2, v2));
    const keep = i32x4.bitmask(v128.and(f32x4.lt(s, one), f32x4.gt(s, zero)));
    if (keep == 0) continue;
    const m = f32x4.sqrt(f32x4.div(f32x4.mul(minus2, logv(v128.bitselect(s, one, f32x4.gt(s, zero)))), s));
    const z1 = f32x4.mul(v1, m);
    const z2 = f32x4.mul(v2, m);
    // The kept lanes' pairs, in lane order, without branches: lanes 0-1 as (z1, z2, z1, z2), the second pair
    // moved first when only lane 1 is kept; then lanes 2-3 the same way. Each store writes 4 floats and the
    // position advances by the values kept, so up to 8 floats past n are written (the host pads the buffer).
    const lo = v128.shuffle<f32>(z1, z2, 0, 4, 1, 5);
    const hi = v128.shuffle<f32>(z1, z2, 2, 6, 3, 7);
    v128.store(out + (<usize>i << 2), v128.bitselect(lo, v128.shuffle<f32>(lo, lo, 2, 3, 2, 3), i32x4.splat(-(keep & 1))));
    i += popcnt<i32>(keep & 3) << 1;
    v128.store(out + (<usize>i << 2), v128.bitselect(hi, v128.shuffle<f32>(hi, hi, 2, 3, 2, 3), i32x4.splat(-((keep >> 2) & 1))));
    i += popcnt<i32>(keep & 12) << 1;
  }
}

// ---------------------------------------------------------------------------------------------------------
// col2im of the GEMM form of Conv2DBackpropInput (src/engine/kernels/conv.ts): a scatter-add that took about
// 12 ms per LeNet-5 conv2 step as a JavaScript loop.

/**
 * dx (f32 [n, H, W, ci], zeroed here) += col (f32 [n·oh·ow, kh·kw·ci]) scattered back:
 * dx[b, r·sh + a - pt, q·sw + e - pl, :] += col[(b, r, q), (a, e), :], taps outside the input skipped.
 */
export function col2im(col: usize, dx: usize, n: i32, H: i32, W: i32, ci: i32, oh: i32, ow: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  memory.fill(dx, 0, (<usize>n * H * W * ci) << 2);
  const kkc = kh * kw * ci;
  const ci4 = ci & ~3;
  let src = col;
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < oh; r++) {
      for (let q = 0; q < ow; q++, src += <usize>kkc << 2) {
        for (let a = 0; a < kh; a++) {
          const i = r * sh + a - pt;
          if (i < 0 || i >= H) continue;
          for (let e = 0; e < kw; e++) {
            const j = q * sw + e - pl;
            if (j < 0 || j >= W) continue;
            const d = dx + ((<usize>((b * H + i) * W + j) * ci) << 2);
            const s0 = src + ((<usize>((a * kw + e) * ci)) << 2);
            let k = 0;
            for (; k < ci4; k += 4) v128.store(d + (<usize>k << 2), f32x4.add(v128.load(d + (<usize>k << 2)), v128.load(s0 + (<usize>k << 2))));
            for (; k < ci; k++) store<f32>(d + (<usize>k << 2), load<f32>(d + (<usize>k << 2)) + load<f32>(s0 + (<usize>k << 2)));
          }
        }
      }
    }
  }
}
