/**
 * Models on disk. `exportPacked` / `loadPacked` (`packModel` / `unpackModel` for bytes): the packed format,
 * quantized kernels at the bits their method needs (docs/packed-format.md). `exportLayersModel`: the
 * de-quantized model in the standard TensorFlow.js layers format, readable without qnnlab.
 */
export { packModel, exportPacked } from './pack';
export type { PackOptions } from './pack';
export { unpackModel, loadPacked, inspectPacked, decodePackedWeights, unpackPosterior } from './unpack';
export type { PackedPosterior } from './posterior';
export { mcPredictPacked } from './mc';
export type { PackedMcOptions, PackedMcResult } from './mc';
export type { PackedInfo } from './unpack';
export { exportLayersModel, toPlainLayersModel } from './layersModel';
export { PackedFormatError, FORMAT_VERSION, PACKED_EXTENSION } from './container';
export type { PackedHeader, PackedLayerInfo, PackedTensorInfo, PackedPosteriorInfo } from './header';
export type { Codebook, CodebookKind } from './codebooks';
export { crc32 } from './crc32';
export { packBits, unpackBits, packedByteLength } from './bitPacking';
