/**
 * Metrics of the robustness protocol (docs/robustness.md), as small pure functions on plain arrays.
 *
 * Conventions shared by every function:
 * - `probs` is an n×k matrix of predictive probabilities, row-major (example i, class j at i*k + j), normally a
 *   Float32Array; for a Monte-Carlo or ensemble predictor it is already the average over samples.
 * - `labels` holds n class indices in 0..k-1 (Uint8Array or number[]); k is probs.length / labels.length.
 * - The predicted class is the first index of the row maximum (ties go to the lower class).
 * - Logarithms are natural (nats).
 * - Sums run in float64 whatever the input type.
 */

/** Anything indexable by number: Float32Array, Float64Array, Uint8Array, number[]. */
export type NumericArray = ArrayLike<number>;

/** The probability below which the NLL stops growing: log(1e-12) ≈ −27.6 bounds one example's loss. */
export const NLL_PROB_FLOOR = 1e-12;

/** 15 equal-width bins, as in Guo et al. (2017). */
export const DEFAULT_ECE_BINS = 15;

function checkShape(fn: string, probs: NumericArray, n: number): number {
  if (!(n > 0)) throw new Error(`${fn}: no examples (got ${n} labels).`);
  const k = probs.length / n;
  if (!Number.isInteger(k) || k < 1) {
    throw new Error(`${fn}: ${probs.length} probabilities do not split into ${n} rows; expected n×k values, row-major.`);
  }
  return k;
}

function checkLabels(fn: string, labels: NumericArray, k: number): void {
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!(Number.isInteger(y) && y >= 0 && y < k)) throw new Error(`${fn}: label ${y} at example ${i} is not a class in 0..${k - 1}.`);
  }
}

function checkK(fn: string, probs: NumericArray, numClasses: number): number {
  if (!(Number.isInteger(numClasses) && numClasses >= 1)) throw new Error(`${fn}: numClasses must be a positive integer, got ${numClasses}.`);
  const n = probs.length / numClasses;
  if (!Number.isInteger(n)) throw new Error(`${fn}: ${probs.length} probabilities are not a whole number of rows of ${numClasses}.`);
  return n;
}

/** Index of the first maximum of row i. */
function argmaxRow(probs: NumericArray, i: number, k: number): number {
  let best = 0;
  let bestP = probs[i * k];
  for (let j = 1; j < k; j++) {
    const p = probs[i * k + j];
    if (p > bestP) {
      bestP = p;
      best = j;
    }
  }
  return best;
}

/** Predicted class of every example (first index of the row maximum). */
export function predictedClasses(probs: NumericArray, numClasses: number): Uint32Array {
  const n = checkK('predictedClasses', probs, numClasses);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = argmaxRow(probs, i, numClasses);
  return out;
}

/** Fraction of examples whose predicted class is the label. */
export function accuracy(probs: NumericArray, labels: NumericArray): number {
  const n = labels.length;
  const k = checkShape('accuracy', probs, n);
  checkLabels('accuracy', labels, k);
  let correct = 0;
  for (let i = 0; i < n; i++) if (argmaxRow(probs, i, k) === labels[i]) correct++;
  return correct / n;
}

/**
 * Mean negative log-likelihood of the labels, −(1/n) Σ_i log max(p_{i,y_i}, floor), floor = NLL_PROB_FLOOR by
 * default. For an averaged predictor pass the averaged probabilities: the log of the mean, not the mean of
 * per-sample logs.
 */
export function negativeLogLikelihood(probs: NumericArray, labels: NumericArray, opts: { floor?: number } = {}): number {
  const n = labels.length;
  const k = checkShape('negativeLogLikelihood', probs, n);
  checkLabels('negativeLogLikelihood', labels, k);
  const floor = opts.floor ?? NLL_PROB_FLOOR;
  if (!(floor > 0 && floor < 1)) throw new Error(`negativeLogLikelihood: floor must be in (0, 1), got ${floor}.`);
  let sum = 0;
  for (let i = 0; i < n; i++) sum -= Math.log(Math.max(probs[i * k + labels[i]], floor));
  return sum / n;
}

