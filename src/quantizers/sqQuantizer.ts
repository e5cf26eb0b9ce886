/**
 * Stateful stochastic-quantization quantizer (see stochasticQuantization.ts for the method).
 *
 * Holds the current ratio r and the current channel selection. The selection is drawn from the weights on
 * the first forward pass and redrawn by `afterStep` after every optimizer step (the Caffe code redraws on
 * every forward; drawing once per step from the updated weights gives the same distribution, and all
 * forward passes of a step see the same hybrid weights). Evaluation uses the current selection, like the
 * Caffe test pass (which draws too): the accuracy of stages 1-3 is that of a stochastic hybrid network.
 *
 * `setRatio(r)` switches stage (the paper runs 0.5, 0.75, 0.875, 1 as separate warm-started runs:
 * `sqRatioSchedule`) and forces a new draw. `spec.options.ratio` follows the current ratio, so a saved
 * config restores the stage.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/random';
import { defineQuantizer } from './descriptor';
import { numChannels } from './ops';
import { checkRatio, optionTable } from './options';
import {
  SQ_OPTIONS, StochasticQuantizationOptions, sqDrawMask, sqHybridValues, sqRatioSchedule, stochasticQuantization,
} from './stochasticQuantization';
import type { Quantizer, QuantizerSpec } from './types';

export type SqQuantizerOptions = Omit<StochasticQuantizationOptions, 'rng' | 'mask'>;

/** The pure function's options, with the first stage's ratio and seed 0 as defaults. */
export const SQ_QUANTIZER_OPTIONS = optionTable({
  ...SQ_OPTIONS,
  ratio: { ...SQ_OPTIONS.ratio, default: sqRatioSchedule[0], description: `${SQ_OPTIONS.ratio.description} Default: the first stage's (sqRatioSchedule).` },
  seed: { ...SQ_OPTIONS.seed, default: 0 },
});

export class SqQuantizer implements Quantizer {
  readonly bits: number;
  private ratio: number;
  private selection: Uint8Array | null = null;
  private readonly rng: Rng;

  constructor(private readonly baseSpec: QuantizerSpec, private readonly options: SqQuantizerOptions) {
    this.ratio = checkRatio('stochasticQuantization', options.ratio);
    this.bits = (options.base ?? SQ_QUANTIZER_OPTIONS.base.default) === 'twn' ? 2 : 1;
    this.rng = new Rng(options.seed ?? SQ_QUANTIZER_OPTIONS.seed.default);
  }

  get spec(): QuantizerSpec {
    return { name: this.baseSpec.name, options: { ...(this.baseSpec.options ?? {}), ratio: this.ratio } };
  }

  /** The current SQ ratio. */
  getRatio(): number {
    return this.ratio;
  }

  /** Start a new stage: set r and draw a new selection on the next use. */
  setRatio(ratio: number): void {
    this.ratio = checkRatio('stochasticQuantization', ratio);
    this.selection = null;
  }

  /** The current selection, 1 = quantized channel (null before the first draw). */
  currentSelection(): Uint8Array | null {
    return this.selection ? Uint8Array.from(this.selection) : null;
  }

  private pure(): StochasticQuantizationOptions {
    const { seed: _seed, ...rest } = this.options;
    return { ...rest, ratio: this.ratio, rng: this.rng };
  }

  /** Draw a new selection from the weights `w`. */
  redraw(w: tf.Tensor): Uint8Array {
    this.selection = sqDrawMask(w, this.pure());
    return this.selection;
  }

  private selectionFor(w: tf.Tensor): Uint8Array {
    if (!this.selection || this.selection.length !== numChannels(w.shape)) return this.redraw(w);
    return this.selection;
  }

  apply(x: tf.Tensor, _training: boolean): tf.Tensor {
    const mask = this.selectionFor(x);
    return stochasticQuantization(x, { ...this.pure(), mask });
  }

  quantizedValue(latent: tf.Tensor): tf.Tensor {
    return sqHybridValues(latent, this.selectionFor(latent), this.pure());
  }

  /** Flips are sign changes: the BWN/TWN scale moves at every step (full-precision channels: their sign). */
  code(quantized: tf.Tensor): tf.Tensor {
    return tf.sign(quantized);
  }

  afterStep(_step: number, latent: tf.Variable): void {
    this.redraw(latent);
  }
}

export const stochasticQuantizationDescriptor = defineQuantizer({
  name: 'stochasticQuantization',
  description: 'SQ: a ratio r of the output channels quantized by BWN or TWN, chosen by roulette on their quantization error; the rest stay float. Stages r = 0.5, 0.75, 0.875, 1.',
  source: 'Dong, Ni, Li, Chen, Zhu & Su, BMVC 2017, arXiv 1708.01001; dongyp13/Stochastic-Quantization (Caffe)',
  options: SQ_QUANTIZER_OPTIONS,
  make: (spec, o) => new SqQuantizer(spec, o),
});
