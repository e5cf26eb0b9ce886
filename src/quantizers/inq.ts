/**
 * Incremental network quantization, INQ (Zhou, Yao, Guo, Xu & Chen, ICLR 2017, arXiv 1702.03044), as nnabla's
 * `PF.inq_affine` / `PF.inq_convolution` (`src/nbla/function/generic/inq_affine.cpp`, forward_impl).
 *
 * Values (step C of forward_impl), for b = numBits (default 4):
 *   s  = max |W| over the whole tensor (1 if all zero)
 *   n1 = floor(log2 s) + [frac(log2 s) >= log2 1.5]      (= floor(log2(4s/3)), the paper's n1)
 *   n2 = n1 + 1 - 2^(b-2)
 *   |w| < 2^(n2-1)  -> 0
 *   else e = floor(log2|w|) + [frac(log2|w|) >= log2 1.5], clamped to [n2, n1];  w -> sign(w)·2^e
 * The threshold log2 1.5 rounds at the arithmetic mean 1.5·2^k of two neighbouring powers (the paper's rule);
 * we evaluate it exactly as |w| >= 1.5·2^k.
 *
 * Schedule (step B): at each step of `inq_iterations` (nnabla example: 5000, 6000, 7000, 8000, 9000), half of
 * the still-learnable weights are fixed (`largest_abs`: the largest |w| first; `random`: each with p = 1/2);
 * at the last listed step all of them. nnabla's count: with L learnable weights it fixes max(1, floor(L/2)).
 *
 * Fixed weights never change afterwards. nnabla enforces this by restoring them from a copy on every forward
 * and plainly back-propagating through all weights. It also re-quantizes *all* fixed weights on every forward
 * with the current n1, so a fixed weight can move if max|W| grows later. We follow the paper: a weight's value
 * is frozen when it is fixed (n1 from the whole tensor at that moment), and (option `gradient: 'free'`, the
 * default) fixed weights get no gradient (the paper's mask T in the update rule); `gradient: 'all'` passes
 * dy to every weight as nnabla does. The stateful quantizer (inqQuantizer.ts) also writes the fixed values
 * back into the latent variable after every optimizer step, so momentum or weight decay cannot move them.
 */
import * as tf from '@tensorflow/tfjs';
import { customOp } from './ops';
import { type OptionInput, optionTable, readOption } from './options';

/** nnabla's `inq_iterations` default in the CIFAR-10 example. */
export const INQ_DEFAULT_SCHEDULE: readonly number[] = [5000, 6000, 7000, 8000, 9000];

export type InqGradient = 'free' | 'all';
export const INQ_GRADIENTS: readonly InqGradient[] = ['free', 'all'];

/** The options of the pure function `inq` (the stateful quantizer adds its schedule: inqQuantizer.ts). */
export const INQ_OPTIONS = optionTable({
  numBits: { kind: 'bits', default: 4, min: 2, description: "Bits of the power-of-two values (4: nnabla's PF default)." },
  gradient: {
    kind: 'choice', choices: INQ_GRADIENTS, default: 'free',
    description: "'free' (paper): gradient only for learnable weights; 'all': dy everywhere (nnabla).",
  },
});

export interface InqExponentRange {
  n1: number;
  n2: number;
  /** Values with |w| below this become 0: 2^(n2-1). */
  pruningThreshold: number;
}

/** Exact floor(log2 a) for a finite a > 0 (Math.log2 corrected next to powers of two). */
function floorLog2(a: number): number {
  let k = Math.floor(Math.log2(a));
  if (2 ** k > a) k -= 1;
  else if (2 ** (k + 1) <= a) k += 1;
  return k;
}

/** floor(log2 a) + [a >= 1.5·2^floor(log2 a)]: log2 rounded at the arithmetic mean. */
function roundLog2ArithmeticMean(a: number): number {
  const k = floorLog2(a);
  return a >= 1.5 * 2 ** k ? k + 1 : k;
}

/** n1, n2 of INQ for a tensor whose largest magnitude is `maxAbs`. */
export function inqExponentRange(maxAbs: number, numBits: number): InqExponentRange {
  readOption('inq', INQ_OPTIONS, 'numBits', numBits);
  const s = maxAbs > 0 && Number.isFinite(maxAbs) ? maxAbs : 1;
  const n1 = roundLog2ArithmeticMean(s);
  const n2 = n1 + 1 - 2 ** (numBits - 2);
  return { n1, n2, pruningThreshold: 2 ** (n2 - 1) };
}

/** INQ values of a flat array; n1/n2 from its own max |w| unless `range` is given. */
export function inqQuantizeArray(w: ArrayLike<number>, numBits: number, range?: InqExponentRange): Float32Array {
  let maxAbs = 0;
  for (let i = 0; i < w.length; i++) maxAbs = Math.max(maxAbs, Math.abs(w[i]));
  const { n1, n2, pruningThreshold } = range ?? inqExponentRange(maxAbs, numBits);
  const out = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const v = w[i];
    const a = Math.abs(v);
    if (!(a >= pruningThreshold)) {
      out[i] = 0;
      continue;
    }
    const e = Math.min(n1, Math.max(n2, roundLog2ArithmeticMean(a)));
    out[i] = (v < 0 ? -1 : 1) * 2 ** e;
  }
  return out;
}

/**
 * The powers-of-two values INQ assigns to every weight of `w` (n1 from max |w| over the whole tensor).
 * Reads the tensor (dataSync): not for the taped forward of large tensors, and no gradient.
 */
export function inqQuantizeValues(w: tf.Tensor, numBits: number = INQ_OPTIONS.numBits.default): tf.Tensor {
  return tf.tensor(inqQuantizeArray(w.dataSync() as Float32Array, numBits), w.shape, 'float32');
}

export type InqOptions = OptionInput<typeof INQ_OPTIONS> & {
  /** 1 where a weight is fixed, 0 where it is still learnable (shape of w). None: no weight is fixed yet. */
  mask?: tf.Tensor;
  /** Values of the fixed weights (shape of w; only read where mask = 1). None: inqQuantizeValues(w) on the
   * fly, i.e. nnabla's re-quantization on every forward. */
  fixedValues?: tf.Tensor;
};

/**
 * The INQ weight tensor: fixed weights at their power-of-two values, learnable ones at full precision.
 * @example inq(w, {mask, fixedValues}) // where(mask, fixedValues, w); gradient dy * (1 - mask)
 */
export function inq(w: tf.Tensor, options: InqOptions = {}): tf.Tensor {
  const gradient = readOption('inq', INQ_OPTIONS, 'gradient', options.gradient);
  const numBits = readOption('inq', INQ_OPTIONS, 'numBits', options.numBits);
  if (!options.mask) {
    return customOp([w], ([wt]) => ({ value: tf.clone(wt), gradFunc: (dy) => tf.clone(dy) }));
  }
  const mask = options.mask;
  return customOp([w], ([wt], save) => {
    if (gradient === 'free') save([mask]);
    const fixed = tf.greater(mask, 0.5);
    const values = options.fixedValues ?? inqQuantizeValues(wt, numBits);
    const value = tf.where(fixed, values, wt);
    return {
      value,
      gradFunc: (dy, saved) => (gradient === 'free' ? tf.mul(dy, tf.sub(1, saved[0])) : tf.clone(dy)),
    };
  });
}
