/** Densely connected layer with quantized kernel / input / bias (Larq's QuantDense, nnabla's *_affine). */
import * as tf from '@tensorflow/tfjs';
import { Shape, singleShape } from './base';
import { QuantKernelLayer, QuantKernelLayerArgs } from './quantKernelLayer';

export interface QuantDenseArgs extends QuantKernelLayerArgs {
  /** Number of output units. */
  units: number;
}

export class QuantDense extends QuantKernelLayer {
  static className = 'QuantDense';
  readonly units: number;

  constructor(args: QuantDenseArgs) {
    super(args);
    if (!Number.isInteger(args.units) || args.units <= 0) {
      throw new Error(`QuantDense: units must be a positive integer, got ${args.units}.`);
    }
    this.units = args.units;
  }

  private inputDim(shape: Shape): number {
    const d = shape[shape.length - 1];
    if (d == null) throw new Error(`QuantDense ${this.name}: the last input dimension must be known.`);
    return d;
  }

  protected kernelShape(inputShape: Shape): number[] {
    return [this.inputDim(inputShape), this.units];
  }

  protected outputChannels(): number {
    return this.units;
  }

  protected linear(x: tf.Tensor, kernel: tf.Tensor): tf.Tensor {
    if (x.rank === 2) return tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D);
    const lead = x.shape.slice(0, -1);
    const flat = tf.reshape(x, [-1, x.shape[x.rank - 1]]) as tf.Tensor2D;
    return tf.reshape(tf.matMul(flat, kernel as tf.Tensor2D), [...lead, this.units]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(inputShape);
    return [...shape.slice(0, -1), this.units];
  }

  macsPerSample(inputShape: Shape): number {
    const shape = singleShape(inputShape);
    let positions = 1;
    for (const d of shape.slice(1, -1)) positions *= d ?? 1;
    return positions * this.inputDim(shape) * this.units;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units };
  }
}
tf.serialization.registerClass(QuantDense);

/** Factory in the style of tf.layers.dense. */
export function quantDense(args: QuantDenseArgs): QuantDense {
  return new QuantDense(args);
}
