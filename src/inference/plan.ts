/**
 * From a packed model (header + body, docs/packed-format.md) to the inference engine's layer list: the
 * deployed topology read from the header's model configuration (a chain of layers), each kernel kept as its
 * codes with its levels and per-channel scales, batch norm folded into a per-channel scale and shift.
 * Pure JavaScript (no tfjs, no Node modules), so the engine runs in a browser too.
 */
import { unpackBits } from '../export/bitPacking';
import { channelsOf, codeBits, decode, valueTable, type Codebook } from '../export/codebooks';
import type { PackedHeader, PackedTensorInfo } from '../export/header';

/** A conv or dense kernel as the engine keeps it: [KH, KW, C, O] (tfjs layout), codes when low-bit. */
export interface CodedKernel {
  shape: [number, number, number, number];
  /** Bits per code: 1 or 2 (low-bit kernels), 0 when the kernel is float32 (or a code book the engine does not run). */
  bits: 0 | 1 | 2;
  /** One code per element, row-major [KH, KW, C, O] (bits > 0). */
  codes: Uint16Array | null;
  /** Value of each code (bits 1: 2 values, bits 2: 4 values), before the channel scale. */
  levels: Float32Array | null;
  /** Per-output-channel multiplier of the levels (BWN / TWN scales), or null (1). */
  channelScale: Float32Array | null;
  /** The decoded values (levels · scale), the weights the tfjs model multiplies with. */
  values: Float32Array;
  /** How many codes occur at most (2 for binary, 3 for ternary, M for M learned levels). */
  count: number;
  /** True when the levels are exactly ±1 (code 1 = +1): binary weights an XNOR kernel can run. */
  signBinary: boolean;
  /** Code book the kernel was stored with. */
  codebook: Codebook['kind'];
}

export type LayerIR =
  | { op: 'conv'; name: string; kernel: CodedKernel; bias: Float32Array | null; strides: [number, number]; padding: 'same' | 'valid'; dense: boolean }
  | { op: 'affine'; name: string; scale: Float32Array; shift: Float32Array }
  | { op: 'relu'; name: string }
  | { op: 'sign'; name: string }
  | { op: 'maxpool'; name: string; pool: [number, number]; strides: [number, number]; padding: 'same' | 'valid' }
  | { op: 'flatten'; name: string };

export interface ModelIR {
  /** Input [H, W, C] of one example. */
  inputShape: [number, number, number];
  layers: LayerIR[];
}

type Entry = { className: string; name?: string; config: Record<string, unknown>; inboundNodes?: unknown };

function fail(msg: string): never {
  throw new Error(`inference: ${msg}`);
}

function pair(v: unknown, what: string): [number, number] {
  const p = typeof v === 'number' ? [v, v] : Array.isArray(v) ? v : null;
  if (!p || p.length !== 2 || !p.every((n) => Number.isInteger(n) && n > 0)) fail(`${what}: expected a positive integer or a pair, got ${JSON.stringify(v)}`);
  return [p[0] as number, p[1] as number];
}

function padding(v: unknown, what: string): 'same' | 'valid' {
  if (v !== 'same' && v !== 'valid') fail(`${what}: padding ${JSON.stringify(v)} is not supported (same, valid)`);
  return v;
}

/** The layer entries of a functional or sequential configuration, checked to form a single chain. */
function chain(header: PackedHeader): Entry[] {
  const cfg = header.modelConfig as unknown as Record<string, unknown> | unknown[];
  const layers = (Array.isArray(cfg) ? cfg : (cfg.layers as unknown[])) as Entry[] | undefined;
  if (!Array.isArray(layers)) fail('the model configuration has no layer list');
  if (header.modelClass === 'Model') {
    for (let i = 1; i < layers.length; i++) {
      const prev = layers[i - 1].name ?? (layers[i - 1].config.name as string);
      const inbound = layers[i].inboundNodes as unknown[][][] | undefined;
      const ok = Array.isArray(inbound) && inbound.length === 1 && inbound[0].length === 1 && inbound[0][0][0] === prev;
      if (!ok) fail(`layer '${layers[i].name}' does not take the previous layer's output alone; the engine runs chains of layers only`);
    }
  }
  return layers;
}

function inputShapeOf(entries: Entry[]): [number, number, number] {
  const first = entries[0];
  const s = first?.config.batchInputShape as (number | null)[] | undefined;
  if (!Array.isArray(s)) fail('the first layer has no batchInputShape');
  const dims = s.slice(1);
  if (dims.length === 3 && dims.every((d) => Number.isInteger(d) && (d as number) > 0)) return dims as [number, number, number];
  if (dims.length === 1 && Number.isInteger(dims[0])) return [1, 1, dims[0] as number];
  return fail(`input shape ${JSON.stringify(s)} is not supported ([H, W, C] or [features])`);
}

