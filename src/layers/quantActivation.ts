/**
 * Applies an activation quantizer (fixedPoint, pow2, minMax, binaryTanh, ...) as a layer of its own, for the
 * "net" variants where nnabla inserts F.fixed_point_quantize / F.binary_tanh / PF.min_max_quantize between
 * layers. Quantizer weights (e.g. min-max's learned range) belong to this layer.
 */
import * as tf from '@tensorflow/tfjs';
import type { Quantizer } from '../quantizers/types';
import {
  Kwargs, LayerArgs, QuantizerLike, Shape, makeAddWeight, quantizerConfig, readQuantizerArg, sampleShape,
  singleShape, singleTensor, toQuantizer,
} from './base';
import type { Initializer } from './initializers';

export interface QuantActivationArgs extends LayerArgs {
  /** The activation quantizer. */
  quantizer: QuantizerLike;
}

export class QuantActivation extends tf.layers.Layer {
  static className = 'QuantActivation';
  readonly quantizer: Quantizer;
  readonly quantizerWeights: tf.LayerVariable[] = [];

  constructor(args: QuantActivationArgs) {
    super(args);
    const q = toQuantizer(readQuantizerArg(args.quantizer));
    if (!q) throw new Error('QuantActivation needs a quantizer.');
    this.quantizer = q;
  }

  /** Bits per output value. */
  get bits(): number {
    return this.quantizer.bits;
  }

  /** Bits per stored value of a weight of this layer (the quantizer's range etc.: 32). */
  summaryWeightBits(_v: tf.LayerVariable): number {
    return 32;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape);
    const add = (name: string, s: number[], init: Initializer, trainable: boolean) =>
      this.addWeight(name, s, 'float32', init, undefined, trainable);
    this.quantizer.build?.(sampleShape(shape), makeAddWeight(add, '', this.quantizerWeights));
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const training = kwargs != null && kwargs['training'] === true;
      return this.quantizer.apply(singleTensor(inputs), training);
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return singleShape(inputShape);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), quantizer: quantizerConfig(this.quantizer) };
  }
}
tf.serialization.registerClass(QuantActivation);

/** Factory in the style of tf.layers.activation. */
export function quantActivation(args: QuantActivationArgs): QuantActivation {
  return new QuantActivation(args);
}
