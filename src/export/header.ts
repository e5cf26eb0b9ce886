/** The JSON header of a packed model and its validation (everything is checked before a model is built). */
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { CODEBOOK_KINDS, Codebook, codeBits, floatCount } from './codebooks';
import { packedByteLength } from './bitPacking';
import { FORMAT_VERSION, PackedFormatError } from './container';

export const FORMAT_NAME = 'qnnlab-packed';

export interface PackedTensorInfo {
  /** The weight's name in the deployed model (its `originalName`). */
  name: string;
  shape: number[];
  codebook: Codebook;
  /** The packed codes: byte offset in the body and length (absent for float32). */
  codes?: { offset: number; bytes: number };
  /** The float32 numbers (values, scales or levels): byte offset in the body and count. */
  floats?: { offset: number; count: number };
  /** What the values are, e.g. 'kernel, binaryWeight'. */
  source: string;
  /** Why the quantizer's own code book was not used (see encode.ts). */
  fallback?: string;
}

export interface PackedLayerInfo {
  name: string;
  /** The class in the model that was packed, e.g. 'VariationalConv2D'. */
  className: string;
  /** The class of the rebuilt layer, e.g. 'QuantConv2D'. */
  deployedAs: string;
  tensors: PackedTensorInfo[];
}

export interface PackedHeader {
  format: typeof FORMAT_NAME;
  version: number;
  generatedBy: string;
  tfjsVersion: string;
  /** 'Model' (functional) or 'Sequential'. */
  modelClass: string;
  /** The deployed model's `getConfig()` (TypeScript-cased keys, as tfjs's fromConfig reads it). */
  modelConfig: tf.serialization.ConfigDict;
  layers: PackedLayerInfo[];
  /**
   * Optional (readers may ignore it): the posterior standard deviations σ of the Bayesian layers' kernels, for
   * Monte-Carlo prediction around the deployed weights (posterior.ts, docs/packed-format.md).
   */
  posterior?: PackedPosteriorInfo;
  /** Optional, free-form (readers may ignore it): where the model comes from, its input, its accuracy. */
  metadata?: Record<string, unknown>;
}

/** The optional σ section of a packed Bayesian model. */
export interface PackedPosteriorInfo {
  /** What each tensor stores: 'log-sigma' = ln σ of each weight of the kernel it names. */
  stores: 'log-sigma';
  /**
   * Where Monte-Carlo samples are centred: 'deployed-kernel' = w = kernel + σ·ε (ε ~ N(0, 1) per weight, one
   * draw per sample shared by the batch), the kernel being the stored (quantized) weights Q(θ).
   */
  centre: 'deployed-kernel';
  /**
   * The Monte-Carlo mode the model was evaluated with when trained: 'sampleQuantized' (around Q(θ): what
   * the packed model reproduces) or 'sample' (around the means θ, which are not stored).
   */
  trainedSampleMode?: string;
  /** One entry per Bayesian kernel: `name` and `shape` are the kernel's in `layers`. */
  tensors: PackedTensorInfo[];
}

export function libraryVersion(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return `qnnlab ${require(path.join(__dirname, '..', '..', 'package.json')).version}`;
  } catch {
    return 'qnnlab';
  }
}

