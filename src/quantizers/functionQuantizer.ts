/**
 * The stateful `Quantizer` face of a stateless quantizer function: `apply` runs the function (with its
 * straight-through gradient), `quantizedValue` the same values without taping a gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { defineQuantizer } from './descriptor';
import type { Quantizer, QuantizerSpec } from './types';

export class FunctionQuantizer implements Quantizer {
  constructor(
    readonly spec: QuantizerSpec,
    readonly bits: number,
    private readonly fn: (x: tf.Tensor, training: boolean) => tf.Tensor,
    private readonly valueFn: (latent: tf.Tensor) => tf.Tensor = (latent) => fn(latent, false),
    private readonly codeFn?: (quantized: tf.Tensor) => tf.Tensor,
  ) {}

  code(quantized: tf.Tensor): tf.Tensor {
    return this.codeFn ? this.codeFn(quantized) : quantized.clone();
  }

  apply(x: tf.Tensor, training: boolean): tf.Tensor {
    return this.fn(x, training);
  }

  quantizedValue(latent: tf.Tensor): tf.Tensor {
    return this.valueFn(latent);
  }
}

/** No quantization: float32 values, identity gradient. `apply` returns a copy, never the variable itself. */
export function identityQuantizer(spec: QuantizerSpec): FunctionQuantizer {
  return new FunctionQuantizer(spec, 32, (x) => tf.clone(x));
}

/** No quantization ('none' is the same entry). */
export const identityDescriptor = defineQuantizer({
  name: 'identity',
  aliases: ['none'],
  description: 'No quantization: float32 values, identity gradient.',
  source: '-',
  options: {},
  make: (spec) => identityQuantizer(spec),
});
