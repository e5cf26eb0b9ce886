/**
 * Shared model-building blocks: options every paper model takes, and a small builder that creates
 * seeded, named, quantized layers and places activation quantizers the way the sources do.
 *
 * Activation placement ("net" variants), for a conv/dense output h:
 *   no activationQuantizer : BN -> ReLU                       (weights-only "connect" variants, fp)
 *   'replace-relu'         : BN -> Q                          (BinaryNet: binary_tanh replaces ReLU)
 *   'before-relu'          : BN -> Q -> ReLU                  (nnabla fixed-point net / pow2 net)
 *   'after-relu'           : BN -> ReLU -> Q                  (usual QAT of ReLU outputs)
 *   'relu-bn-q'            : ReLU -> BN -> Q                  (nnabla min-max net; docs/methods.md#min-max)
 * Residual branches end with BN -> Q (except 'replace-relu', which quantizes after the sum instead), so that
 * both summands are on the quantizer's grid; the sum is followed by ReLU where the architecture has one
 * ('replace-relu': by Q). The network input is never quantized (as in nnabla).
 */
import * as tf from '@tensorflow/tfjs';
import type { QuantizerSpec } from '../quantizers/types';
import { Rng } from '../util/random';
import { QuantActivation, QuantConv2D, QuantDense, batchNormalization } from '../layers';
import type { PaddingMode } from '../layers';

export type ActivationPlacement = 'replace-relu' | 'before-relu' | 'after-relu' | 'relu-bn-q';

export const ACTIVATION_PLACEMENTS: readonly ActivationPlacement[] = ['replace-relu', 'before-relu', 'after-relu', 'relu-bn-q'];

export type KernelInitializerName = 'glorotUniform' | 'glorotNormal' | 'heNormal' | 'heUniform' | 'leCunNormal' | 'leCunUniform';

/** Options shared by every model builder. */
export interface QuantModelOptions {
  /** Quantizer for every conv/dense kernel (none: float32 weights). */
  kernelQuantizer?: QuantizerSpec | null;
  /** Activation quantizer for the "net" variants (none: float activations). */
  activationQuantizer?: QuantizerSpec | null;
  /** Where the activation quantizer goes; default 'replace-relu' for binaryTanh, else 'before-relu'. */
  activationPlacement?: ActivationPlacement;
  /** Quantizer for the biases of layers that have one (nnabla's fixed-point/pow2 affine quantize biases). */
  biasQuantizer?: QuantizerSpec | null;
  /** Quantize the first conv and the last dense layer too (default true, as in nnabla and the SQ code). */
  quantizeFirstLast?: boolean;
  /** Seed for all weight initializers; undefined = random. */
  seed?: number;
  /** Number of classes of the logits layer (default 10). */
  numClasses?: number;
  /** Kernel initializer for conv/dense layers (the default depends on the model). */
  kernelInitializer?: KernelInitializerName;
  /** BatchNorm momentum (Keras convention; default 0.9 = PyTorch 0.1 = nnabla decay 0.9). */
  bnMomentum?: number;
  /** BatchNorm epsilon (default 1e-5 as in PyTorch / nnabla / Caffe). */
  bnEpsilon?: number;
  /** Model name. */
  name?: string;
}

/** Default placement for a quantizer name. */
export function defaultPlacement(q: QuantizerSpec | null | undefined): ActivationPlacement {
  return q && /tanh|sign/i.test(q.name) ? 'replace-relu' : 'before-relu';
}

export interface ConvOpts {
  name: string;
  filters: number;
  kernelSize: number;
  strides?: number;
  padding?: PaddingMode;
  useBias?: boolean;
  /** false: keep this layer in float32 (used for first/last when quantizeFirstLast is false). */
  quantize?: boolean;
}

export interface DenseOpts {
  name: string;
  units: number;
  useBias?: boolean;
  quantize?: boolean;
}

type Sym = tf.SymbolicTensor;

/** Creates named, seeded layers for one model. */
export class ModelBuilder {
  readonly kernelQuantizer: QuantizerSpec | null;
  readonly activationQuantizer: QuantizerSpec | null;
  readonly biasQuantizer: QuantizerSpec | null;
  readonly placement: ActivationPlacement;
  readonly quantizeFirstLast: boolean;
  readonly numClasses: number;
  private readonly rng: Rng | null;
  private readonly initName: KernelInitializerName;
  private readonly bnMomentum: number;
  private readonly bnEpsilon: number;

