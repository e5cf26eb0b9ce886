/**
 * 2-D convolutional Bayesian M-ary layer (channels-last). One bias per output channel: the published code's
 * per-position bias (shape (out, H, W)) ties the layer to one image size and is not what the paper describes.
 */
import * as tf from '@tensorflow/tfjs';
import { convOutputLength } from '../layers/quantConv2d';
import { VariationalLayer, type VariationalBaseArgs } from './variationalLayer';

export interface VariationalConv2DArgs extends VariationalBaseArgs {
  filters: number;
  kernelSize: number | [number, number];
  strides?: number | [number, number];
  padding?: 'valid' | 'same';
}

function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

export class VariationalConv2D extends VariationalLayer {
  static className = 'VariationalConv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: 'valid' | 'same';

  constructor(args: VariationalConv2DArgs) {
    super(args);
    if (!(Number.isInteger(args.filters) && args.filters > 0)) throw new Error(`VariationalConv2D: filters must be a positive integer, got ${args.filters}`);
    this.filters = args.filters;
    this.kernelSize = pair(args.kernelSize);
    this.strides = pair(args.strides ?? 1);
    this.padding = args.padding ?? 'valid';
  }

  protected kernelShape(inputShape: (number | null)[]): number[] {
    if (inputShape.length !== 4) throw new Error(`VariationalConv2D expects [batch, h, w, c] input, got [${inputShape.join(', ')}]`);
    const c = inputShape[3];
    if (c == null) throw new Error('VariationalConv2D: the channel dimension must be known');
    return [this.kernelSize[0], this.kernelSize[1], c, this.filters];
  }

  protected outputChannels(): number {
    return this.filters;
  }

  protected linear(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
    return tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, this.strides, this.padding);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [
      s[0],
      convOutputLength(s[1], this.kernelSize[0], this.strides[0], this.padding),
      convOutputLength(s[2], this.kernelSize[1], this.strides[1], this.padding),
      this.filters,
    ];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: [...this.kernelSize],
      strides: [...this.strides],
      padding: this.padding,
    };
  }
}
tf.serialization.registerClass(VariationalConv2D);
