/**
 * Stochastic quantization, SQ (Dong, Ni, Li, Chen, Zhu & Su, "Learning Accurate Low-Bit Deep Neural Networks
 * with Stochastic Quantization", BMVC 2017, arXiv 1708.01001; code: `dongyp13/Stochastic-Quantization`, the
 * `Roulette()` of `caffe/src/caffe/layers/conv_layer_{binary,ternary}.cu` and the inner-product layers).
 *
 * Per layer and per draw:
 *   1. Q = base(W) for the whole tensor: 'bwn' (binaryWeight.ts) or 'twn' (ternaryWeight.ts; delta stays
 *      layer-wide, computed from all of W, as the Caffe code does).
 *   2. e_c = ||W_c - Q_c||_1 / ||W_c||_1 per output channel c (0 when ||W_c||_1 = 0). Caffe's rows
 *      (num_output x kernel_dim) are tfjs's last axis.
 *   3. Select channels by roulette without replacement (roulette.ts):
 *      - rule 'paper' (default): draw N_q = round(r·C) channels to **quantize**, each draw with probability
 *        ∝ g(f_c), f_c = 1/(e_c + eps), g ∈ {constant, linear (default), sigmoid, softmax}.
 *      - rule 'code' (published Caffe): draw N_r = int((1 - r)·C) channels to **stay full precision**, each
 *        draw with probability ∝ e_c; channels with e_c = 0 are never drawn (and the loop ends early when
 *        only such channels remain), so they are quantized, which changes nothing since then Q_c = W_c.
 *      The two are different distributions (docs/methods.md#stochastic-quantization-sq). r = 1 quantizes
 *      everything without a draw (Caffe skips Roulette() at ratio 100); r = 0 quantizes nothing under 'paper',
 *      and under 'code' keeps every channel with e_c > 0 in full precision.
 *   4. The hybrid tensor: Q_c for selected channels, W_c for the others.
 * Gradient: plain straight-through to W for every channel (Caffe's weight gradient ignores the weights).
 *
 * Notes: g defaults to 'linear'; which g the paper finds best could not be checked against its full text
 * (docs/methods.md#stochastic-quantization-sq). int((1 - r)·C) is evaluated with a 1e-9 guard so that
 * r = 0.9, C = 10 gives 1 (float32 Caffe: 1), not 0 (float64: 0.99999999). The Caffe code redraws on every
 * forward pass, training and test; the stateful quantizer (sqQuantizer.ts) redraws after every optimizer step.
 * The ratio schedule of the paper's experiments is `sqRatioSchedule` (50%, 75%, 87.5%, 100%: four stages).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/random';
import { binaryWeightValues } from './binaryWeight';
import { customOp, fanInAxes, numChannels, selectChannels } from './ops';
import { type OptionInput, checkRatio, optionTable, readOption } from './options';
import { rouletteWithoutReplacement } from './roulette';
import { TERNARY_WEIGHT_OPTIONS, ternaryWeightValues } from './ternaryWeight';

/** The SQ ratio of each training stage in the paper's CIFAR experiments (prototxt `ratio: 50/75/87.5/100`). */
export const sqRatioSchedule: readonly number[] = [0.5, 0.75, 0.875, 1.0];

export type SqBase = 'bwn' | 'twn';
export type SqRule = 'paper' | 'code';
export type SqProbability = 'constant' | 'linear' | 'sigmoid' | 'softmax';
export const SQ_BASES: readonly SqBase[] = ['bwn', 'twn'];
export const SQ_RULES: readonly SqRule[] = ['paper', 'code'];
export const SQ_PROBABILITIES: readonly SqProbability[] = ['constant', 'linear', 'sigmoid', 'softmax'];

