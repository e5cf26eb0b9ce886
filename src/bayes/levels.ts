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
 * Levels in ascending order, differentiable w.r.t. the unsorted vector: a permutation matrix is built from
 * ranks (ties keep their original order) and applied as a weighted sum, so each sorted entry's gradient flows
 * back to the entry it came from. No data is read back to JS.
 */
export function sortLevels(levels: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const m = levels.size;
    const r = tf.reshape(levels, [m]);
    const perm = withoutGradient(() => sortingPermutation(r), r); // [i, rank_i], a constant for autodiff
    // sorted[k] = Σ_i perm[i,k]·r_i (an elementwise product and a sum: M is at most 8, no matMul needed)
    return tf.sum(tf.mul(perm, tf.reshape(r, [m, 1])), 0) as tf.Tensor1D;
  });
}

/** One-hot [i, rank_i] with rank_i = #{j : r_j < r_i} + #{j < i : r_j = r_i} (ties keep their order). */
function sortingPermutation(r: tf.Tensor): tf.Tensor {
  const m = r.size;
  const col = tf.reshape(r, [m, 1]); // r_i
  const row = tf.reshape(r, [1, m]); // r_j
  const lowerIndex = tf.tensor2d(Array.from({ length: m * m }, (_, k) => (k % m < Math.floor(k / m) ? 1 : 0)), [m, m]); // [i, j] = 1 iff j < i
  const before = tf.add(tf.cast(tf.less(row, col), 'float32'), tf.mul(tf.cast(tf.equal(row, col), 'float32'), lowerIndex));
  return tf.cast(tf.oneHot(tf.cast(tf.sum(before, 1), 'int32'), m), 'float32');
}

/**
 * Run `f` (a piecewise-constant function of `inputs`: ranks, cell indices) off the gradient tape: tfjs
 * records no op inside a custom-gradient kernel, and the declared gradient is zero. Without this, autodiff
 * would need gradients for Less/Equal/Greater, which tfjs does not register (tf.grads throws).
 */
function withoutGradient(f: () => tf.Tensor, ...inputs: tf.Tensor[]): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: f(),
    gradFunc: () => args.slice(0, inputs.length).map((a) => tf.zerosLike(a as tf.Tensor)),
  }));
  return op(...inputs);
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

/**
 * index = #{partitions p : θ > p}, int32. One comparison with a scalar per partition: the wasm backend compares
 * against a broadcast vector ([..., 1] vs [M-1]) about 20 times slower than against a scalar, and that one op
 * was the largest cost of a Bayesian LeNet-5 step.
 */
function cellIndices(theta: tf.Tensor, sortedLevels: tf.Tensor): tf.Tensor {
  const p = partitions(sortedLevels);
  let index: tf.Tensor = tf.zeros(theta.shape, 'int32');
  for (let k = 0; k < p.size; k++) index = tf.add(index, tf.cast(tf.greater(theta, tf.reshape(tf.slice(p, [k], [1]), [])), 'int32'));
  return index;
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
 * tie rule); weights beyond the outermost levels go to them. Q(θ) is built as Σ_k onehot_k·r_k so that
 * its gradient w.r.t. the levels needs no gather/scatter kernel (wasm has no UnsortedSegmentSum).
 */
export function assignLevels(theta: tf.Tensor, levels: tf.Tensor): Assignment {
  return tf.tidy(() => {
    const m = levels.size;
    const r = tf.reshape(levels, [m]);
    const indices = withoutGradient(() => cellIndices(theta, r), theta, r);
    const cells = withoutGradient(() => tf.cast(tf.oneHot(indices, m), 'float32'), theta, r);
    const quantized = tf.sum(tf.mul(cells, r), -1);
    return { indices, quantized };
  });
}
