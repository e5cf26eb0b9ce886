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

/**
 * The multiple spike-and-slab KL of n weights against m levels and its gradients, in one pass (src/bayes/priors.ts
 * has the formula). Inputs: mean, logSigma2 (f32[n]), levels (f32[m]). Outputs: dMean, dLogSigma2 (f32[n]) and
 * dLevels (f64[m], accumulated, so zero it first). `scratch` holds 6·m f64. Returns the KL (summed in f64).
 * With e_k = -(θ - r_k)²/2width², g_k the gates and κ_k = kllu(log α_k):
 *   ∂KL/∂log α_k = g_k·κ'_k (0 where the clip is active), κ' = -k1·k3·σ(u)(1 - σ(u)) - σ(-log α)/2, u = k2 + k3·log α
 *   ∂KL/∂e_k     = g_k·(κ_k - Σ_j g_j κ_j) (normalized: a softmax), g_k·κ_k (window; 0 below the -75 floor)
 * and (θ - r_k)² reaches log α_k through -log(· + 1e-12) and e_k through -1/2width².
 */
export function spikeSlabKl(
  mean: usize, logSigma2: usize, n: i32, levels: usize, m: i32, width: f64, clip: f64, normalized: bool,
  dMean: usize, dLogSigma2: usize, dLevels: usize, scratch: usize,
): f64 {
  const d = scratch; // θ - r_k
  const q = d + (<usize>m << 3); // (θ - r_k)²
  const e = q + (<usize>m << 3); // gate exponent
  const g = e + (<usize>m << 3); // gate
  const kappa = g + (<usize>m << 3);
  const dLa = kappa + (<usize>m << 3); // ∂KL/∂log α_k
  const inv2w2: f64 = 1 / (2 * width * width);
  let kl: f64 = 0;
  for (let i = 0; i < n; i++) {
    const th = <f64>load<f32>(mean + (<usize>i << 2));
    const s = <f64>load<f32>(logSigma2 + (<usize>i << 2));
    let eMax: f64 = -Infinity;
    for (let k = 0; k < m; k++) {
      const o = <usize>k << 3;
      const dk = th - <f64>load<f32>(levels + (<usize>k << 2));
      const qk = dk * dk;
      const ek = -qk * inv2w2;
      store<f64>(d + o, dk);
      store<f64>(q + o, qk);
      store<f64>(e + o, ek);
      if (ek > eMax) eMax = ek;
    }
    if (normalized) {
      let z: f64 = 0;
      for (let k = 0; k < m; k++) {
        const o = <usize>k << 3;
        const gk = Math.exp(load<f64>(e + o) - eMax);
        store<f64>(g + o, gk);
        z += gk;
      }
      const iz = 1 / z;
      for (let k = 0; k < m; k++) store<f64>(g + (<usize>k << 3), load<f64>(g + (<usize>k << 3)) * iz);
    } else {
      for (let k = 0; k < m; k++) store<f64>(g + (<usize>k << 3), Math.exp(Math.max(load<f64>(e + (<usize>k << 3)), -75)));
    }
    let kli: f64 = 0;
    for (let k = 0; k < m; k++) {
      const o = <usize>k << 3;
      const a = s - Math.log(load<f64>(q + o) + 1e-12);
      const inside = a >= -clip && a <= clip;
      const la = inside ? a : a < 0 ? -clip : clip;
      const sig = 1 / (1 + Math.exp(-(K2 + K3 * la)));
      // softplus(-la) and σ(-la) from one exponential, t = e^-|la|
      const t = Math.exp(-Math.abs(la));
      const sp = (la < 0 ? -la : 0) + Math.log1p(t);
      const sigNeg = la < 0 ? 1 / (1 + t) : t / (1 + t);
      const gk = load<f64>(g + o);
      const kk = K1 - K1 * sig + 0.5 * sp;
      store<f64>(kappa + o, kk);
      store<f64>(dLa + o, inside ? gk * (-K1 * K3 * sig * (1 - sig) - 0.5 * sigNeg) : 0);
      kli += gk * kk;
    }
    kl += kli;
    let dTheta: f64 = 0;
    let dS: f64 = 0;
    for (let k = 0; k < m; k++) {
      const o = <usize>k << 3;
      const gk = load<f64>(g + o);
      const dl = load<f64>(dLa + o);
      dS += dl;
      const dE = normalized ? gk * (load<f64>(kappa + o) - kli) : load<f64>(e + o) >= -75 ? gk * load<f64>(kappa + o) : 0;
      const dq = -dl / (load<f64>(q + o) + 1e-12) - dE * inv2w2;
      const gq = 2 * load<f64>(d + o) * dq;
      dTheta += gq;
      store<f64>(dLevels + o, load<f64>(dLevels + o) - gq);
    }
    store<f32>(dMean + (<usize>i << 2), <f32>dTheta);
    store<f32>(dLogSigma2 + (<usize>i << 2), <f32>dS);
  }
  return kl;
}