/**
 * Multiclass Brier score in Brier's (1950) original form: the mean over examples of Σ_j (p_ij − y_ij)², y the
 * one-hot label; 0 is perfect, 2 is the worst (all mass on a wrong class). Ovadia et al. (2019, eq. 1) divide this
 * by k; the two rank predictors identically for a fixed k.
 */
export function brierScore(probs: NumericArray, labels: NumericArray): number {
  const n = labels.length;
  const k = checkShape('brierScore', probs, n);
  checkLabels('brierScore', labels, k);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const d = probs[i * k + j] - (j === labels[i] ? 1 : 0);
      sum += d * d;
    }
  }
  return sum / n;
}

/** One confidence bin of a reliability diagram. */
export interface CalibrationBin {
  /** The bin is (lower, upper]; the first bin also holds confidence 0. */
  lower: number;
  upper: number;
  count: number;
  /** Fraction of the bin's examples classified correctly (NaN when the bin is empty). */
  accuracy: number;
  /** Mean max-probability of the bin's examples (NaN when the bin is empty). */
  confidence: number;
}

export interface CalibrationResult {
  /** Expected calibration error: Σ_b (n_b / n)·|acc_b − conf_b|. */
  ece: number;
  /** Maximum calibration error over the non-empty bins: max_b |acc_b − conf_b| (Guo et al. 2017). */
  mce: number;
  /** Every bin, empty ones included, in increasing confidence. */
  bins: CalibrationBin[];
}

/**
 * Expected calibration error (Naeini et al. 2015; Guo et al. 2017) on the confidence c_i = max_j p_ij with
 * `bins` equal-width bins, right-closed: bin b holds b/B < c ≤ (b+1)/B, and c = 0 goes to the first bin, so
 * every example lands in exactly one bin (c = 1 in the last). Returns the ECE, the MCE and the per-bin data of a
 * reliability diagram.
 */
export function expectedCalibrationError(probs: NumericArray, labels: NumericArray, opts: { bins?: number } = {}): CalibrationResult {
  const n = labels.length;
  const k = checkShape('expectedCalibrationError', probs, n);
  checkLabels('expectedCalibrationError', labels, k);
  const B = opts.bins ?? DEFAULT_ECE_BINS;
  if (!(Number.isInteger(B) && B >= 1)) throw new Error(`expectedCalibrationError: bins must be a positive integer, got ${B}.`);
  const count = new Float64Array(B);
  const correct = new Float64Array(B);
  const confSum = new Float64Array(B);
  for (let i = 0; i < n; i++) {
    const pred = argmaxRow(probs, i, k);
    const c = probs[i * k + pred];
    if (!(c >= 0 && c <= 1 + 1e-6)) throw new Error(`expectedCalibrationError: confidence ${c} of example ${i} is not a probability.`);
    // ceil(c·B) − 1, then corrected against the edges b/B themselves so rounding in c·B cannot move an example.
    let b = Math.min(B - 1, Math.max(0, Math.ceil(c * B) - 1));
    if (b > 0 && c <= b / B) b--;
    else if (b < B - 1 && c > (b + 1) / B) b++;
    count[b]++;
    confSum[b] += c;
    if (pred === labels[i]) correct[b]++;
  }
  const bins: CalibrationBin[] = [];
  let ece = 0;
  let mce = 0;
  for (let b = 0; b < B; b++) {
    const acc = count[b] > 0 ? correct[b] / count[b] : NaN;
    const conf = count[b] > 0 ? confSum[b] / count[b] : NaN;
    bins.push({ lower: b / B, upper: (b + 1) / B, count: count[b], accuracy: acc, confidence: conf });
    if (count[b] > 0) {
      const gap = Math.abs(acc - conf);
      ece += (count[b] / n) * gap;
      mce = Math.max(mce, gap);
    }
  }
  return { ece, mce, bins };
}

/** Entropy −Σ_j p_j log p_j of row i, with 0·log 0 = 0. */
function rowEntropy(probs: NumericArray, i: number, k: number): number {
  let h = 0;
  for (let j = 0; j < k; j++) {
    const p = probs[i * k + j];
    if (p > 0) h -= p * Math.log(p);
  }
  return h;
}

