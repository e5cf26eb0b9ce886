/**
 * The M representation values ("levels") of an asymmetric M-ary quantizer and the nearest-level partition.
 *
 * A layer stores its levels as one free weight vector of length M. The quantizer always sees them sorted
 * (`sortLevels`, differentiable), so an optimizer step that makes two levels cross merely relabels them;
 * no projection step is needed. The partitions are the midpoints between adjacent sorted levels, so they
 * move with the levels and need not be symmetric about zero.
 */
import * as tf from '@tensorflow/tfjs';

export const MIN_LEVELS = 2;
export const MAX_LEVELS = 8;

/** M is chosen before training; the method (and our memory accounting) covers 2..8 levels. */
export function checkM(m: number): void {
  if (!Number.isInteger(m) || m < MIN_LEVELS || m > MAX_LEVELS) {
    throw new Error(`M-ary quantization needs an integer number of levels M in ${MIN_LEVELS}..${MAX_LEVELS}, got ${m}.`);
  }
}

/**
 * Default spread: the Lloyd-Max levels of a uniform distribution. Weights initialised U(-b, b) (std b/√3)
 * are quantized with least squared error by the M cell centres -b + (2i+1)·b/M, i.e. the levels span
 * ±(M-1)/M·b = ±√3·(M-1)/M·std.
 */
export function defaultLevelSpread(m: number): number {
  return (Math.sqrt(3) * (m - 1)) / m;
}

/**
 * Initial levels: M evenly spaced values over ±spread·std, ascending. For odd M the middle one is exactly
 * 0 (-a + ((M-1)/2)·(2a/(M-1)) = 0 in floating point too), so an odd M starts with a zero level.
 */
export function initLevels(m: number, std: number, spread = defaultLevelSpread(m)): number[] {
  checkM(m);
  if (!(std > 0) || !Number.isFinite(std)) throw new Error(`initLevels: std must be positive and finite, got ${std}`);
  const a = spread * std;
  const out: number[] = [];
  for (let i = 0; i < m; i++) out.push(i === (m - 1) / 2 ? 0 : -a + (i * 2 * a) / (m - 1));
  return out;
}

/**
 * Levels in ascending order, differentiable w.r.t. the unsorted vector: each sorted entry's gradient flows back
 * to the entry it came from (ties keep their original order). The M (at most 8) values are sorted in JavaScript:
 * written with tensor ops (a permutation matrix from ranks) it took about 30 kernels per layer and step.
 */
export function sortLevels(levels: tf.Tensor): tf.Tensor1D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const r = args[0] as tf.Tensor;
    const v = r.dataSync();
    const order = Array.from(v.keys()).sort((i, j) => v[i] - v[j] || i - j);
    return {
      value: tf.tensor1d(order.map((i) => v[i])),
      gradFunc: (dy: tf.Tensor) => {
        const g = dy.dataSync();
        const out = new Float32Array(order.length);
        order.forEach((i, k) => (out[i] = g[k]));
        return tf.tensor(out, r.shape);
      },
    };
  });
  return op(levels) as tf.Tensor1D;
}

/**
 * Keep M distinct levels: sort them and push every adjacent pair closer than `fraction` of the mean spacing
 * (span / (M-1)) apart, symmetrically about the pair's midpoint, until no pair is too close. Without this two
 * levels can merge in training (nothing in the ELBO keeps them apart), and the layer then deploys M-1 values.
 * Returns the levels ascending; fraction <= 0 only sorts.
 */
export function separateLevels(levels: number[], fraction: number): number[] {
  const r = levels.slice().sort((a, b) => a - b);
  const m = r.length;
  if (!(fraction > 0) || m < 2) return r;
  if (fraction >= 1) throw new Error(`separateLevels: fraction must be below 1, got ${fraction}`);
  // Spreading a pair can widen the span and so the target gap: repeat until no pair is too close (a small
  // tolerance absorbs float32 round trips, so an already separated layer is left alone).
  for (let pass = 0; pass < 50; pass++) {
    const gap = (fraction * (r[m - 1] - r[0])) / (m - 1);
    if (!(gap > 0)) break; // all levels equal: no scale to separate them by
    let moved = false;
    for (let k = 0; k + 1 < m; k++) {
      if (r[k + 1] - r[k] < gap * (1 - 1e-4)) {
        const c = 0.5 * (r[k] + r[k + 1]);
        r[k] = c - gap / 2;
        r[k + 1] = c + gap / 2;
        moved = true;
      }
    }
    if (!moved) break;
  }
  return r;
}

/** The M-1 decision boundaries: midpoints between adjacent sorted levels. */
export function partitions(sortedLevels: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const m = sortedLevels.size;
    const s = tf.reshape(sortedLevels, [m]);
    return tf.mul(0.5, tf.add(s.slice(0, m - 1), s.slice(1, m - 1))) as tf.Tensor1D;
  });
}

export interface Assignment {
  /** Index of the nearest level (into the ascending levels), int32, same shape as θ. */
  indices: tf.Tensor;
  /** Q(θ): the nearest level for every weight. Differentiable w.r.t. the levels (not w.r.t. θ). */
  quantized: tf.Tensor;
}

/**
 * Nearest-level assignment. `levels` must be ascending (pass them through sortLevels).
 * index = #{partitions p : θ > p}: a weight exactly on a midpoint goes to the LOWER level (deterministic
 * tie rule); weights beyond the outermost levels go to them. One pass over the weights in JavaScript, with the
 * partitions rounded to float32 as `partitions` computes them; ∂Q/∂r_k = Σ of the upstream gradient over the
 * weights in cell k, ∂Q/∂θ = 0. Written with tensor ops (a comparison per partition, one-hot cells) it took
 * about 40 kernels per layer and step.
 */
export function assignLevels(theta: tf.Tensor, levels: tf.Tensor): Assignment {
  const m = levels.size;
  let index: Int32Array | null = null;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [t, l] = args as tf.Tensor[];
    const th = t.dataSync();
    const r = l.dataSync();
    const p = Array.from({ length: m - 1 }, (_, k) => Math.fround(Math.fround(r[k] + r[k + 1]) * 0.5));
    const idx = new Int32Array(th.length);
    const q = new Float32Array(th.length);
    for (let i = 0; i < th.length; i++) {
      let c = 0;
      for (let k = 0; k < m - 1; k++) if (th[i] > p[k]) c++;
      idx[i] = c;
      q[i] = r[c];
    }
    index = idx;
    return {
      value: tf.tensor(q, t.shape),
      gradFunc: (dy: tf.Tensor) => {
        const g = dy.dataSync();
        const dr = new Float64Array(m);
        for (let i = 0; i < idx.length; i++) dr[idx[i]] += g[i];
        return [tf.zerosLike(t), tf.tensor(Float32Array.from(dr), l.shape)];
      },
    };
  });
  const quantized = op(theta, levels);
  return { indices: tf.tensor(index as unknown as Int32Array, theta.shape, 'int32'), quantized };
}