/** The options of the pure functions (the TWN ones are ternaryWeight's own). */
export const SQ_OPTIONS = optionTable({
  ratio: { kind: 'ratio', description: 'SQ ratio r in [0, 1]: the share of channels to quantize.' },
  base: { kind: 'choice', choices: SQ_BASES, default: 'bwn', description: "Base quantizer: 'bwn' (binaryWeight) or 'twn' (ternaryWeight)." },
  rule: { kind: 'choice', choices: SQ_RULES, default: 'paper', description: "Selection rule: 'paper' or 'code' (see stochasticQuantization.ts)." },
  g: {
    kind: 'choice', choices: SQ_PROBABILITIES, default: 'linear',
    description: "The paper's probability function g of f = 1/(e + eps); ignored by rule 'code'.",
  },
  eps: { kind: 'number', default: 1e-7, above: 0, description: 'eps in f = 1/(e + eps).' },
  seed: { kind: 'number', integer: true, description: 'Seed for a fresh roulette generator when no rng is given.' },
  deltaRule: TERNARY_WEIGHT_OPTIONS.deltaRule,
  thresholdFactor: TERNARY_WEIGHT_OPTIONS.thresholdFactor,
});

type SqOptionInput = OptionInput<typeof SQ_OPTIONS>;

export type SqSelectOptions = Pick<SqOptionInput, 'rule' | 'g' | 'eps' | 'seed'> & {
  /** Generator for the roulette (needed when 0 < ratio < 1). */
  rng?: Rng;
};

export type StochasticQuantizationOptions = Omit<SqOptionInput, 'ratio'> & {
  /** SQ ratio r in [0, 1]: the share of channels to quantize. */
  ratio: number;
  /** Generator for the roulette (needed when 0 < ratio < 1). */
  rng?: Rng;
  /** A ready selection (1 = quantize), one entry per output channel: skips steps 2-3. */
  mask?: ArrayLike<number>;
};

/** Q = base(W) for the whole tensor (no gradient). */
export function sqBaseValues(w: tf.Tensor, options: Pick<StochasticQuantizationOptions, 'base' | 'deltaRule' | 'thresholdFactor'> = {}): tf.Tensor {
  const base = readOption('stochasticQuantization', SQ_OPTIONS, 'base', options.base);
  if (base === 'bwn') return binaryWeightValues(w);
  const deltaRule = readOption('stochasticQuantization', SQ_OPTIONS, 'deltaRule', options.deltaRule);
  return ternaryWeightValues(w, { deltaRule, thresholdFactor: options.thresholdFactor });
}

/** e_c = ||W_c - Q_c||_1 / ||W_c||_1 per output channel (0 where ||W_c||_1 = 0). Reads the result. */
export function sqRelativeErrors(w: tf.Tensor, q: tf.Tensor): Float32Array {
  const e = tf.tidy(() => {
    const axes = fanInAxes(w.rank);
    const diff = tf.reshape(tf.sum(tf.abs(tf.sub(w, q)), axes), [-1]);
    const norm = tf.reshape(tf.sum(tf.abs(w), axes), [-1]);
    return tf.where(tf.greater(norm, 0), tf.div(diff, tf.maximum(norm, 1e-30)), tf.zerosLike(norm));
  });
  const out = e.dataSync() as Float32Array;
  e.dispose();
  return Float32Array.from(out);
}

/** Number of channels the rule selects for its draw: N_q ('paper') or N_r ('code'). */
export function sqDrawCount(ratio: number, numChannels: number, rule: SqRule): number {
  checkRatio('stochasticQuantization', ratio);
  if (rule === 'paper') return Math.round(ratio * numChannels);
  return Math.floor((1 - ratio) * numChannels + 1e-9);
}

/** log g(f) with f = 1/(e + eps), for the roulette. */
function paperLogWeight(e: number, g: SqProbability, eps: number): number {
  const f = 1 / (e + eps);
  switch (g) {
    case 'constant':
      return 0;
    case 'linear':
      return Math.log(f);
    case 'sigmoid':
      return -Math.log1p(Math.exp(-f));
    case 'softmax':
      return f;
  }
}

function rngOf(options: SqSelectOptions): Rng {
  if (options.rng) return options.rng;
  if (options.seed !== undefined) return new Rng(readOption('stochasticQuantization', SQ_OPTIONS, 'seed', options.seed) as number);
  throw new Error('stochasticQuantization: the roulette needs an `rng` or a `seed` (for reproducibility).');
}

