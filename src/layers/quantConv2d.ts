/** 2-D convolution (NHWC) with quantized kernel / input / bias (Larq's QuantConv2D, nnabla's *_convolution). */
import * as tf from '@tensorflow/tfjs';
import { Shape, singleShape } from './base';
import { QuantKernelLayer, QuantKernelLayerArgs } from './quantKernelLayer';

export type PaddingMode = 'same' | 'valid';

export interface QuantConv2DArgs extends QuantKernelLayerArgs {
  /** Number of output channels. */
  filters: number;
  /** Kernel height and width (one number for a square kernel). */
  kernelSize: number | [number, number];
  /** Strides (default 1). */
  strides?: number | [number, number];
  /** 'same' or 'valid' (default 'valid', as in tf.layers). */
  padding?: PaddingMode;
}

function pair(v: number | number[] | undefined, fallback: number, what: string): [number, number] {
  const p: number[] = v == null ? [fallback, fallback] : typeof v === 'number' ? [v, v] : [...v];
  if (p.length !== 2 || !p.every((n) => Number.isInteger(n) && n > 0)) {
    throw new Error(`QuantConv2D: ${what} must be a positive integer or a pair, got ${JSON.stringify(v)}.`);
  }
  return [p[0], p[1]];
}

/** Output length of a convolution or pooling along one axis (tf conventions). */
export function convOutputLength(input: number | null, kernel: number, stride: number, padding: PaddingMode): number | null {
  if (input == null) return null;
  return padding === 'same' ? Math.ceil(input / stride) : Math.ceil((input - kernel + 1) / stride);
}

export class QuantConv2D extends QuantKernelLayer {
  static className = 'QuantConv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: PaddingMode;

  constructor(args: QuantConv2DArgs) {
    super(args);
    if (!Number.isInteger(args.filters) || args.filters <= 0) {
      throw new Error(`QuantConv2D: filters must be a positive integer, got ${args.filters}.`);
    }
    this.filters = args.filters;
    this.kernelSize = pair(args.kernelSize, 1, 'kernelSize');
    this.strides = pair(args.strides, 1, 'strides');
    const padding = args.padding ?? 'valid';
    if (padding !== 'same' && padding !== 'valid') {
      throw new Error(`QuantConv2D: padding must be 'same' or 'valid', got '${String(padding)}'.`);
    }
    this.padding = padding;
  }

  private inputChannels(shape: Shape): number {
    if (shape.length !== 4) throw new Error(`QuantConv2D ${this.name}: expected NHWC input, got shape [${shape.join(',')}].`);
    const c = shape[3];
    if (c == null) throw new Error(`QuantConv2D ${this.name}: the channel dimension must be known.`);
    return c;
  }

  protected kernelShape(inputShape: Shape): number[] {
    return [this.kernelSize[0], this.kernelSize[1], this.inputChannels(inputShape), this.filters];
  }

  protected outputChannels(): number {
    return this.filters;
  }

  protected linear(x: tf.Tensor, kernel: tf.Tensor): tf.Tensor {
    return tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, this.strides, this.padding, 'NHWC');
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape);
    this.inputChannels(s);
    return [
      s[0],
      convOutputLength(s[1], this.kernelSize[0], this.strides[0], this.padding),
      convOutputLength(s[2], this.kernelSize[1], this.strides[1], this.padding),
      this.filters,
    ];
  }

  macsPerSample(inputShape: Shape): number {
    const s = singleShape(inputShape);
    const out = this.computeOutputShape(s);
    const [kh, kw] = this.kernelSize;
    return (out[1] ?? 0) * (out[2] ?? 0) * this.filters * kh * kw * this.inputChannels(s);
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
tf.serialization.registerClass(QuantConv2D);

/** Factory in the style of tf.layers.conv2d. */
export function quantConv2d(args: QuantConv2DArgs): QuantConv2D {
  return new QuantConv2D(args);
}