  constructor(opts: QuantModelOptions, defaultInit: KernelInitializerName) {
    this.kernelQuantizer = opts.kernelQuantizer ?? null;
    this.activationQuantizer = opts.activationQuantizer ?? null;
    this.biasQuantizer = opts.biasQuantizer ?? null;
    this.placement = opts.activationPlacement ?? defaultPlacement(this.activationQuantizer);
    if (!ACTIVATION_PLACEMENTS.includes(this.placement)) {
      throw new Error(`Unknown activationPlacement '${this.placement}'; use one of ${ACTIVATION_PLACEMENTS.join(', ')}.`);
    }
    this.quantizeFirstLast = opts.quantizeFirstLast ?? true;
    this.numClasses = opts.numClasses ?? 10;
    this.rng = opts.seed == null ? null : new Rng(opts.seed);
    this.initName = opts.kernelInitializer ?? defaultInit;
    this.bnMomentum = opts.bnMomentum ?? 0.9;
    this.bnEpsilon = opts.bnEpsilon ?? 1e-5;
  }

  /** Next layer seed (undefined when the model is unseeded). */
  nextSeed(): number | undefined {
    return this.rng ? this.rng.nextSeed() : undefined;
  }

  private kernelInit() {
    const seed = this.nextSeed();
    const args = seed == null ? {} : { seed };
    switch (this.initName) {
      case 'glorotUniform': return tf.initializers.glorotUniform(args);
      case 'glorotNormal': return tf.initializers.glorotNormal(args);
      case 'heNormal': return tf.initializers.heNormal(args);
      case 'heUniform': return tf.initializers.heUniform(args);
      case 'leCunNormal': return tf.initializers.leCunNormal(args);
      case 'leCunUniform': return tf.initializers.leCunUniform(args);
      default: throw new Error(`Unknown kernelInitializer '${String(this.initName)}'.`);
    }
  }

  conv(x: Sym, o: ConvOpts): Sym {
    const quantize = o.quantize ?? true;
    const useBias = o.useBias ?? false;
    return new QuantConv2D({
      name: o.name,
      filters: o.filters,
      kernelSize: o.kernelSize,
      strides: o.strides ?? 1,
      padding: o.padding ?? 'same',
      useBias,
      kernelInitializer: this.kernelInit(),
      kernelQuantizer: quantize ? this.kernelQuantizer : null,
      biasQuantizer: quantize && useBias ? this.biasQuantizer : null,
    }).apply(x) as Sym;
  }

  dense(x: Sym, o: DenseOpts): Sym {
    const quantize = o.quantize ?? true;
    const useBias = o.useBias ?? true;
    return new QuantDense({
      name: o.name,
      units: o.units,
      useBias,
      kernelInitializer: this.kernelInit(),
      kernelQuantizer: quantize ? this.kernelQuantizer : null,
      biasQuantizer: quantize && useBias ? this.biasQuantizer : null,
    }).apply(x) as Sym;
  }

  /**
   * The logits layer (always with bias). With unscaled ±1 weights (BinaryConnect, BinaryNet) it is followed
   * by BN, as in nnabla's binary examples (`bn(binary_connect_affine(h, 10))`): the logits of ±1 weights grow
   * with the fan-in (±84 for LeNet-5's fc3 on binary inputs) and would saturate the softmax.
   */
  logits(x: Sym, name = 'logits'): Sym {
    const y = this.dense(x, { name, units: this.numClasses, useBias: true, quantize: this.quantizeFirstLast });
    const unscaledBinary = this.quantizeFirstLast && this.kernelQuantizer?.name === 'binaryConnect';
    return unscaledBinary ? this.bn(y, `${name}_bn`) : y;
  }

  bn(x: Sym, name: string): Sym {
    return batchNormalization({
      name, axis: -1, momentum: this.bnMomentum, epsilon: this.bnEpsilon,
    }).apply(x) as Sym;
  }

