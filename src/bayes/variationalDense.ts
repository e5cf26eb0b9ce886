/** Fully connected Bayesian M-ary layer: x @ W with W ~ q(W) = N(θ, σ²) quantized to M learned levels. */
import * as tf from '@tensorflow/tfjs';
import { VariationalLayer, type VariationalBaseArgs } from './variationalLayer';

export interface VariationalDenseArgs extends VariationalBaseArgs {
  units: number;
}

export class VariationalDense extends VariationalLayer {
  static className = 'VariationalDense';
  readonly units: number;

  constructor(args: VariationalDenseArgs) {
    super(args);
    if (!(Number.isInteger(args.units) && args.units > 0)) throw new Error(`VariationalDense: units must be a positive integer, got ${args.units}`);
    this.units = args.units;
  }

  protected kernelShape(inputShape: (number | null)[]): number[] {
    if (inputShape.length !== 2) throw new Error(`VariationalDense expects [batch, features] input, got shape [${inputShape.join(', ')}]; flatten first.`);
    const inDim = inputShape[1];
    if (inDim == null) throw new Error('VariationalDense: the feature dimension must be known');
    return [inDim, this.units];
  }

  protected outputChannels(): number {
    return this.units;
  }

  protected linear(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
    return tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [s[0], this.units];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units };
  }
}
tf.serialization.registerClass(VariationalDense);
