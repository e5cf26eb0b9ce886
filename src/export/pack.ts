/**
 * Packing a model: `packModel(model)` -> bytes, `exportPacked(model, file)` -> a file. See docs/packed-format.md
 * for the layout and plan.ts / encode.ts for what is stored and how it is checked.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { packBits } from './bitPacking';
import { codeBits } from './codebooks';
import { FORMAT_VERSION, writeContainer } from './container';
import { encodeWithFallback } from './encode';
import { FORMAT_NAME, PackedHeader, PackedLayerInfo, PackedPosteriorInfo, PackedTensorInfo, libraryVersion } from './header';
import { LayerPlan, planModel } from './plan';
import { encodeLogSigma, planPosterior } from './posterior';
import { deployedModelConfig } from './topology';

export interface PackOptions {
  /**
   * Refuse (throw) when a quantized tensor cannot be stored with its quantizer's code book, instead of storing
   * it as a table of its distinct values or as float32 (default false). An INQ layer whose weights are not all
   * fixed yet, or a stochastic BinaryConnect evaluated with real weights, are examples.
   */
  strict?: boolean;
  /**
   * Also store the posterior σ of every Bayesian layer's kernel (the optional σ section, posterior.ts), for
   * Monte-Carlo prediction around the deployed weights: ln σ at this many bits per weight (2 to 16, an affine
   * code book over the layer's range; lossy) or 32 (float32, exact). 0 or absent (default): not stored.
   * Ignored for a model without Bayesian layers.
   */
  sigmaBits?: number;
  /**
   * The Monte-Carlo mode the Bayesian model was evaluated with when trained ('sampleQuantized' or 'sample'),
   * recorded in the σ section.
   */
  trainedSampleMode?: string;
  /** Free-form JSON-serialisable metadata stored in the header (where the model comes from, its input, ...). */
  metadata?: Record<string, unknown>;
}

/** Growing byte buffer for the body. */
class Body {
  private chunks: Uint8Array[] = [];
  length = 0;

  push(bytes: Uint8Array): number {
    const at = this.length;
    this.chunks.push(bytes);
    this.length += bytes.length;
    return at;
  }

  pushFloats(values: Float32Array): number {
    const bytes = new Uint8Array(values.length * 4);
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < values.length; i++) dv.setFloat32(4 * i, values[i], true);
    return this.push(bytes);
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

function packLayers(plans: LayerPlan[], opts: PackOptions, body: Body): PackedLayerInfo[] {
  const layers = plans.map((p): PackedLayerInfo => ({
    name: p.name,
    className: p.className,
    deployedAs: p.deployed.className,
    tensors: p.tensors.map((t): PackedTensorInfo => {
      const enc = encodeWithFallback(t.values, t.shape, t.request, {
        maxBits: t.nominalBits, what: `packModel: ${t.name} (${t.source})`, strict: opts.strict,
      });
      const info: PackedTensorInfo = { name: t.name, shape: t.shape, codebook: enc.codebook, source: t.source };
      const bits = codeBits(enc.codebook);
      if (bits > 0 && enc.codes) {
        const packed = packBits(enc.codes, bits);
        info.codes = { offset: body.push(packed), bytes: packed.length };
      }
      if (enc.floats.length > 0) info.floats = { offset: body.pushFloats(enc.floats), count: enc.floats.length };
      if (enc.fallback) info.fallback = enc.fallback;
      return info;
    }),
  }));
  return layers;
}

/** The σ section (null when not asked for or the model has no Bayesian layer); its bytes go into `body`. */
function packPosterior(model: tf.LayersModel, opts: PackOptions, body: Body): PackedPosteriorInfo | null {
  if (!opts.sigmaBits) return null;
  const planned = planPosterior(model);
  if (planned.length === 0) return null;
  const tensors = planned.map((t): PackedTensorInfo => {
    const enc = encodeLogSigma(t.logSigma, opts.sigmaBits as number);
    const info: PackedTensorInfo = { name: t.name, shape: t.shape, codebook: enc.codebook, source: 'posterior ln σ' };
    const bits = codeBits(enc.codebook);
    if (bits > 0 && enc.codes) {
      const packed = packBits(enc.codes, bits);
      info.codes = { offset: body.push(packed), bytes: packed.length };
    }
    if (enc.floats.length > 0) info.floats = { offset: body.pushFloats(enc.floats), count: enc.floats.length };
    return info;
  });
  return { stores: 'log-sigma', centre: 'deployed-kernel', ...(opts.trainedSampleMode ? { trainedSampleMode: opts.trainedSampleMode } : {}), tensors };
}

/**
 * The model as packed bytes: each quantized kernel as its codes at the bits its method needs plus its scales
 * or levels, everything else in float32, a JSON header (topology, code books) and a CRC-32.
 * Bayesian M-ary layers are stored as their deployed quantized network (every weight one of M levels).
 */
export function packModel(model: tf.LayersModel, opts: PackOptions = {}): Uint8Array {
  const plans = planModel(model);
  const body = new Body();
  const layers = packLayers(plans, opts, body);
  const posterior = packPosterior(model, opts, body);
  const header: PackedHeader = {
    format: FORMAT_NAME,
    version: FORMAT_VERSION,
    generatedBy: libraryVersion(),
    tfjsVersion: tf.version.tfjs,
    modelClass: model instanceof tf.Sequential ? 'Sequential' : 'Model',
    modelConfig: deployedModelConfig(model.getConfig(), plans),
    layers,
    ...(posterior ? { posterior } : {}),
    ...(opts.metadata ? { metadata: JSON.parse(JSON.stringify(opts.metadata)) as Record<string, unknown> } : {}),
  };
  return writeContainer(header, body.bytes());
}

/** Write `packModel(model)` to `file` (folders are created); returns the number of bytes written. */
export async function exportPacked(model: tf.LayersModel, file: string, opts: PackOptions = {}): Promise<number> {
  const bytes = packModel(model, opts);
  await fs.promises.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await fs.promises.writeFile(file, bytes);
  return bytes.length;
}