/** The stored tensors by name, decoded lazily from the body. */
class Tensors {
  private readonly byName = new Map<string, PackedTensorInfo>();
  private readonly dv: DataView;

  constructor(header: PackedHeader, private readonly body: Uint8Array) {
    for (const l of header.layers) for (const t of l.tensors) this.byName.set(t.name, t);
    this.dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  info(name: string): PackedTensorInfo {
    const t = this.byName.get(name);
    if (!t) fail(`the packed model has no tensor '${name}'`);
    return t;
  }

  codes(t: PackedTensorInfo): Uint16Array | null {
    const bits = codeBits(t.codebook);
    if (bits === 0 || !t.codes) return null;
    const n = t.shape.reduce((a, b) => a * b, 1);
    return unpackBits(this.body.subarray(t.codes.offset, t.codes.offset + t.codes.bytes), bits, n);
  }

  floats(t: PackedTensorInfo): Float32Array {
    const out = new Float32Array(t.floats?.count ?? 0);
    const at = t.floats?.offset ?? 0;
    for (let i = 0; i < out.length; i++) out[i] = this.dv.getFloat32(at + 4 * i, true);
    return out;
  }

  values(name: string): Float32Array {
    const t = this.info(name);
    return decode(t.codebook, t.shape, this.codes(t), this.floats(t));
  }
}

/** A stored kernel as codes + levels + channel scales, reshaped to [KH, KW, C, O]. */
export function codedKernel(t: PackedTensorInfo, codes: Uint16Array | null, floats: Float32Array, shape4: [number, number, number, number]): CodedKernel {
  const cb = t.codebook;
  const values = decode(cb, t.shape, codes, floats);
  const O = channelsOf(t.shape);
  const base: CodedKernel = { shape: shape4, bits: 0, codes: null, levels: null, channelScale: null, values, signBinary: false, codebook: cb.kind, count: 0 };
  if (!codes) return base;
  if ((cb.kind === 'binary' || cb.kind === 'ternary') && !(cb.fullPrecisionChannels?.length)) {
    const channelScale = cb.scales === 0 ? null : cb.scales === 1 ? new Float32Array(O).fill(floats[0]) : floats.slice(0, O);
    if (cb.kind === 'binary') return { ...base, bits: 1, codes, levels: Float32Array.of(-1, 1), channelScale, signBinary: true, count: 2 };
    return { ...base, bits: 2, codes, levels: Float32Array.of(0, 1, -1, 0), channelScale, count: 3 };
  }
  const table = valueTable(cb, floats);
  if (table && table.length <= 4) {
    const bits = table.length <= 2 ? 1 : 2;
    const levels = new Float32Array(bits === 1 ? 2 : 4);
    levels.set(table);
    const signBinary = bits === 1 && levels[0] === -1 && levels[1] === 1;
    return { ...base, bits, codes, levels, channelScale: null, signBinary, count: table.length };
  }
  return base;
}

function bnAffine(name: string, cfg: Record<string, unknown>, tensors: Tensors): LayerIR {
  const axis = cfg.axis;
  if (!(axis === -1 || axis === 3 || (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3)))) {
    fail(`batch norm '${name}' normalizes axis ${JSON.stringify(axis)}; the engine folds channel-last batch norm only`);
  }
  const eps = typeof cfg.epsilon === 'number' ? cfg.epsilon : 1e-3;
  const mean = tensors.values(`${name}/moving_mean`);
  const variance = tensors.values(`${name}/moving_variance`);
  const gamma = cfg.scale === false ? null : tensors.values(`${name}/gamma`);
  const beta = cfg.center === false ? null : tensors.values(`${name}/beta`);
  const scale = new Float32Array(mean.length);
  const shift = new Float32Array(mean.length);
  for (let c = 0; c < mean.length; c++) {
    const g = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + eps);
    scale[c] = g;
    shift[c] = (beta ? beta[c] : 0) - mean[c] * g;
  }
  return { op: 'affine', name, scale, shift };
}

function activationIR(name: string, activation: unknown): LayerIR | null {
  if (activation == null || activation === 'linear') return null;
  if (activation === 'relu') return { op: 'relu', name };
  return fail(`layer '${name}': activation ${JSON.stringify(activation)} is not supported (linear, relu)`);
}

