/**
 * Monte-Carlo prediction with a packed Bayesian model: S weight samples w = kernel + σ·ε around the deployed
 * (quantized) kernels, with σ from the file's posterior section (posterior.ts), each sample one forward pass
 * of the deployed model (batch norm in inference mode), the softmax averaged over the samples, and per
 * example the predictive entropy H[p̄], the expected entropy mean_s H[p_s] and their difference, the mutual
 * information (as src/bayes/mcPredict.ts reports for the trained model).
 *
 * The noise is drawn in JavaScript from a seeded generator (mulberry32, Marsaglia's polar method) and the
 * samples and the averages are computed in JavaScript too, so the same packed file, seed and backend give the
 * same numbers in Node and in a browser. The draws differ from the trained model's tf.randomNormal stream: the
 * distribution is the same (up to the stored precision of σ), the individual samples are not.
 * Browser-safe: no Node modules.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/random';
import type { PackedPosterior } from './posterior';

export interface PackedMcOptions {
  /** Weight samples S (default 10). */
  samples?: number;
  /** Seed of the noise (default 1). */
  seed?: number;
}

export interface PackedMcResult {
  samples: number;
  /** Per example: the mean softmax over the samples. */
  probs: Float64Array[];
  /** Per example, nats. */
  entropy: number[];
  expectedEntropy: number[];
  mutualInformation: number[];
}

/** Standard normal draws (Marsaglia's polar method: only log and sqrt, no trigonometry). */
export class NormalStream {
  private rng: Rng;
  private spare: number | null = null;

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  next(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    for (;;) {
      const u = 2 * this.rng.next() - 1;
      const v = 2 * this.rng.next() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const m = Math.sqrt((-2 * Math.log(s)) / s);
        this.spare = v * m;
        return u * m;
      }
    }
  }
}

function entropy(p: ArrayLike<number>): number {
  let h = 0;
  for (let k = 0; k < p.length; k++) h -= p[k] * Math.log(p[k] + 1e-12);
  return h;
}

/** Softmax of each row of logits [n, C], in JavaScript (double precision). */
export function softmaxRows(logits: Float32Array, n: number, C: number): Float64Array[] {
  const out: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const row = logits.subarray(i * C, (i + 1) * C);
    let max = -Infinity;
    for (let k = 0; k < C; k++) max = Math.max(max, row[k]);
    const p = new Float64Array(C);
    let sum = 0;
    for (let k = 0; k < C; k++) sum += p[k] = Math.exp(row[k] - max);
    for (let k = 0; k < C; k++) p[k] /= sum;
    out.push(p);
  }
  return out;
}

/**
 * Monte-Carlo predictive distribution of a deployed model (unpackModel / loadPacked) given its packed posterior
 * (unpackPosterior). The model's kernels are perturbed in place for each sample and restored afterwards.
 */
export function mcPredictPacked(model: tf.LayersModel, posterior: PackedPosterior, x: tf.Tensor, opts: PackedMcOptions = {}): PackedMcResult {
  const samples = opts.samples ?? 10;
  if (!(Number.isInteger(samples) && samples >= 1)) throw new Error(`mcPredictPacked: samples must be a positive integer, got ${samples}`);
  const byName = new Map(model.weights.map((w) => [w.originalName, w]));
  const kernels = [...posterior.sigma.entries()].map(([name, s]) => {
    const v = byName.get(name);
    if (!v) throw new Error(`mcPredictPacked: the model has no weight '${name}' (the posterior does not belong to this model)`);
    if (v.shape.join('x') !== s.shape.join('x')) throw new Error(`mcPredictPacked: '${name}' has shape [${v.shape}], its σ [${s.shape}]`);
    return { v, shape: s.shape, sigma: s.values, centre: Float32Array.from(v.read().dataSync() as Float32Array) };
  });
  const normal = new NormalStream(opts.seed ?? 1);
  const n = x.shape[0] as number;
  let sumP: Float64Array[] | null = null;
  const sumH = new Float64Array(n);
  let C = 0;
  try {
    for (let s = 0; s < samples; s++) {
      for (const k of kernels) {
        const w = new Float32Array(k.centre.length);
        for (let i = 0; i < w.length; i++) w[i] = k.centre[i] + k.sigma[i] * normal.next();
        const t = tf.tensor(w, k.shape, 'float32');
        k.v.write(t);
        t.dispose();
      }
      const logits = tf.tidy(() => (model.predict(x) as tf.Tensor));
      C = logits.shape[1] as number;
      const rows = softmaxRows(logits.dataSync() as Float32Array, n, C);
      logits.dispose();
      if (!sumP) sumP = rows.map(() => new Float64Array(C));
      rows.forEach((p, i) => {
        for (let c = 0; c < C; c++) (sumP as Float64Array[])[i][c] += p[c];
        sumH[i] += entropy(p);
      });
    }
  } finally {
    for (const k of kernels) {
      const t = tf.tensor(k.centre, k.shape, 'float32');
      k.v.write(t);
      t.dispose();
    }
  }
  const probs = (sumP as Float64Array[]).map((row) => row.map((v) => v / samples));
  const H = probs.map(entropy);
  const EH = Array.from(sumH, (h) => h / samples);
  return { samples, probs, entropy: H, expectedEntropy: EH, mutualInformation: H.map((h, i) => Math.max(0, h - EH[i])) };
}
