/**
 * Stateful min-max quantizer (nnabla `PF.min_max_quantize` / `PF.min_max_quantized_*`): owns the real range
 * qr_min/qr_max as layer weights of shape [1] and applies `minMax` (minMax.ts) with them.
 *
 * Range modes (nnabla's flags; the example's defaults are both false):
 *  - default: qr_min/qr_max are **trainable** weights, learned by SGD through minMax's range gradients.
 *  - `xMinMax`: qr_min = min(x), qr_max = max(x) of the current input on every forward (not trainable).
 *  - `xMinMax` + `ema`: qr = decay·qr + (1 - decay)·min/max(x) (decay 0.999), updated on training forwards
 *    only (nnabla also updates on the test graph's forwards; we keep evaluation side-effect free).
 *  - `ema` without `xMinMax`: the range stays at its initial value (nnabla does the same: the EMA update
 *    only runs with x_min_max, and no range gradient is produced when ema is set).
 * Initial range: qrMin/qrMax (default -6/6 as PF.min_max_quantize; nnabla's quantized layers start weights at
 * -2/2).
 */
import * as tf from '@tensorflow/tfjs';
import { minMax, minMaxBits, minMaxLevels, minMaxValues, MinMaxOptions } from './minMax';
import { checkNumber } from './options';
import type { AddWeight, Quantizer, QuantizerSpec } from './types';

export interface MinMaxQuantizerOptions {
  qrMin?: number;
  qrMax?: number;
  qlMin?: number;
  qlMax?: number;
  steFineGrained?: boolean;
  eps?: number;
  xMinMax?: boolean;
  ema?: boolean;
  decay?: number;
}

type RangeVar = { variable: () => tf.Variable };

export class MinMaxQuantizer implements Quantizer {
  readonly bits: number;
  private lo: RangeVar | null = null;
  private hi: RangeVar | null = null;
  private readonly init: [number, number];
  private readonly decay: number;

  constructor(readonly spec: QuantizerSpec, private readonly options: MinMaxQuantizerOptions = {}) {
    const { qlMin, qlMax } = minMaxLevels(options);
    this.bits = minMaxBits(qlMin, qlMax);
    const lo = checkNumber('minMax', 'qrMin', options.qrMin ?? -6);
    const hi = checkNumber('minMax', 'qrMax', options.qrMax ?? 6);
    if (!(hi > lo)) throw new Error(`minMax: qrMax (${hi}) must be greater than qrMin (${lo}).`);
    this.init = [lo, hi];
    this.decay = checkNumber('minMax', 'decay', options.decay ?? 0.999, { min: 0, max: 1 });
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
    this.lo = make('qr_min', this.init[0]);
    this.hi = make('qr_max', this.init[1]);
  }

  /** The range variables (created here when the quantizer is used without a layer). */
  rangeVariables(): [tf.Variable, tf.Variable] {
    if (!this.lo || !this.hi) {
      const own = (value: number): RangeVar => {
        const v = tf.tidy(() => tf.variable(tf.tensor1d([value]), this.trainableRange));
        return { variable: () => v };
      };
      this.lo = own(this.init[0]);
      this.hi = own(this.init[1]);
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
          const d = this.decay;
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