/** The engine's layer list for a checked packed header and its body. */
export function modelIR(header: PackedHeader, body: Uint8Array): ModelIR {
  const entries = chain(header);
  const tensors = new Tensors(header, body);
  const inputShape = inputShapeOf(entries);
  let shape: number[] = inputShape.slice();
  let flat = false;
  const layers: LayerIR[] = [];
  for (const e of entries) {
    const cfg = e.config;
    const name = (cfg.name as string) ?? e.name;
    switch (e.className) {
      case 'InputLayer':
        break;
      case 'QuantConv2D':
      case 'Conv2D':
      case 'QuantDense':
      case 'Dense': {
        if (cfg.inputQuantizer != null) fail(`layer '${name}' quantizes its input (${JSON.stringify(cfg.inputQuantizer)}), which the engine does not run`);
        if (cfg.kernelQuantizer != null || cfg.biasQuantizer != null) fail(`layer '${name}' still has a kernel or bias quantizer; pass the packed (deployed) model`);
        const isDense = e.className.endsWith('Dense');
        if (e.className === 'Conv2D') {
          const d = cfg.dilationRate;
          if (d != null && !(d === 1 || (Array.isArray(d) && d.every((v) => v === 1)))) fail(`layer '${name}': dilation is not supported`);
        }
        const t = tensors.info(`${name}/kernel`);
        const [H, W, C] = shape;
        let shape4: [number, number, number, number];
        let strides: [number, number] = [1, 1];
        let pad: 'same' | 'valid' = 'valid';
        if (isDense) {
          const [K, O] = t.shape;
          // A dense layer is a 'valid' convolution whose kernel covers the whole (flattened) map, or a 1×1
          // convolution on an unflattened one (tf.layers applies Dense to the last axis).
          shape4 = flat ? [H, W, C, O] : [1, 1, C, O];
          if (shape4[0] * shape4[1] * shape4[2] !== K) fail(`layer '${name}': kernel [${t.shape}] does not fit its input [${shape}]`);
          shape = flat ? [1, 1, O] : [H, W, O];
        } else {
          const [KH, KW, Ci, O] = t.shape;
          if (Ci !== C) fail(`layer '${name}': kernel [${t.shape}] does not fit its input [${shape}]`);
          strides = pair(cfg.strides ?? 1, `layer '${name}' strides`);
          pad = padding(cfg.padding ?? 'valid', `layer '${name}'`);
          shape4 = [KH, KW, Ci, O];
          const out = (n: number, k: number, s: number) => (pad === 'same' ? Math.ceil(n / s) : Math.ceil((n - k + 1) / s));
          shape = [out(H, KH, strides[0]), out(W, KW, strides[1]), O];
          if (shape[0] < 1 || shape[1] < 1) fail(`layer '${name}': the kernel is larger than its input`);
        }
        flat = false;
        const codes = tensors.codes(t);
        const kernel = codedKernel(t, codes, tensors.floats(t), shape4);
        const useBias = cfg.useBias !== false && tensors.has(`${name}/bias`);
        layers.push({ op: 'conv', name, kernel, bias: useBias ? tensors.values(`${name}/bias`) : null, strides, padding: pad, dense: isDense });
        const act = activationIR(`${name}`, cfg.activation);
        if (act) layers.push(act);
        break;
      }
      case 'BatchNormalization':
        layers.push(bnAffine(name, cfg, tensors));
        break;
      case 'ReLU':
        if (cfg.maxValue != null) fail(`layer '${name}': ReLU with maxValue is not supported`);
        layers.push({ op: 'relu', name });
        break;
      case 'Activation': {
        const act = activationIR(name, cfg.activation);
        if (act) layers.push(act);
        break;
      }
      case 'QuantActivation': {
        const q = cfg.quantizer as { name?: string; options?: Record<string, unknown> } | null;
        if (q?.name !== 'binaryTanh') fail(`layer '${name}': activation quantizer ${JSON.stringify(q?.name)} is not supported (binaryTanh)`);
        layers.push({ op: 'sign', name });
        break;
      }
      case 'MaxPooling2D': {
        const pool = pair(cfg.poolSize ?? 2, `layer '${name}' poolSize`);
        const strides = pair(cfg.strides ?? pool, `layer '${name}' strides`);
        const pad = padding(cfg.padding ?? 'valid', `layer '${name}'`);
        const out = (n: number, k: number, s: number) => (pad === 'same' ? Math.ceil(n / s) : Math.ceil((n - k + 1) / s));
        shape = [out(shape[0], pool[0], strides[0]), out(shape[1], pool[1], strides[1]), shape[2]];
        layers.push({ op: 'maxpool', name, pool, strides, padding: pad });
        break;
      }
      case 'Flatten':
        flat = true;
        layers.push({ op: 'flatten', name });
        break;
      case 'Dropout':
      case 'McDropout':
        break;
      default:
        fail(`layer '${name}' (${e.className}) is not supported by the inference engine`);
    }
  }
  return { inputShape, layers };
}
