import * as tf from '@tensorflow/tfjs';

/**
 * The quantizer contract shared by quantizers and quantized layers.
 *
 * A quantizer is first of all a small pure function `(x, options) => q` whose gradient is an explicit
 * straight-through estimator (see the files in this folder). Layers do not call those functions directly:
 * they build a `Quantizer` from a serializable `QuantizerSpec`, because some methods own state
 * (learned ranges in min-max, the fixed-weight mask of INQ, the selection of SQ).
 */

/** Serializable description of a quantizer: the name in the registry plus its options (plain data). */
export interface QuantizerSpec {
  name: string;
  options?: Record<string, unknown>;
}

/** Adds a trainable or non-trainable weight to the owning layer (wraps `Layer.addWeight`). */
export type AddWeight = (
  name: string,
  shape: number[],
  initializer: tf.serialization.ConfigDictValue | string | undefined,
  trainable: boolean,
) => tf.LayerVariable;

/** A quantizer instance owned by one layer, for one tensor (a kernel or the layer's input). */
export interface Quantizer {
  /** The spec it was built from (for getConfig). */
  readonly spec: QuantizerSpec;
  /** Bits needed to store one quantized value (for the memory summary); 32 for float. */
  readonly bits: number;
  /** Called once from the layer's build() with the shape of the tensor it quantizes. */
  build?(shape: number[], addWeight: AddWeight): void;
  /** Quantize inside the taped forward pass. `training` is the layer's training flag. */
  apply(x: tf.Tensor, training: boolean): tf.Tensor;
  /**
   * Called by the training loop after each optimizer step with the global step and the latent variable
   * this quantizer reads (INQ fixes weights here; SQ redraws its selection).
   * `step` counts completed optimizer steps: 1 after the first one (INQ's schedule uses this convention,
   * which matches nnabla's fixing before the forward pass that follows `iteration` updates).
   * `tf.LayerVariable.read()` returns the layer's tf.Variable (typed as tf.Tensor): pass it with a cast.
   */
  afterStep?(step: number, latent: tf.Variable): void;
  /** The exact values used at inference, for export, flip ratio and quantization loss. */
  quantizedValue?(latent: tf.Tensor): tf.Tensor;
  /**
   * The discrete code of quantized values, what a "flip" changes (flip ratio). Defaults to the values
   * themselves; α·sign(w) and α·ternary(w) return sign(q), since α moves at every step.
   */
  code?(quantized: tf.Tensor): tf.Tensor;
  /** Stochastic quantization only: switch to the next stage's ratio r in [0, 1] (sqRatioSchedule). */
  setRatio?(ratio: number): void;
  /** Release tensors the quantizer keeps outside its layer weights (INQ's frozen values). */
  dispose?(): void;
}
