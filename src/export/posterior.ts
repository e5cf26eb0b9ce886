/**
 * The optional σ section of a packed Bayesian model (docs/packed-format.md, "Posterior σ"): for every Bayesian
 * kernel, the posterior standard deviation σ of each weight, stored as ln σ, so that Monte-Carlo prediction
 * (mc.ts) can sample w = Q(θ) + σ·ε around the deployed weights. Readers that do not know the section ignore it.
 *
 * ln σ is stored lossy by default: an `affine` code book of `bits`-bit codes spanning the layer's [min, max] of
 * ln σ (8 bits: a relative error of σ below (max − min)/510, about 1 % for a span of 5 nats); `bits = 32` stores
 * the float32 values of ln σ = 0.5·log σ² exactly. Only this file's functions and mc.ts read the section: the
 * deployed model (unpackModel) does not depend on it.
 */
import type * as tf from '@tensorflow/tfjs';
import { VariationalLayer } from '../bayes/variationalLayer';
import { allLayers } from '../layers/utils';
import { codeBits, decode, type Codebook } from './codebooks';
import { unpackBits } from './bitPacking';
import { PackedFormatError } from './container';
import type { PackedHeader } from './header';

const f32 = Math.fround;

/** One Bayesian kernel's ln σ, to be stored. */
export interface PosteriorPlanTensor {
  /** The kernel's name in the deployed model ('conv1/kernel'). */
  name: string;
  shape: number[];
  /** ln σ per weight (float32). */
  logSigma: Float32Array;
}

/** ln σ of every Bayesian (variational) layer's kernel, in model order; empty for a model without one. */
export function planPosterior(model: tf.LayersModel): PosteriorPlanTensor[] {
  return allLayers(model).filter((l): l is VariationalLayer => l instanceof VariationalLayer).map((l) => {
    const logSigma2 = l.logSigma2Values();
    const logSigma = new Float32Array(logSigma2.length);
    for (let i = 0; i < logSigma2.length; i++) logSigma[i] = f32(0.5 * logSigma2[i]);
    const q = l.quantizedWeights();
    const shape = q.shape.slice();
    q.dispose();
    return { name: `${l.name}/kernel`, shape, logSigma };
  });
}

/** The stored form of ln σ: codes and floats under `codebook` (affine at `bits`, or float32 for bits = 32). */
export function encodeLogSigma(values: Float32Array, bits: number): { codebook: Codebook; codes: Uint16Array | null; floats: Float32Array } {
  if (bits === 32) return { codebook: { kind: 'float32' }, codes: null, floats: Float32Array.from(values) };
  if (!(Number.isInteger(bits) && bits >= 2 && bits <= 16)) throw new Error(`sigmaBits must be 32 (float32) or an integer from 2 to 16, got ${bits}`);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) throw new Error(`packModel: a posterior log σ is not finite (${v})`);
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (values.length === 0) lo = hi = 0;
  const top = 2 ** bits - 1;
  const offset = f32(lo);
  const scale = f32((hi - offset) / top);
  const codes = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    codes[i] = scale > 0 ? Math.max(0, Math.min(top, Math.round((values[i] - offset) / scale))) : 0;
  }
  return { codebook: { kind: 'affine', bits }, codes, floats: Float32Array.from([scale, offset]) };
}

/** The posterior of a packed model, decoded: σ of each Bayesian kernel by the kernel's name. */
export interface PackedPosterior {
  trainedSampleMode?: string;
  /** Stored bytes of the section (codes and floats). */
  bytes: number;
  sigma: Map<string, { shape: number[]; values: Float32Array }>;
}

/** Decode the σ section of a checked header and its body (null when the file has none). */
export function decodePosterior(header: PackedHeader, body: Uint8Array, what = 'packed model'): PackedPosterior | null {
  const p = header.posterior;
  if (!p) return null;
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const sigma = new Map<string, { shape: number[]; values: Float32Array }>();
  let bytes = 0;
  for (const t of p.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const bits = codeBits(t.codebook);
    const codes = bits > 0 && t.codes ? unpackBits(body.subarray(t.codes.offset, t.codes.offset + t.codes.bytes), bits, n) : null;
    const floats = new Float32Array(t.floats?.count ?? 0);
    for (let i = 0; i < floats.length; i++) floats[i] = dv.getFloat32((t.floats as { offset: number }).offset + 4 * i, true);
    bytes += (t.codes?.bytes ?? 0) + 4 * floats.length;
    let logSigma: Float32Array;
    try {
      logSigma = decode(t.codebook, t.shape, codes, floats);
    } catch (e) {
      throw new PackedFormatError(`${what}: posterior tensor '${t.name}': ${(e as Error).message}`);
    }
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = f32(Math.exp(logSigma[i]));
    sigma.set(t.name, { shape: t.shape.slice(), values });
  }
  return { trainedSampleMode: p.trainedSampleMode, bytes, sigma };
}
