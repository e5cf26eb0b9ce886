/**
 * ResNet option-A shortcut: subsample spatially by `stride` and zero-pad the channels to `filters`
 * (He et al. 2016, CIFAR ResNets). Subsampling uses a 1x1 average pool (x[:, ::s, ::s, :]) because
 * StridedSlice has no gradient in tfjs.
 */
import * as tf from '@tensorflow/tfjs';
import { Kwargs, LayerArgs, Shape, singleShape, singleTensor } from './base';

export interface ZeroPadShortcutArgs extends LayerArgs {
  /** Output channels (>= input channels); the extra ones are zeros, split evenly before and after. */
  filters: number;
  /** Spatial subsampling factor (default 2). */
  stride?: number;
}

export class ZeroPadShortcut extends tf.layers.Layer {
  static className = 'ZeroPadShortcut';
  readonly filters: number;
  readonly stride: number;

  constructor(args: ZeroPadShortcutArgs) {
    super(args);
    this.filters = args.filters;
    this.stride = args.stride ?? 2;
  }

  private padding(inChannels: number): [number, number] {
    const extra = this.filters - inChannels;
    if (extra < 0) throw new Error(`ZeroPadShortcut ${this.name}: ${inChannels} input channels > filters ${this.filters}.`);
    const before = Math.floor(extra / 2);
    return [before, extra - before];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      let x = singleTensor(inputs) as tf.Tensor4D;
      if (this.stride > 1) x = tf.avgPool(x, 1, this.stride, 'valid');
      const [b, a] = this.padding(x.shape[3]);
      return b + a > 0 ? tf.pad(x, [[0, 0], [0, 0], [0, 0], [b, a]]) : x;
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape);
    const sub = (d: number | null) => (d == null ? null : Math.ceil(d / this.stride));
    return [s[0], sub(s[1]), sub(s[2]), this.filters];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, stride: this.stride };
  }
}
tf.serialization.registerClass(ZeroPadShortcut);
