/**
 * Stateful min-max quantizer (nnabla `PF.min_max_quantize` / `PF.min_max_quantized_*`): owns the real range
 * qr_min/qr_max as layer weights of shape [1] and applies `minMax` (minMax.ts) with them.
 *
 * Range modes (nnabla's flags; the example's defaults are both false):
 *  - default: qr_min/qr_max are **trainable** weights, learned by SGD through minMax's range gradients.
 *  - `xMinMax`: qr_min = min(x), qr_max = max(x) of the current input on every forward (not trainable).
 *  - `xMinMax` + `ema`: qr = decay·qr + (1 - decay)·min/max(x), updated on training forwards
 *    only (nnabla also updates on the test graph's forwards; we keep evaluation side-effect free).
 *  - `ema` without `xMinMax`: the range stays at its initial value (nnabla does the same: the EMA update
 *    only runs with x_min_max, and no range gradient is produced when ema is set).
 * Initial range: qrMin/qrMax (PF.min_max_quantize's init by default; nnabla's quantized layers start weights at
 * -2/2). Options and their defaults: MIN_MAX_QUANTIZER_OPTIONS below.
 */
import * as tf from '@tensorflow/tfjs';
import { defineQuantizer } from './descriptor';
import { MIN_MAX_OPTIONS, minMax, minMaxBits, minMaxValues, MinMaxOptions } from './minMax';
import { type OptionInput, type OptionValues, optionTable, resolveOptions } from './options';
import type { AddWeight, Quantizer, QuantizerSpec } from './types';

/** The pure function's options (numbers only: the quantizer owns the range variables) and the range modes. */
export const MIN_MAX_QUANTIZER_OPTIONS = optionTable({
  ...MIN_MAX_OPTIONS,
  xMinMax: { kind: 'boolean', default: false, description: 'Set the range to min(x)/max(x) of every forward (not trainable).' },
  ema: { kind: 'boolean', default: false, description: 'With xMinMax: move the range by an exponential moving average on training forwards.' },
  decay: { kind: 'number', default: 0.999, min: 0, max: 1, description: 'Decay of the moving average.' },
});

export type MinMaxQuantizerOptions = OptionInput<typeof MIN_MAX_QUANTIZER_OPTIONS>;

type RangeVar = { variable: () => tf.Variable };

export class MinMaxQuantizer implements Quantizer {
  readonly bits: number;
  private lo: RangeVar | null = null;
  private hi: RangeVar | null = null;
  private readonly options: OptionValues<typeof MIN_MAX_QUANTIZER_OPTIONS>;

  constructor(readonly spec: QuantizerSpec, options: MinMaxQuantizerOptions = {}) {
    this.options = resolveOptions('minMax', MIN_MAX_QUANTIZER_OPTIONS, options);
    this.bits = minMaxBits(this.options.qlMin, this.options.qlMax);
  }

  /** Whether qr_min/qr_max are learned by gradient descent. */
  get trainableRange(): boolean {
    return !this.options.xMinMax && !this.options.ema;
  }

  build(_shape: number[], addWeight: AddWeight): void {
    const make = (name: string, value: number): RangeVar => {
      const lv = addWeight(name, [1], { className: 'Constant', config: { value } }, this.trainableRange);
      const t = tf.tensor1d([value]);
      lv.write(t);
      t.dispose();
      return { variable: () => lv.read() as tf.Variable }; // read() returns the tf.Variable (typed Tensor)
    };
    this.lo = make('qr_min', this.options.qrMin);
    this.hi = make('qr_max', this.options.qrMax);
  }

  /** The range variables (created here when the quantizer is used without a layer). */
  rangeVariables(): [tf.Variable, tf.Variable] {
    if (!this.lo || !this.hi) {
      const own = (value: number): RangeVar => {
        const v = tf.tidy(() => tf.variable(tf.tensor1d([value]), this.trainableRange));
        return { variable: () => v };
      };
      this.lo = own(this.options.qrMin);
      this.hi = own(this.options.qrMax);
    }
    return [this.lo.variable(), this.hi.variable()];
  }

  /** Current [qr_min, qr_max] (before nudging). */
  range(): [number, number] {
    const [lo, hi] = this.rangeVariables();
    return [lo.dataSync()[0], hi.dataSync()[0]];
  }

  private pureOptions(lo: tf.Tensor, hi: tf.Tensor): MinMaxOptions {
    const o = this.options;
    return { qrMin: lo, qrMax: hi, qlMin: o.qlMin, qlMax: o.qlMax, steFineGrained: o.steFineGrained, eps: o.eps };
  }

  apply(x: tf.Tensor, training: boolean): tf.Tensor {
    const [lo, hi] = this.rangeVariables();
    if (this.options.xMinMax) {
      tf.tidy(() => {
        const xMin = tf.reshape(tf.min(x), [1]);
        const xMax = tf.reshape(tf.max(x), [1]);
        if (!this.options.ema) {
          lo.assign(xMin);
          hi.assign(xMax);
        } else if (training) {
          const d = this.options.decay;
          lo.assign(tf.add(tf.mul(lo, d), tf.mul(xMin, 1 - d)));
          hi.assign(tf.add(tf.mul(hi, d), tf.mul(xMax, 1 - d)));
        }
      });
    }
    return minMax(x, this.pureOptions(lo, hi));
  }

  quantizedValue(latent: tf.Tensor): tf.Tensor {
    const [lo, hi] = this.rangeVariables();
    return minMaxValues(latent, this.pureOptions(lo, hi));
  }
}

export const minMaxDescriptor = defineQuantizer({
  name: 'minMax',
  description: 'Min-max quantization-aware training: affine quantization to the integer levels qlMin..qlMax over a learned (or tracked) real range.',
  source: 'Jacob et al., CVPR 2018, arXiv 1712.05877; nnabla F.min_max_quantize (min_max_quantize.cpp)',
  options: MIN_MAX_QUANTIZER_OPTIONS,
  make: (spec, o) => new MinMaxQuantizer(spec, o),
});
