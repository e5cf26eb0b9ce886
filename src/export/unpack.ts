/**
 * Loading a packed model: `unpackModel(bytes)` / `loadPacked(file)`. Every check (length, magic, version,
 * CRC-32, header, offsets) and every decode happens before the model is built; the deployed model is built
 * from its configuration (qnnlab's layer classes must be registered, which importing qnnlab does) and gets
 * the decoded weights by name.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '../layers';
import '../bayes/variationalDense';
import '../bayes/variationalConv2d';
import { unpackBits } from './bitPacking';
import { codeBits, decode } from './codebooks';
import { PackedFormatError, readContainer } from './container';
import { PackedHeader, checkHeader } from './header';
import { decodePosterior, type PackedPosterior } from './posterior';

export interface PackedInfo {
  version: number;
  header: PackedHeader;
  /** Bytes of the stored (deflated) header. */
  headerBytes: number;
  bodyBytes: number;
  totalBytes: number;
  /** Bytes of the body that hold the optional σ section (0 without one); the deployed model is the rest. */
  posteriorBytes: number;
}

/** Check a packed model and return its header, without decoding weights or building anything. */
export function inspectPacked(bytes: Uint8Array, what = 'packed model'): PackedInfo {
  const c = readContainer(bytes, what);
  const header = checkHeader(c.header, c.body.length, what);
  const posteriorBytes = (header.posterior?.tensors ?? []).reduce((n, t) => n + (t.codes?.bytes ?? 0) + 4 * (t.floats?.count ?? 0), 0);
  return { version: c.version, header, headerBytes: c.headerBytes, bodyBytes: c.body.length, totalBytes: bytes.length, posteriorBytes };
}

/** The decoded weights by name (checked and decoded, no model built). */
export function decodePackedWeights(bytes: Uint8Array, what = 'packed model'): { header: PackedHeader; weights: Map<string, { shape: number[]; values: Float32Array }> } {
  const c = readContainer(bytes, what);
  const header = checkHeader(c.header, c.body.length, what);
  return { header, weights: decodeTensors(header, c.body, what) };
}

/** Decode every tensor of `layers` of a checked header from its body. */
export function decodeTensors(header: PackedHeader, body: Uint8Array, what = 'packed model'): Map<string, { shape: number[]; values: Float32Array }> {
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const weights = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const layer of header.layers) {
    for (const t of layer.tensors) {
      const n = t.shape.reduce((a, b) => a * b, 1);
      const bits = codeBits(t.codebook);
      const codes = bits > 0 && t.codes ? unpackBits(body.subarray(t.codes.offset, t.codes.offset + t.codes.bytes), bits, n) : null;
      const floats = new Float32Array(t.floats?.count ?? 0);
      for (let i = 0; i < floats.length; i++) floats[i] = dv.getFloat32((t.floats as { offset: number }).offset + 4 * i, true);
      try {
        weights.set(t.name, { shape: t.shape, values: decode(t.codebook, t.shape, codes, floats) });
      } catch (e) {
        throw new PackedFormatError(`${what}: tensor '${t.name}': ${(e as Error).message}`);
      }
    }
  }
  return weights;
}

/**
 * The posterior σ of a packed Bayesian model (its optional σ section, see posterior.ts), or null when the file
 * has none. Use it with mcPredictPacked (mc.ts) on the model unpackModel builds from the same bytes.
 */
export function unpackPosterior(bytes: Uint8Array, what = 'packed model'): PackedPosterior | null {
  const c = readContainer(bytes, what);
  const header = checkHeader(c.header, c.body.length, what);
  return decodePosterior(header, c.body, what);
}

/** Build a model from a configuration and set its weights by `originalName` (all of them, exactly). */
export function buildWithWeights(
  modelClass: string, config: tf.serialization.ConfigDict, weights: Map<string, { shape: number[]; values: Float32Array }>, what: string,
): tf.LayersModel {
  const cls = (modelClass === 'Sequential' ? tf.Sequential : tf.LayersModel) as unknown as tf.serialization.SerializableConstructor<tf.LayersModel>;
  const model = (cls as unknown as { fromConfig: (c: unknown, cfg: unknown, custom: unknown, fast: boolean) => tf.LayersModel })
    .fromConfig(cls, JSON.parse(JSON.stringify(config)), {}, true);
  const missing = model.weights.filter((w) => !weights.has(w.originalName)).map((w) => w.originalName);
  const used = new Set(model.weights.map((w) => w.originalName));
  const extra = [...weights.keys()].filter((k) => !used.has(k));
  if (missing.length > 0 || extra.length > 0) {
    model.dispose();
    throw new PackedFormatError(`${what}: the stored weights do not match the model` +
      `${missing.length ? `; missing: ${missing.join(', ')}` : ''}${extra.length ? `; not in the model: ${extra.join(', ')}` : ''}.`);
  }
  for (const w of model.weights) {
    const v = weights.get(w.originalName) as { shape: number[]; values: Float32Array };
    if (v.shape.join('x') !== w.shape.join('x')) {
      model.dispose();
      throw new PackedFormatError(`${what}: weight '${w.originalName}' is stored with shape [${v.shape}], the model has [${w.shape}].`);
    }
    const t = tf.tensor(v.values, v.shape, 'float32');
    w.write(t);
    t.dispose();
  }
  return model;
}

/**
 * The deployed model of packed bytes: quantized kernels as their exact de-quantized float32 values in
 * QuantConv2D / QuantDense layers without kernel quantizer (the same ops as the packed model at inference, so
 * the logits are bit for bit the same on the same backend). Throws PackedFormatError for truncated or
 * corrupted bytes, a newer format version or an inconsistent header, before building anything.
 */
export function unpackModel(bytes: Uint8Array, what = 'packed model'): tf.LayersModel {
  const { header, weights } = decodePackedWeights(bytes, what);
  return buildWithWeights(header.modelClass, header.modelConfig, weights, what);
}

/** Read a file written by exportPacked and rebuild the deployed model (see unpackModel). */
export async function loadPacked(file: string): Promise<tf.LayersModel> {
  const bytes = await fs.promises.readFile(file);
  return unpackModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
}
