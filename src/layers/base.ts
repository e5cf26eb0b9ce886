/**
 * Shared plumbing of the quantized layers (in the spirit of Larq's `QuantizerBase`): a layer only wires
 * quantizers in. A quantizer is given either as a serializable `QuantizerSpec` (built with `makeQuantizer`)
 * or as a ready `Quantizer` object (handy for custom quantizers and tests; getConfig then stores its spec).
 */
import * as tf from '@tensorflow/tfjs';
import { makeQuantizer } from '../quantizers';
import type { AddWeight, Quantizer, QuantizerSpec } from '../quantizers/types';
import { resolveInitializer } from './initializers';

/** Constructor arguments common to every tf.layers.Layer (name, trainable, inputShape, ...). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
/** Keyword arguments of Layer.call (`training` lives here). */
export type Kwargs = Parameters<tf.layers.Layer['call']>[1];
/** A layer's input or output shape, batch dimension first (null when unknown). */
export type Shape = Array<number | null>;

/** A quantizer given as plain data or as a built object. `null`/undefined means "no quantization" (float32). */
export type QuantizerLike = QuantizerSpec | Quantizer;

export function isQuantizer(q: unknown): q is Quantizer {
  return q != null && typeof q === 'object' && typeof (q as Quantizer).apply === 'function' &&
    typeof (q as Quantizer).bits === 'number';
}

/** Build a quantizer from a spec (or pass an object through). null/undefined -> null. */
export function toQuantizer(q: QuantizerLike | null | undefined): Quantizer | null {
  if (q == null) return null;
  if (isQuantizer(q)) return q;
  if (typeof q !== 'object' || typeof (q as QuantizerSpec).name !== 'string') {
    throw new Error(`Not a quantizer spec: ${JSON.stringify(q)} (expected {name, options?}).`);
  }
  return makeQuantizer(q as QuantizerSpec);
}

/** The spec stored in getConfig (plain data), or null. */
export function quantizerConfig(q: Quantizer | null): tf.serialization.ConfigDictValue {
  if (!q) return null;
  const spec: QuantizerSpec = q.spec;
  const out: tf.serialization.ConfigDict = { name: spec.name };
  if (spec.options !== undefined) out.options = spec.options as tf.serialization.ConfigDict;
  return out;
}

/** Read the batch-first shape of the single input of a layer. */
export function singleShape(inputShape: Shape | Shape[]): Shape {
  if (Array.isArray(inputShape[0]) || (inputShape.length > 0 && inputShape[0] === undefined)) {
    const shapes = inputShape as Shape[];
    if (shapes.length !== 1) throw new Error(`Expected one input, got ${shapes.length}.`);
    return shapes[0];
  }
  return inputShape as Shape;
}

/** The single input tensor of a call. */
export function singleTensor(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  if (Array.isArray(inputs)) {
    if (inputs.length !== 1) throw new Error(`Expected one input tensor, got ${inputs.length}.`);
    return inputs[0];
  }
  return inputs;
}

/** Per-sample shape (batch dimension dropped; unknown sizes become -1). */
export function sampleShape(shape: Shape): number[] {
  return shape.slice(1).map((d) => (d == null ? -1 : d));
}

/**
 * The weight-adding callback handed to `Quantizer.build`: prefixes names, resolves initializers and records
 * the created weights (the memory summary reports them apart from the kernel).
 */
export function makeAddWeight(
  add: (name: string, shape: number[], init: ReturnType<typeof resolveInitializer>, trainable: boolean) => tf.LayerVariable,
  prefix: string,
  record: tf.LayerVariable[],
): AddWeight {
  return (name, shape, initializer, trainable) => {
    const v = add(`${prefix}${name}`, shape, resolveInitializer(initializer, 'zeros'), trainable);
    record.push(v);
    return v;
  };
}

/** Interface shared by every layer whose kernel may be quantized (QuantDense, QuantConv2D). */
export interface QuantizedKernelLayer {
  readonly name: string;
  /** The quantizer of the kernel, or null for a float32 kernel. */
  readonly kernelQuantizer: Quantizer | null;
  /** The quantizer of the layer input, or null. */
  readonly inputQuantizer: Quantizer | null;
  /** The quantizer of the bias, or null (nnabla's fixed-point and pow2 layers quantize the bias too). */
  readonly biasQuantizer: Quantizer | null;
  /** Bits per stored kernel value (32 without a kernel quantizer). */
  readonly kernelBits: number;
  /** Bits per input value (32 without an input quantizer). */
  readonly inputBits: number;
  /** Bits per stored bias value (32 without a bias quantizer). */
  readonly biasBits: number;
  /** Weights created by the quantizers (learned ranges, masks, ...). */
  readonly quantizerWeights: tf.LayerVariable[];
  /** The latent float kernel that the optimizer updates. */
  latentKernel(): tf.LayerVariable;
  /** The kernel values used at inference (a new tensor: dispose it). */
  quantizedKernel(): tf.Tensor;
  /** Forwarded to the quantizers after every optimizer step (INQ fixes weights, SQ redraws). */
  afterStep(step: number): void;
  /** Bits per stored value of one of the layer's weights (0: needed only during training). */
  summaryWeightBits(v: tf.LayerVariable): number;
  /** Multiply-accumulates per sample for the given batch-first input shape. */
  macsPerSample(inputShape: Shape): number;
}

export function isQuantizedKernelLayer(layer: unknown): layer is QuantizedKernelLayer & tf.layers.Layer {
  return layer instanceof tf.layers.Layer &&
    typeof (layer as unknown as QuantizedKernelLayer).latentKernel === 'function' &&
    typeof (layer as unknown as QuantizedKernelLayer).quantizedKernel === 'function' &&
    typeof (layer as unknown as QuantizedKernelLayer).afterStep === 'function';
}

/** Quantizer spec or object from a (possibly deserialized) config value: null stays null. */
export function readQuantizerArg(v: unknown): QuantizerLike | null {
  if (v == null) return null;
  return v as QuantizerLike;
}
