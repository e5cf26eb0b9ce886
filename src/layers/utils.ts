/** Model-level helpers over the quantized layers. */
import * as tf from '@tensorflow/tfjs';
import { QuantizedKernelLayer, isQuantizedKernelLayer } from './base';
import { QuantActivation } from './quantActivation';

type LayerContainer = { layers: tf.layers.Layer[] };

function hasLayers(l: unknown): l is LayerContainer {
  return l != null && typeof l === 'object' && Array.isArray((l as LayerContainer).layers);
}

/** Every layer of a model, nested models flattened, in model order. */
export function allLayers(model: LayerContainer): tf.layers.Layer[] {
  const out: tf.layers.Layer[] = [];
  for (const l of model.layers) {
    if (hasLayers(l)) out.push(...allLayers(l));
    else out.push(l);
  }
  return out;
}

/**
 * The layers whose kernel is quantized (QuantDense / QuantConv2D with a kernel quantizer), in model order.
 * With `{includeFloat: true}` also the quantized-layer classes that keep a float kernel.
 */
export function quantizedLayers(
  model: LayerContainer,
  opts: { includeFloat?: boolean } = {},
): Array<QuantizedKernelLayer & tf.layers.Layer> {
  return allLayers(model).filter(
    (l): l is QuantizedKernelLayer & tf.layers.Layer =>
      isQuantizedKernelLayer(l) && (opts.includeFloat === true || l.kernelQuantizer != null),
  );
}

/** The activation-quantizer layers of a model. */
export function activationQuantizers(model: LayerContainer): QuantActivation[] {
  return allLayers(model).filter((l): l is QuantActivation => l instanceof QuantActivation);
}

/**
 * Call after every optimizer step: forwards the global step to each quantized layer (INQ fixes more weights at
 * its scheduled iterations, SQ redraws its stochastic selection).
 */
export function afterTrainStep(model: LayerContainer, step: number): void {
  for (const l of quantizedLayers(model)) l.afterStep(step);
}
