/**
 * What a model deploys, layer by layer: the tensors to store (with the values the layer computes with at
 * inference and the code book its quantizer calls for) and the layer's deployed configuration.
 *
 *  - QuantConv2D / QuantDense: the kernel as its quantizer's values (`quantizedKernel()`, the values the
 *    forward pass multiplies with), the bias as its bias quantizer's values (float32 without one); the
 *    kernel's and bias's quantizers are dropped from the deployed layer (its weights now hold the values),
 *    quantizer state that only serves training (min-max ranges, INQ masks) is not stored, an input quantizer
 *    and its weights are kept.
 *  - VariationalConv2D / VariationalDense (Bayesian M-ary): the deployed 'quantized' network, every weight
 *    one of the layer's M learned levels (`quantizedWeights()`, `levelsValues()`), stored as ceil(log2 M)-bit
 *    indices into the M float32 levels; the layer becomes a QuantConv2D / QuantDense with a float kernel
 *    holding those values (the same ops: conv2d or matMul, then the bias). log σ², the means and the
 *    oscillation state are training-only.
 *  - Every other layer (batch norm, activation quantizers, plain tf.layers): its weights in float32, its
 *    configuration unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { VariationalLayer } from '../bayes/variationalLayer';
import { VariationalConv2D } from '../bayes/variationalConv2d';
import { QuantKernelLayer } from '../layers/quantKernelLayer';
import { QuantConv2D } from '../layers/quantConv2d';
import { allLayers } from '../layers/utils';
import { minMaxParams } from '../quantizers/minMax';
import { MinMaxQuantizer } from '../quantizers/minMaxQuantizer';
import { quantizerNames, resolveQuantizerOptions } from '../quantizers/registry';
import { SqQuantizer } from '../quantizers/sqQuantizer';
import type { Quantizer } from '../quantizers/types';
import { channelsOf } from './codebooks';
import { CodebookRequest, distinctValues } from './encode';

type ConfigDict = tf.serialization.ConfigDict;

export interface PlannedTensor {
  /** The weight's name in the deployed model (`originalName`, e.g. 'conv1/kernel'). */
  name: string;
  shape: number[];
  /** The values the layer uses at inference. */
  values: Float32Array;
  /** The code book to try first. */
  request: CodebookRequest;
  /** Bits per value the method promises (32 for float32): the most a fallback table may use. */
  nominalBits: number;
  /** Where the values come from, e.g. 'kernel, binaryWeight'. */
  source: string;
}

export interface LayerPlan {
  name: string;
  /** The layer's class in the model that was packed. */
  className: string;
  /** The class and configuration of the deployed layer (the same as the original unless converted). */
  deployed: { className: string; config: ConfigDict };
  tensors: PlannedTensor[];
}

function read(t: tf.Tensor): Float32Array {
  return Float32Array.from(t.dataSync() as Float32Array);
}

function localName(v: tf.LayerVariable, layer: tf.layers.Layer): string {
  const prefix = `${layer.name}/`;
  return v.originalName.startsWith(prefix) ? v.originalName.slice(prefix.length) : v.originalName;
}

function floatTensor(name: string, t: tf.Tensor, source: string): PlannedTensor {
  return { name, shape: t.shape.slice(), values: read(t), request: { kind: 'float32' }, nominalBits: 32, source };
}

/** The code book a quantizer's values call for (the encoder checks it against the values); null for an unknown quantizer. */
export function requestFor(q: Quantizer): CodebookRequest | null {
  if (!quantizerNames.includes(q.spec.name)) return null;
  // Every option with its default filled in, from the quantizer's descriptor.
  const o = resolveQuantizerOptions(q.spec.name, q.spec.options ?? {});
  switch (q.spec.name) {
    case 'binaryConnect':
    case 'binaryTanh':
      return { kind: 'binary', scales: 'none' };
    // BWN and TWN do not fit in their nominal 1 / 2 bits: α_c (mean |w| of output channel c, over all of it
    // or over |w| > δ) is not a function of the codes, so it is stored as one float32 per output channel,
    // which summary() does not count (LeNet-5: 944 bytes, +7.7 % for BWN, +4.7 % for TWN).
    case 'binaryWeight':
      return { kind: 'binary', scales: 'channel' };
    case 'ternaryWeight':
      return { kind: 'ternary', scales: o.perChannel ? 'channel' : 'tensor' };
    // SQ: the scales as BWN / TWN, and before the last stage (ratio < 1) the channels left in full precision
    // in float32, where summary() counts every weight at 1 / 2 bits.
    case 'stochasticQuantization': {
      const sel = q instanceof SqQuantizer ? q.currentSelection() : null;
      const fullPrecisionChannels: number[] = [];
      if (sel) sel.forEach((s, c) => { if (!s) fullPrecisionChannels.push(c); });
      const kind = o.base === 'twn' ? 'ternary' : 'binary';
      return { kind, scales: 'channel', fullPrecisionChannels };
    }
    case 'fixedPoint':
      return { kind: 'fixed-point', bits: q.bits, delta: o.delta as number, signed: o.signed as boolean };
    case 'pow2':
      return { kind: 'pow2', bits: q.bits, m: o.m as number, signed: o.signed as boolean, withZero: o.withZero as boolean };
    case 'inq':
      return { kind: 'inq', bits: q.bits };
    case 'minMax': {
      if (!(q instanceof MinMaxQuantizer)) break;
      const [lo, hi] = q.rangeVariables();
      const p = minMaxParams(lo, hi, o.qlMin as number, o.qlMax as number, o.eps as number);
      const scale = p.scale.dataSync()[0];
      const offset = p.qrMin.dataSync()[0];
      tf.dispose([p.scale, p.qrMin, p.qrMax, p.zeroPoint]);
      return { kind: 'affine', bits: q.bits, scale, offset };
    }
    case 'none':
    case 'identity':
      return { kind: 'float32' };
  }
  return null;
}

