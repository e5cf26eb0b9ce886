/**
 * Stateful INQ quantizer (see inq.ts for the method and the nnabla semantics).
 *
 * State: the indicator mask (1 = fixed), kept as a non-trainable layer weight `inq_indicator` like nnabla's
 * `I` parameter, so it is saved with the model; and the frozen values of the fixed weights.
 *
 * `afterStep(step, latent)` (the training loop calls it after every optimizer step with the number of
 * completed steps: 1 after the first one):
 *   1. restores the fixed weights in `latent` (the optimizer may have moved them through momentum or decay);
 *   2. if `step` is in the schedule: fixes half of the still-free weights (all of them at the last scheduled
 *      step) at their power-of-two values (n1 from max|W| of the whole tensor at that moment) and writes them
 *      into `latent`.
 * nnabla fixes when its minibatch counter (forward calls so far, from 0) equals a scheduled iteration, i.e.
 * before the forward pass that follows `iteration` updates: the same moment as afterStep(iteration).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/random';
import { defineQuantizer } from './descriptor';
import { INQ_DEFAULT_SCHEDULE, INQ_OPTIONS, inq, inqQuantizeArray } from './inq';
import { type OptionInput, type OptionValues, optionTable, resolveOptions } from './options';
import type { AddWeight, Quantizer, QuantizerSpec } from './types';

export type InqSelection = 'largestAbs' | 'random';
export const INQ_SELECTIONS: readonly InqSelection[] = ['largestAbs', 'random'];

export const INQ_QUANTIZER_OPTIONS = optionTable({
  numBits: INQ_OPTIONS.numBits,
  schedule: {
    kind: 'steps', default: INQ_DEFAULT_SCHEDULE,
    description: "Steps (completed optimizer steps) at which weights are fixed (nnabla example's inq_iterations).",
  },
  selection: {
    kind: 'choice', choices: INQ_SELECTIONS, default: 'largestAbs',
    description: "'largestAbs' (nnabla's 'largest_abs') or 'random' (each free weight with p = 1/2).",
  },
  seed: { kind: 'number', default: 0, integer: true, description: "Seed of the 'random' selection." },
  gradient: INQ_OPTIONS.gradient,
});

export type InqQuantizerOptions = OptionInput<typeof INQ_QUANTIZER_OPTIONS>;

/** Indices of the weights to fix among the free ones, by nnabla's 'largest_abs' rule: max(1, floor(L/2)). */
export function inqLargestAbsHalf(values: ArrayLike<number>, fixed: ArrayLike<number>): number[] {
  const free: number[] = [];
  for (let i = 0; i < values.length; i++) if (!(fixed[i] > 0.5)) free.push(i);
  if (free.length === 0) return [];
  // Stable: equal magnitudes keep index order (nnabla's std::sort leaves their order unspecified).
  free.sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]) || a - b);
  return free.slice(0, Math.max(1, Math.floor(free.length / 2)));
}

export class InqQuantizer implements Quantizer {
  readonly bits: number;
  readonly schedule: readonly number[];
  private indicator: (() => tf.Variable) | null = null;
  private fixedValues: tf.Tensor | null = null;
  private readonly rng: Rng;
  private readonly options: OptionValues<typeof INQ_QUANTIZER_OPTIONS>;

  constructor(readonly spec: QuantizerSpec, options: InqQuantizerOptions = {}) {
    this.options = resolveOptions('inq', INQ_QUANTIZER_OPTIONS, options);
    this.bits = this.options.numBits;
    this.schedule = Array.from(new Set(this.options.schedule)).sort((a, b) => a - b);
    this.rng = new Rng(this.options.seed);
  }

  build(shape: number[], addWeight: AddWeight): void {
    const lv = addWeight('inq_indicator', shape, 'zeros', false);
    this.indicator = () => lv.read() as tf.Variable; // LayerVariable.read() returns its tf.Variable (typed Tensor)
  }