/**
 * Which channels to quantize (1) or keep in full precision (0), from the per-channel errors.
 * @example sqSelect([0.1, 0.4, 0, 0.2], 0.5, {rule: 'code', rng}) // 2 channels stay float, p ∝ e
 */
export function sqSelect(errors: ArrayLike<number>, ratio: number, options: SqSelectOptions = {}): Uint8Array {
  checkRatio('stochasticQuantization', ratio);
  const rule = readOption('stochasticQuantization', SQ_OPTIONS, 'rule', options.rule);
  const g = readOption('stochasticQuantization', SQ_OPTIONS, 'g', options.g);
  const eps = readOption('stochasticQuantization', SQ_OPTIONS, 'eps', options.eps);
  const n = errors.length;
  const count = sqDrawCount(ratio, n, rule);
  if (rule === 'paper') {
    if (count >= n) return new Uint8Array(n).fill(1);
    const mask = new Uint8Array(n);
    if (count === 0) return mask;
    const logW = Array.from(errors, (e) => paperLogWeight(e, g, eps));
    for (const i of rouletteWithoutReplacement(logW, count, rngOf(options))) mask[i] = 1;
    return mask;
  }
  const mask = new Uint8Array(n).fill(1);
  if (ratio === 1 || count === 0) return mask;
  if (count >= n) {
    // r = 0: every channel that can be drawn (e > 0) is drawn, whatever the order: no randomness needed.
    for (let i = 0; i < n; i++) if (errors[i] > 0) mask[i] = 0;
    return mask;
  }
  const logW = Array.from(errors, (e) => (e > 0 ? Math.log(e) : -Infinity));
  for (const i of rouletteWithoutReplacement(logW, count, rngOf(options))) mask[i] = 0;
  return mask;
}

/** Draw a selection for the current W: base quantization, errors, roulette. */
export function sqDrawMask(w: tf.Tensor, options: StochasticQuantizationOptions): Uint8Array {
  const ratio = checkRatio('stochasticQuantization', options.ratio);
  const c = numChannels(w.shape);
  if (ratio === 1) return new Uint8Array(c).fill(1);
  if (ratio === 0 && (options.rule ?? SQ_OPTIONS.rule.default) === 'paper') return new Uint8Array(c);
  const q = sqBaseValues(w, options);
  const errors = sqRelativeErrors(w, q);
  q.dispose();
  return sqSelect(errors, ratio, options);
}

/** The hybrid tensor for a given selection (no gradient). */
export function sqHybridValues(w: tf.Tensor, mask: ArrayLike<number>, options: Pick<StochasticQuantizationOptions, 'base' | 'deltaRule' | 'thresholdFactor'> = {}): tf.Tensor {
  const c = numChannels(w.shape);
  if (mask.length !== c) {
    throw new Error(`stochasticQuantization: the mask has ${mask.length} entries, the tensor ${c} output channels.`);
  }
  let all = true;
  let none = true;
  for (let i = 0; i < c; i++) {
    if (mask[i]) none = false;
    else all = false;
  }
  if (none) return tf.clone(w);
  if (all) return sqBaseValues(w, options);
  return tf.tidy(() => {
    const m = tf.tensor1d(Array.from(mask, (v) => (v ? 1 : 0)), 'bool');
    return selectChannels(m, sqBaseValues(w, options), w);
  });
}

/**
 * SQ hybrid weights with a plain straight-through gradient. Draws a new selection unless `mask` is given.
 * @example stochasticQuantization(w, {ratio: 0.5, base: 'twn', rule: 'paper', g: 'linear', seed: 1})
 */
export function stochasticQuantization(w: tf.Tensor, options: StochasticQuantizationOptions): tf.Tensor {
  checkRatio('stochasticQuantization', options.ratio);
  const mask = options.mask ?? sqDrawMask(w, options);
  return customOp([w], ([wt]) => ({
    value: sqHybridValues(wt, mask, options),
    gradFunc: (dy) => tf.clone(dy),
  }));
}