function quantizedTensor(name: string, values: tf.Tensor, q: Quantizer, what: string): PlannedTensor {
  const data = read(values);
  // A quantizer this format does not know: a table of its distinct values, if it keeps its promise of q.bits.
  const request = requestFor(q) ?? { kind: 'levels', table: distinctValues(data, 2 ** Math.min(16, q.bits)) ?? new Float32Array(0) };
  return {
    name, shape: values.shape.slice(), values: data, request,
    nominalBits: request.kind === 'float32' ? 32 : q.bits, source: `${what}, ${q.spec.name}`,
  };
}

function quantKernelPlan(layer: QuantKernelLayer): LayerPlan {
  const tensors: PlannedTensor[] = [];
  const kernelVar = layer.latentKernel();
  const biasVar = layer.latentBias();
  const kq = layer.kernelQuantizer;
  const bq = layer.biasQuantizer;
  if (kq) {
    const k = layer.quantizedKernel();
    tensors.push(quantizedTensor(kernelVar.originalName, k, kq, 'kernel'));
    k.dispose();
  } else {
    tensors.push(floatTensor(kernelVar.originalName, kernelVar.read(), 'kernel'));
  }
  if (biasVar) {
    if (bq) {
      const b = tf.tidy(() => (bq.quantizedValue ? bq.quantizedValue(biasVar.read()) : bq.apply(biasVar.read(), false)));
      tensors.push(quantizedTensor(biasVar.originalName, b, bq, 'bias'));
      b.dispose();
    } else {
      tensors.push(floatTensor(biasVar.originalName, biasVar.read(), 'bias'));
    }
  }
  for (const v of layer.weights) {
    if (v === kernelVar || v === biasVar) continue;
    const local = localName(v, layer);
    // State of the kernel's and bias's quantizers: their values are in the stored tensors now.
    if (local.startsWith('kernel_q_') || local.startsWith('bias_q_')) continue;
    tensors.push(floatTensor(v.originalName, v.read(), local));
  }
  return {
    name: layer.name,
    className: layer.getClassName(),
    deployed: { className: layer.getClassName(), config: { ...layer.getConfig(), kernelQuantizer: null, biasQuantizer: null } },
    tensors,
  };
}

function variationalPlan(layer: VariationalLayer): LayerPlan {
  const cfg = layer.getConfig();
  const q = layer.quantizedWeights();
  const levels = Float32Array.from(layer.levelsValues());
  const kernel: PlannedTensor = {
    name: `${layer.name}/kernel`, shape: q.shape.slice(), values: read(q),
    request: { kind: 'levels', table: levels }, nominalBits: Math.max(1, Math.ceil(Math.log2(layer.M))),
    source: `kernel, ${layer.M} learned levels (quantized mode)`,
  };
  q.dispose();
  const tensors = [kernel];
  const bias = layer.weights.find((v) => localName(v, layer) === 'bias');
  if (bias) tensors.push(floatTensor(`${layer.name}/bias`, bias.read(), 'bias'));
  const base: ConfigDict = { name: cfg.name, trainable: cfg.trainable };
  for (const k of ['batchInputShape', 'dtype'] as const) if (cfg[k] !== undefined) base[k] = cfg[k];
  const common: ConfigDict = {
    ...base, useBias: layer.useBias, kernelInitializer: 'zeros', kernelQuantizer: null, inputQuantizer: null, biasQuantizer: null,
  };
  const deployed = layer instanceof VariationalConv2D
    ? { className: QuantConv2D.className, config: { ...common, filters: layer.filters, kernelSize: [...layer.kernelSize], strides: [...layer.strides], padding: layer.padding } }
    : { className: 'QuantDense', config: { ...common, units: channelsOf(kernel.shape) } };
  return { name: layer.name, className: layer.getClassName(), deployed, tensors };
}

function plainPlan(layer: tf.layers.Layer): LayerPlan {
  return {
    name: layer.name,
    className: layer.getClassName(),
    deployed: { className: layer.getClassName(), config: layer.getConfig() },
    tensors: layer.weights.map((v) => floatTensor(v.originalName, v.read(), localName(v, layer))),
  };
}

/** The deployment plan of every layer of a built model (nested models flattened), in model order. */
export function planModel(model: tf.LayersModel): LayerPlan[] {
  if (!model.built && model.weights.length === 0) throw new Error('packModel: the model is not built (give it an input shape or call it once).');
  const layers = allLayers(model);
  const seen = new Set<string>();
  for (const l of layers) {
    if (seen.has(l.name)) throw new Error(`packModel: two layers are named '${l.name}'; layer names must be unique.`);
    seen.add(l.name);
  }
  const plans = layers.map((l) => {
    if (l instanceof VariationalLayer) return variationalPlan(l);
    if (l instanceof QuantKernelLayer) return quantKernelPlan(l);
    return plainPlan(l);
  });
  const names = new Set<string>();
  for (const p of plans) {
    for (const t of p.tensors) {
      if (names.has(t.name)) throw new Error(`packModel: two weights are named '${t.name}'.`);
      names.add(t.name);
    }
  }
  return plans;
}