  relu(x: Sym, name: string): Sym {
    return tf.layers.reLU({ name }).apply(x) as Sym;
  }

  /** The activation quantizer as a layer (identity when the model has none). */
  quant(x: Sym, name: string): Sym {
    if (!this.activationQuantizer) return x;
    return new QuantActivation({ name, quantizer: this.activationQuantizer }).apply(x) as Sym;
  }

  /** BN (optional) + activation, with the activation quantizer placed as configured (see the file header). */
  bnAct(x: Sym, base: string, withBn = true): Sym {
    const bn = (t: Sym) => (withBn ? this.bn(t, `${base}_bn`) : t);
    if (!this.activationQuantizer) return this.relu(bn(x), `${base}_relu`);
    switch (this.placement) {
      case 'replace-relu': return this.quant(bn(x), `${base}_q`);
      case 'before-relu': return this.relu(this.quant(bn(x), `${base}_q`), `${base}_relu`);
      case 'after-relu': return this.quant(this.relu(bn(x), `${base}_relu`), `${base}_q`);
      case 'relu-bn-q': return this.quant(bn(this.relu(x, `${base}_relu`)), `${base}_q`);
    }
  }

  /** BN without activation at the end of a residual branch (or of a projection shortcut). */
  bnBranchEnd(x: Sym, base: string): Sym {
    const y = this.bn(x, `${base}_bn`);
    if (!this.activationQuantizer || this.placement === 'replace-relu') return y;
    return this.quant(y, `${base}_q`);
  }

  /** Residual sum followed by ReLU (when `relu`), or by Q for 'replace-relu'. */
  residual(branch: Sym, shortcut: Sym, base: string, relu: boolean): Sym {
    const sum = tf.layers.add({ name: `${base}_add` }).apply([branch, shortcut]) as Sym;
    if (this.activationQuantizer && this.placement === 'replace-relu') return this.quant(sum, `${base}_q`);
    return relu ? this.relu(sum, `${base}_relu`) : sum;
  }

  /**
   * BN -> activation -> 2x2 max-pool. With binary activations ('replace-relu') the pool comes before the
   * activation (BN -> pool -> sign): pooling ±1 values would tie in almost every window and send the whole
   * window's gradient to its first +1. `binaryPool` picks that pool: 'max' (BinaryNet's CIFAR VGG) or
   * 'average' (nnabla's BinaryNet LeNet, `binary_tanh(average_pooling(bn(conv)))`), whose sign is a vote of
   * the window that passes gradient to all four inputs.
   */
  bnActPool(x: Sym, base: string, poolName: string, withBn = true, binaryPool: 'max' | 'average' = 'max'): Sym {
    if (this.activationQuantizer && this.placement === 'replace-relu') {
      const y = withBn ? this.bn(x, `${base}_bn`) : x;
      const pooled = binaryPool === 'average' ? this.avgPool(y, poolName) : this.maxPool(y, poolName);
      return this.quant(pooled, `${base}_q`);
    }
    return this.maxPool(this.bnAct(x, base, withBn), poolName);
  }

  maxPool(x: Sym, name: string, size = 2): Sym {
    return tf.layers.maxPooling2d({ name, poolSize: size, strides: size, padding: 'valid' }).apply(x) as Sym;
  }

  avgPool(x: Sym, name: string, size = 2): Sym {
    return tf.layers.averagePooling2d({ name, poolSize: size, strides: size, padding: 'valid' }).apply(x) as Sym;
  }

  dropout(x: Sym, name: string, rate: number): Sym {
    return tf.layers.dropout({ name, rate }).apply(x) as Sym;
  }

  flatten(x: Sym, name = 'flatten'): Sym {
    return tf.layers.flatten({ name }).apply(x) as Sym;
  }

  globalAvgPool(x: Sym, name = 'gap'): Sym {
    return tf.layers.globalAveragePooling2d({ name }).apply(x) as Sym;
  }
}

/** Validate a [H, W, C] input shape. */
export function checkInputShape(shape: number[], model: string): [number, number, number] {
  if (shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`${model}: inputShape must be [height, width, channels], got ${JSON.stringify(shape)}.`);
  }
  return [shape[0], shape[1], shape[2]];
}
