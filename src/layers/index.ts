/**
 * Quantized layers in the style of Larq: each layer only wires quantizers (from src/quantizers) into a
 * standard op. All classes are registered with tf.serialization, so models using them round-trip through
 * model.save / tf.loadLayersModel (import this module before loading).
 */
export type { QuantizedKernelLayer, QuantizerLike, LayerArgs, Kwargs, Shape } from './base';
export { isQuantizedKernelLayer, isQuantizer, toQuantizer } from './base';
export type { Initializer, InitializerIdentifier, InitializerLike, SerializedInitializer } from './initializers';
export { resolveInitializer, serializeInitializer } from './initializers';
export { QuantKernelLayer } from './quantKernelLayer';
export type { QuantKernelLayerArgs } from './quantKernelLayer';
export { QuantDense, quantDense } from './quantDense';
export type { QuantDenseArgs } from './quantDense';
export { QuantConv2D, quantConv2d, convOutputLength } from './quantConv2d';
export type { QuantConv2DArgs, PaddingMode } from './quantConv2d';
export { QuantActivation, quantActivation } from './quantActivation';
export type { QuantActivationArgs } from './quantActivation';
export { ZeroPadShortcut } from './shortcut';
export type { ZeroPadShortcutArgs } from './shortcut';
export { allLayers, quantizedLayers, activationQuantizers, afterTrainStep } from './utils';
export { BatchNormalization, batchNormalization, batchNormTraining } from './batchNormalization';