function fail(what: string, msg: string): never {
  throw new PackedFormatError(`${what}: ${msg}`);
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function checkCodebook(cb: unknown, where: string, what: string): Codebook {
  if (cb == null || typeof cb !== 'object') fail(what, `${where} has no code book.`);
  const c = cb as Record<string, unknown>;
  if (!CODEBOOK_KINDS.includes(c.kind as Codebook['kind'])) {
    fail(what, `${where} uses the code book '${String(c.kind)}', which this qnnlab does not know (written by a newer version?).`);
  }
  const bitsOk = (lo: number, hi: number) => isInt(c.bits) && (c.bits as number) >= lo && (c.bits as number) <= hi;
  switch (c.kind) {
    case 'levels':
      if (!bitsOk(1, 16) || !isInt(c.count) || (c.count as number) < 1 || (c.count as number) > 2 ** (c.bits as number)) fail(what, `${where}: bad levels code book ${JSON.stringify(cb)}.`);
      break;
    case 'binary':
    case 'ternary':
      if (!isInt(c.scales)) fail(what, `${where}: bad ${c.kind} code book ${JSON.stringify(cb)}.`);
      if (c.fullPrecisionChannels !== undefined && !(Array.isArray(c.fullPrecisionChannels) && c.fullPrecisionChannels.every(isInt))) {
        fail(what, `${where}: bad fullPrecisionChannels.`);
      }
      break;
    case 'fixed-point':
      if (!bitsOk(1, 16) || typeof c.delta !== 'number' || !(c.delta > 0) || typeof c.signed !== 'boolean' || (c.signed && (c.bits as number) < 2)) {
        fail(what, `${where}: bad fixed-point code book ${JSON.stringify(cb)}.`);
      }
      break;
    case 'pow2':
      if (!bitsOk(1, 16) || !Number.isInteger(c.m) || typeof c.signed !== 'boolean' || typeof c.withZero !== 'boolean' ||
        (c.bits as number) - (c.signed ? 1 : 0) - (c.withZero ? 1 : 0) < 1) {
        fail(what, `${where}: bad pow2 code book ${JSON.stringify(cb)}.`);
      }
      break;
    case 'inq':
      if (!bitsOk(2, 16) || !Number.isInteger(c.n1)) fail(what, `${where}: bad inq code book ${JSON.stringify(cb)}.`);
      break;
    case 'affine':
      if (!bitsOk(1, 16)) fail(what, `${where}: bad affine code book ${JSON.stringify(cb)}.`);
      break;
  }
  return cb as Codebook;
}

/** Check one tensor entry (name, shape, code book, codes and floats inside the body); returns its name. */
function checkTensor(tensor: unknown, where: string, bodyBytes: number, what: string): { name: string; shape: number[] } {
  const t = tensor as Record<string, unknown>;
  if (typeof t?.name !== 'string') fail(what, `${where} has no name.`);
  if (!Array.isArray(t.shape) || !t.shape.every(isInt)) fail(what, `${where} has a bad shape ${JSON.stringify(t.shape)}.`);
  const shape = t.shape as number[];
  const cb = checkCodebook(t.codebook, where, what);
  const n = shape.reduce((a, b) => a * b, 1);
  const bits = codeBits(cb);
  if (bits > 0) {
    const c = t.codes as Record<string, unknown> | undefined;
    if (!c || !isInt(c.offset) || c.bytes !== packedByteLength(n, bits)) {
      fail(what, `${where} needs ${packedByteLength(n, bits)} bytes of ${bits}-bit codes, the header says ${JSON.stringify(c)}.`);
    }
    if ((c.offset as number) + (c.bytes as number) > bodyBytes) fail(what, `${where}: its codes run past the end of the body.`);
  }
  if (cb.kind === 'binary' || cb.kind === 'ternary') {
    const C = shape.length >= 2 ? shape[shape.length - 1] : 1;
    if (!(cb.scales === 0 || cb.scales === 1 || cb.scales === C)) fail(what, `${where}: ${cb.scales} scales for ${C} output channels.`);
    if ((cb.fullPrecisionChannels ?? []).some((ch) => ch >= C)) fail(what, `${where}: a full-precision channel is out of range.`);
  }
  const count = floatCount(cb, shape);
  if (count > 0) {
    const f = t.floats as Record<string, unknown> | undefined;
    if (!f || !isInt(f.offset) || f.count !== count) fail(what, `${where} needs ${count} float32 numbers, the header says ${JSON.stringify(f)}.`);
    if ((f.offset as number) + 4 * count > bodyBytes) fail(what, `${where}: its float32 numbers run past the end of the body.`);
  }
  return { name: t.name, shape };
}

/** Validate a parsed header against the body length; returns it typed. */
export function checkHeader(h: unknown, bodyBytes: number, what: string): PackedHeader {
  if (h == null || typeof h !== 'object') fail(what, 'the header is not an object.');
  const header = h as Record<string, unknown>;
  if (header.format !== FORMAT_NAME) fail(what, `the header's format is ${JSON.stringify(header.format)}, expected '${FORMAT_NAME}'.`);
  if (typeof header.version === 'number' && header.version > FORMAT_VERSION) {
    fail(what, `the header's format version ${header.version} is newer than this qnnlab reads (${FORMAT_VERSION}).`);
  }
  if (header.modelClass !== 'Model' && header.modelClass !== 'Sequential') fail(what, `unknown model class ${JSON.stringify(header.modelClass)}.`);
  if (header.modelConfig == null || typeof header.modelConfig !== 'object') fail(what, 'the header has no model configuration.');
  if (!Array.isArray(header.layers)) fail(what, 'the header has no layer list.');
  const shapes = new Map<string, number[]>();
  for (const layer of header.layers as unknown[]) {
    const l = layer as Record<string, unknown>;
    if (typeof l?.name !== 'string' || !Array.isArray(l.tensors)) fail(what, `bad layer entry ${JSON.stringify(layer).slice(0, 200)}.`);
    for (const tensor of l.tensors as unknown[]) {
      const where = `tensor ${JSON.stringify((tensor as Record<string, unknown>)?.name)} of layer '${l.name}'`;
      const { name, shape } = checkTensor(tensor, where, bodyBytes, what);
      if (shapes.has(name)) fail(what, `${where} appears twice.`);
      shapes.set(name, shape);
    }
  }
  if (header.metadata !== undefined && (header.metadata === null || typeof header.metadata !== 'object' || Array.isArray(header.metadata))) {
    fail(what, 'the header\'s metadata is not an object.');
  }
  if (header.posterior !== undefined) {
    const p = header.posterior as Record<string, unknown> | null;
    if (p == null || typeof p !== 'object' || !Array.isArray(p.tensors)) fail(what, 'the posterior section has no tensor list.');
    if (p.stores !== 'log-sigma') fail(what, `the posterior section stores ${JSON.stringify(p.stores)}, which this qnnlab does not know (expected 'log-sigma').`);
    if (p.centre !== 'deployed-kernel') fail(what, `the posterior section is centred on ${JSON.stringify(p.centre)}, which this qnnlab does not know (expected 'deployed-kernel').`);
    const seen = new Set<string>();
    for (const tensor of p.tensors as unknown[]) {
      const where = `posterior tensor ${JSON.stringify((tensor as Record<string, unknown>)?.name)}`;
      const { name, shape } = checkTensor(tensor, where, bodyBytes, what);
      if (seen.has(name)) fail(what, `${where} appears twice.`);
      seen.add(name);
      const kernel = shapes.get(name);
      if (!kernel) fail(what, `${where} names no stored tensor.`);
      if (kernel.join('x') !== shape.join('x')) fail(what, `${where} has shape [${shape}], the tensor it belongs to [${kernel}].`);
    }
  }
  return h as PackedHeader;
}