/**
 * Predictive entropy H[p_i] = −Σ_j p_ij log p_ij of every example (0·log 0 = 0), in nats: 0 for a one-hot row,
 * log k for a uniform one. As an out-of-distribution score, higher = more likely OOD.
 */
export function predictiveEntropy(probs: NumericArray, numClasses: number): Float64Array {
  const n = checkK('predictiveEntropy', probs, numClasses);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = rowEntropy(probs, i, numClasses);
  return out;
}

/**
 * The confidence max_j p_ij of every example (Hendrycks & Gimpel 2017). It points the other way from an OOD
 * score (higher = more in-distribution): pass `1 − maxSoftmaxProbability` to auroc/aupr.
 */
export function maxSoftmaxProbability(probs: NumericArray, numClasses: number): Float64Array {
  const n = checkK('maxSoftmaxProbability', probs, numClasses);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = probs[i * numClasses + argmaxRow(probs, i, numClasses)];
  return out;
}

function checkSamples(fn: string, sampleProbs: NumericArray[], numClasses: number): number {
  if (!Array.isArray(sampleProbs) || sampleProbs.length === 0) throw new Error(`${fn}: needs at least one sample (an array of n×k probability arrays).`);
  const n = checkK(fn, sampleProbs[0], numClasses);
  sampleProbs.forEach((s, t) => {
    if (s.length !== sampleProbs[0].length) throw new Error(`${fn}: sample ${t} has ${s.length} values, sample 0 has ${sampleProbs[0].length}.`);
  });
  return n;
}

/** The mean p̄ = (1/S) Σ_s p_s of S probability arrays (each n×k): the predictive distribution of MC or an ensemble. */
export function meanProbabilities(sampleProbs: NumericArray[]): Float32Array {
  if (!Array.isArray(sampleProbs) || sampleProbs.length === 0) throw new Error('meanProbabilities: needs at least one sample.');
  const len = sampleProbs[0].length;
  const sum = new Float64Array(len);
  sampleProbs.forEach((s, t) => {
    if (s.length !== len) throw new Error(`meanProbabilities: sample ${t} has ${s.length} values, sample 0 has ${len}.`);
    for (let i = 0; i < len; i++) sum[i] += s[i];
  });
  const out = new Float32Array(len);
  for (let i = 0; i < len; i++) out[i] = sum[i] / sampleProbs.length;
  return out;
}

/** Expected entropy (1/S) Σ_s H[p_s,i] of every example: the aleatoric part of the predictive entropy. */
export function expectedEntropy(sampleProbs: NumericArray[], numClasses: number): Float64Array {
  const n = checkSamples('expectedEntropy', sampleProbs, numClasses);
  const out = new Float64Array(n);
  for (const s of sampleProbs) for (let i = 0; i < n; i++) out[i] += rowEntropy(s, i, numClasses);
  for (let i = 0; i < n; i++) out[i] /= sampleProbs.length;
  return out;
}

/**
 * Mutual information between the prediction and the weights (Houlsby et al. 2011; Gal 2016), per example:
 * H[p̄_i] − (1/S) Σ_s H[p_s,i], from S sampled probability arrays (each n×k). Non-negative in exact arithmetic
 * (entropy is concave); rounding can make it −1e-8, so it is clamped at 0. One sample gives 0. As an OOD score,
 * higher = more likely OOD.
 */
export function mutualInformation(sampleProbs: NumericArray[], numClasses: number): Float64Array {
  const n = checkSamples('mutualInformation', sampleProbs, numClasses);
  const k = numClasses;
  const S = sampleProbs.length;
  const out = new Float64Array(n);
  const mean = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    mean.fill(0);
    let expH = 0;
    for (const s of sampleProbs) {
      for (let j = 0; j < k; j++) mean[j] += s[i * k + j];
      expH += rowEntropy(s, i, k);
    }
    let h = 0;
    for (let j = 0; j < k; j++) {
      const p = mean[j] / S;
      if (p > 0) h -= p * Math.log(p);
    }
    out[i] = Math.max(0, h - expH / S);
  }
  return out;
}