  /** The indicator variable (1 = fixed), created here when used without a layer. */
  mask(shape: readonly number[]): tf.Variable {
    if (!this.indicator) {
      const v = tf.tidy(() => tf.variable(tf.zeros(shape as number[]), false));
      this.indicator = () => v;
    }
    const m = this.indicator();
    if (!tf.util.arraysEqual(m.shape, shape as number[])) {
      throw new Error(`inq: the quantizer was built for shape [${m.shape}], got a tensor of shape [${shape}].`);
    }
    return m;
  }

  /** Share of weights fixed so far. */
  fixedFraction(): number {
    if (!this.indicator) return 0;
    const m = this.indicator();
    const s = tf.tidy(() => tf.mean(m));
    const v = s.dataSync()[0];
    s.dispose();
    return v;
  }

  private snapshot(latent: tf.Tensor): tf.Tensor {
    if (!this.fixedValues) this.fixedValues = tf.keep(tf.clone(latent));
    return this.fixedValues;
  }

  apply(x: tf.Tensor, _training: boolean): tf.Tensor {
    const mask = this.mask(x.shape);
    return inq(x, { mask, fixedValues: this.snapshot(x), numBits: this.bits, gradient: this.options.gradient });
  }

  quantizedValue(latent: tf.Tensor): tf.Tensor {
    const mask = this.mask(latent.shape);
    const values = this.fixedValues ?? latent;
    return tf.tidy(() => tf.where(tf.greater(mask, 0.5), values, latent));
  }

  afterStep(step: number, latent: tf.Variable): void {
    const mask = this.mask(latent.shape);
    const values = this.snapshot(latent);
    if (this.schedule.includes(step)) this.fix(step, latent, mask, values);
    const fixedValues = this.fixedValues as tf.Tensor;
    const restored = tf.tidy(() => tf.where(tf.greater(mask, 0.5), fixedValues, latent));
    latent.assign(restored);
    restored.dispose();
  }

  /** Fix the scheduled share of the free weights. */
  private fix(step: number, latent: tf.Variable, mask: tf.Variable, values: tf.Tensor): void {
    const fixed = mask.dataSync() as Float32Array;
    const prev = values.dataSync() as Float32Array;
    // Current weights with the already-fixed ones restored (nnabla's step A before its step B).
    const w = Float32Array.from(latent.dataSync() as Float32Array);
    for (let i = 0; i < w.length; i++) if (fixed[i] > 0.5) w[i] = prev[i];
    let chosen: number[];
    if (step === this.schedule[this.schedule.length - 1]) {
      chosen = [];
      for (let i = 0; i < w.length; i++) if (!(fixed[i] > 0.5)) chosen.push(i);
    } else if (this.options.selection === 'largestAbs') {
      chosen = inqLargestAbsHalf(w, fixed);
    } else {
      chosen = [];
      for (let i = 0; i < w.length; i++) if (!(fixed[i] > 0.5) && this.rng.next() < 0.5) chosen.push(i);
    }
    if (chosen.length === 0) return;
    const q = inqQuantizeArray(w, this.bits);
    const newMask = Float32Array.from(fixed);
    const newValues = Float32Array.from(prev);
    for (const i of chosen) {
      newMask[i] = 1;
      newValues[i] = q[i];
    }
    for (let i = 0; i < w.length; i++) if (!(newMask[i] > 0.5)) newValues[i] = 0;
    const maskT = tf.tensor(newMask, mask.shape, 'float32');
    mask.assign(maskT);
    maskT.dispose();
    this.fixedValues?.dispose();
    this.fixedValues = tf.keep(tf.tensor(newValues, latent.shape, 'float32'));
  }

  /** Release the frozen values (the indicator belongs to the layer). */
  dispose(): void {
    this.fixedValues?.dispose();
    this.fixedValues = null;
  }
}

export const inqDescriptor = defineQuantizer({
  name: 'inq',
  description: 'Incremental network quantization: at each scheduled step half of the free weights are fixed to powers of two (or zero) and stop learning.',
  source: 'Zhou, Yao, Guo, Xu & Chen, ICLR 2017, arXiv 1702.03044; nnabla PF.inq_affine / inq_convolution',
  options: INQ_QUANTIZER_OPTIONS,
  make: (spec, o) => new InqQuantizer(spec, o),
});
