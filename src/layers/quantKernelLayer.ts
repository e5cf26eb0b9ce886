/**
 * Abstract base of layers with a (possibly quantized) kernel and an optional bias: QuantDense, QuantConv2D.
 * Forward: q_in = inputQuantizer(x), q_k = kernelQuantizer(kernel), y = op(q_in, q_k) (+ q_b).
 * The quantizers carry their own straight-through gradients, so the optimizer updates the latent kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { Quantizer } from '../quantizers/types';
import {
  Kwargs, LayerArgs, QuantizedKernelLayer, QuantizerLike, Shape, makeAddWeight, quantizerConfig,
  readQuantizerArg, sampleShape, singleShape, singleTensor, toQuantizer,
} from './base';
import { Initializer, InitializerLike, resolveInitializer, serializeInitializer } from './initializers';

export interface QuantKernelLayerArgs extends LayerArgs {
  /** Whether to add a bias (default true, as in tf.layers). */
  useBias?: boolean;
  /** Kernel initializer (default glorotUniform, as in tf.layers). Pass a seeded one for reproducibility. */
  kernelInitializer?: InitializerLike;
  /** Bias initializer (default zeros). */
  biasInitializer?: InitializerLike;
  /** Quantizer of the kernel (e.g. {name: 'binaryConnect'}); none = float32 kernel. */
  kernelQuantizer?: QuantizerLike | null;
  /** Quantizer of the layer input (Larq's input_quantizer); none = float input. */
  inputQuantizer?: QuantizerLike | null;
  /** Quantizer of the bias (nnabla's fixed-point/pow2 layers quantize it with the kernel's settings). */
  biasQuantizer?: QuantizerLike | null;
}

function sizeOf(shape: ReadonlyArray<number | null>): number {
  return shape.reduce<number>((a, d) => a * (d ?? 1), 1);
}

export abstract class QuantKernelLayer extends tf.layers.Layer implements QuantizedKernelLayer {
  readonly useBias: boolean;
  readonly kernelQuantizer: Quantizer | null;
  readonly inputQuantizer: Quantizer | null;
  readonly biasQuantizer: Quantizer | null;
  readonly quantizerWeights: tf.LayerVariable[] = [];
  /** Size of the tensor each quantizer weight's quantizer quantizes. */
  private readonly quantizedSize = new Map<tf.LayerVariable, number>();
  protected readonly kernelInitializer: Initializer;
  protected readonly biasInitializer: Initializer;
  protected kernel: tf.LayerVariable | null = null;
  protected bias: tf.LayerVariable | null = null;

  constructor(args: QuantKernelLayerArgs) {
    super(args);
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = resolveInitializer(args.kernelInitializer, 'glorotUniform');
    this.biasInitializer = resolveInitializer(args.biasInitializer, 'zeros');
    this.kernelQuantizer = toQuantizer(readQuantizerArg(args.kernelQuantizer));
    this.inputQuantizer = toQuantizer(readQuantizerArg(args.inputQuantizer));
    this.biasQuantizer = toQuantizer(readQuantizerArg(args.biasQuantizer));
  }

  get kernelBits(): number {
    return this.kernelQuantizer ? this.kernelQuantizer.bits : 32;
  }

  get inputBits(): number {
    return this.inputQuantizer ? this.inputQuantizer.bits : 32;
  }

  get biasBits(): number {
    return this.biasQuantizer ? this.biasQuantizer.bits : 32;
  }

  /** Kernel shape for a batch-first input shape. */
  protected abstract kernelShape(inputShape: Shape): number[];
  /** Number of outputs (units or filters), the bias length. */
  protected abstract outputChannels(): number;
  /** The linear operation on the (quantized) input and kernel, without bias. */
  protected abstract linear(x: tf.Tensor, kernel: tf.Tensor): tf.Tensor;
  abstract macsPerSample(inputShape: Shape): number;

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape);
    const kShape = this.kernelShape(shape);
    const add = (name: string, s: number[], init: Initializer, trainable: boolean) =>
      this.addWeight(name, s, 'float32', init, undefined, trainable);
    this.kernel = this.addWeight('kernel', kShape, 'float32', this.kernelInitializer, undefined, true);
    if (this.useBias) {
      this.bias = this.addWeight('bias', [this.outputChannels()], 'float32', this.biasInitializer, undefined, true);
    }
    const slot = (q: Quantizer | null, target: number[], prefix: string) => {
      if (!q?.build) return;
      const created: tf.LayerVariable[] = [];
      q.build(target, makeAddWeight(add, prefix, created));
      for (const v of created) this.quantizedSize.set(v, sizeOf(target));
      this.quantizerWeights.push(...created);
    };
    slot(this.kernelQuantizer, kShape, 'kernel_q_');
    slot(this.inputQuantizer, sampleShape(shape), 'input_q_');
    if (this.bias) slot(this.biasQuantizer, [this.outputChannels()], 'bias_q_');
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const training = kwargs != null && kwargs['training'] === true;
      let x = singleTensor(inputs);
      if (this.inputQuantizer) x = this.inputQuantizer.apply(x, training);
      const latent = this.latentKernel().read();
      const k = this.kernelQuantizer ? this.kernelQuantizer.apply(latent, training) : latent;
      let y = this.linear(x, k);
      if (this.bias) {
        const b = this.biasQuantizer ? this.biasQuantizer.apply(this.bias.read(), training) : this.bias.read();
        y = tf.add(y, b);
      }
      return y;
    });
  }

  latentKernel(): tf.LayerVariable {
    if (!this.kernel) throw new Error(`Layer ${this.name} is not built yet: call it on an input first.`);
    return this.kernel;
  }

  /** The bias variable, or null without bias. */
  latentBias(): tf.LayerVariable | null {
    return this.bias;
  }

  quantizedKernel(): tf.Tensor {
    const latent = this.latentKernel().read();
    return tf.tidy(() => {
      const q = this.kernelQuantizer;
      if (!q) return latent.clone();
      return q.quantizedValue ? q.quantizedValue(latent) : q.apply(latent, false);
    });
  }

  /**
   * Bits per stored value of one of this layer's weights, for the memory summary: the kernel at the kernel
   * quantizer's bits, the bias at the bias quantizer's (else 32), quantizer weights at 32, except a
   * non-trainable quantizer weight with the size of the tensor it quantizes (a per-weight mask such as
   * INQ's), which is only needed during training: 0.
   */
  summaryWeightBits(v: tf.LayerVariable): number {
    if (v === this.kernel) return this.kernelBits;
    if (v === this.bias) return this.biasBits;
    if (!v.trainable && this.quantizedSize.get(v) === sizeOf(v.shape)) return 0;
    return 32;
  }

  afterStep(step: number): void {
    if (this.kernel && this.kernelQuantizer?.afterStep) this.kernelQuantizer.afterStep(step, this.kernel.read() as tf.Variable);
    if (this.bias && this.biasQuantizer?.afterStep) this.biasQuantizer.afterStep(step, this.bias.read() as tf.Variable);
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      useBias: this.useBias,
      kernelInitializer: serializeInitializer(this.kernelInitializer) as unknown as tf.serialization.ConfigDict,
      biasInitializer: serializeInitializer(this.biasInitializer) as unknown as tf.serialization.ConfigDict,
      kernelQuantizer: quantizerConfig(this.kernelQuantizer),
      inputQuantizer: quantizerConfig(this.inputQuantizer),
      biasQuantizer: quantizerConfig(this.biasQuantizer),
    };
    return { ...super.getConfig(), ...config };
  }
}