function checkScores(fn: string, what: string, s: NumericArray): void {
  if (s.length === 0) throw new Error(`${fn}: ${what} is empty.`);
  for (let i = 0; i < s.length; i++) if (Number.isNaN(s[i])) throw new Error(`${fn}: ${what}[${i}] is NaN.`);
}

/**
 * Area under the ROC curve of an OOD detector: the probability that a random out-of-distribution example scores
 * higher than a random in-distribution one, ties counting 1/2 (the Mann-Whitney statistic). The score must point
 * towards OOD (higher = more OOD): pass predictive entropy, mutual information or 1 − max-probability, not the
 * max-probability itself. 1 = perfect separation, 0.5 = chance, 0 = perfectly reversed. O((n+m) log(n+m)).
 */
export function auroc(scoresIn: NumericArray, scoresOut: NumericArray): number {
  checkScores('auroc', 'scoresIn', scoresIn);
  checkScores('auroc', 'scoresOut', scoresOut);
  const nIn = scoresIn.length;
  const nOut = scoresOut.length;
  const all = new Float64Array(nIn + nOut);
  for (let i = 0; i < nIn; i++) all[i] = scoresIn[i];
  for (let i = 0; i < nOut; i++) all[nIn + i] = scoresOut[i];
  const order = Array.from(all.keys()).sort((a, b) => all[a] - all[b]);
  // Sum of the mid-ranks (1-based) of the OOD scores.
  let rankSumOut = 0;
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && all[order[end]] === all[order[start]]) end++;
    const midRank = (start + 1 + end) / 2;
    for (let t = start; t < end; t++) if (order[t] >= nIn) rankSumOut += midRank;
    start = end;
  }
  return (rankSumOut - (nOut * (nOut + 1)) / 2) / (nIn * nOut);
}

/**
 * Area under the precision-recall curve as average precision, AP = Σ_t (R_t − R_{t−1})·P_t over the distinct
 * score thresholds t from the highest down (step-wise, not trapezoidal; scikit-learn's average_precision_score).
 * `positive: 'out'` (default) treats the OOD examples as positives, with scores pointing towards OOD as for
 * auroc; `positive: 'in'` treats the in-distribution examples as positives and ranks them by −score. AP depends
 * on the positive class and on the ratio of the two set sizes: report both.
 */
export function aupr(scoresIn: NumericArray, scoresOut: NumericArray, opts: { positive?: 'out' | 'in' } = {}): number {
  checkScores('aupr', 'scoresIn', scoresIn);
  checkScores('aupr', 'scoresOut', scoresOut);
  const positive = opts.positive ?? 'out';
  if (positive !== 'out' && positive !== 'in') throw new Error(`aupr: positive must be 'out' or 'in', got '${positive}'.`);
  const pos = positive === 'out' ? scoresOut : scoresIn;
  const neg = positive === 'out' ? scoresIn : scoresOut;
  const sign = positive === 'out' ? 1 : -1;
  const n = pos.length + neg.length;
  const score = new Float64Array(n);
  const isPos = new Uint8Array(n);
  for (let i = 0; i < pos.length; i++) {
    score[i] = sign * pos[i];
    isPos[i] = 1;
  }
  for (let i = 0; i < neg.length; i++) score[pos.length + i] = sign * neg[i];
  const order = Array.from(score.keys()).sort((a, b) => score[b] - score[a]);
  let tp = 0;
  let fp = 0;
  let prevRecall = 0;
  let ap = 0;
  for (let start = 0; start < n;) {
    let end = start;
    // All examples tied at this score enter together: one threshold.
    while (end < n && score[order[end]] === score[order[start]]) {
      if (isPos[order[end]]) tp++;
      else fp++;
      end++;
    }
    const recall = tp / pos.length;
    const precision = tp / (tp + fp);
    ap += (recall - prevRecall) * precision;
    prevRecall = recall;
    start = end;
  }
  return ap;
}
