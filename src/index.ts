/**
 * qnnlab: quantized neural networks on TensorFlow.js in Node.
 *
 * Every folder of the library is a namespace (`qnnlab.quantizers`, `qnnlab.models`, ...); the calls most
 * programs start with are also exported by name. `tf` is the @tensorflow/tfjs instance qnnlab's layers are
 * registered with: use it (or the same tfjs version, deduplicated by npm) to build inputs and load models.
 *
 * @example
 *   const { tf, initEngine, buildModel, methodOptions, exportPacked } = require('qnnlab');
 *   await initEngine();                                     // wasm (or tfjs-node when installed)
 *   const model = buildModel('lenet5', { ...methodOptions('twn'), seed: 1 });
 *   const logits = model.predict(tf.zeros([1, 28, 28, 1]));
 *   await exportPacked(model, 'lenet5-twn.qnnp');            // 2-bit kernels on disk
 *
 * Importing qnnlab registers its layer classes with tf.serialization, a file:// model handler for tfjs
 * (unless tfjs-node provides one) and the wasm backend (initEngine selects it). It starts nothing else: the
 * notebook helpers (src/notebook), the live training view (src/live), the experiments and the command-line
 * tools are not part of the package's API.
 */
import * as tf from '@tensorflow/tfjs';

export { tf };

export * as quantizers from './quantizers';
export * as layers from './layers';
export * as models from './models';
export * as bayes from './bayes';
export * as train from './train';
export * as data from './data';
export * as plots from './plots';
export * as engine from './engine';
/** Dataset shifts, out-of-distribution sets and uncertainty metrics (src/robustness). */
export * as robustness from './robustness';
/** Models on disk: the packed format and the plain TensorFlow.js layers format (src/export). */
export * as deploy from './export';
/** Low-bit inference on WebAssembly kernels: packed models run from their codes (src/inference, docs/inference.md). */
export * as inference from './inference';

export { initEngine, engineInfo } from './engine';
export type { EngineInfo, BackendChoice } from './engine';
export { buildModel, MODEL_NAMES, METHOD_NAMES, methodOptions, methodPreset, allMethods } from './models';
export type { ModelName, ModelOptionsByName, MethodName, MethodPreset, MethodModelOptions } from './models';
export { makeQuantizer, quantizerNames, quantizerOptionsError } from './quantizers';
export type { Quantizer, QuantizerSpec } from './quantizers';
export { summary, formatSummary } from './summary';
export type { ModelSummary, LayerSummary } from './summary';
export {
  packModel, unpackModel, exportPacked, loadPacked, inspectPacked, exportLayersModel, PackedFormatError,
} from './export';
export type { PackOptions, PackedInfo, PackedHeader } from './export';
export { compileModel, compilePacked } from './inference';
export type { CompiledModel, CompileOptions } from './inference';
