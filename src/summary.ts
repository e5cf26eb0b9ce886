/**
 * A memory and compute summary of a model, in the spirit of `larq.models.summary` (larq/larq `larq/models.py`;
 * docs/methods.md#model-summary).
 *
 * Per layer: name, type, output shape, input precision, parameters per bit-width, memory in KiB at the real
 * bit-widths (8 * 1024 one-bit weights = 1 KiB), multiply-accumulates (MACs) per sample.
 * Totals: total / trainable / non-trainable parameters, model size, float32 size, compression ratio, MACs in
 * total and by precision.
 *
 * Bit-widths: a layer may implement `summaryWeightBits(variable)` (the quantized layers do: kernel at its
 * quantizer's bits, bias at 32 unless quantized); every other weight (biases, BatchNorm gamma/beta/moving
 * statistics, plain tf.layers) counts at 32 bits. A weight reported at 0 bits is training-only state (e.g.
 * INQ's mask): it is counted in the parameters but not in the model size. Bayesian M-ary layers count as their
 * deployed quantized network (variationalWeightBits).
 * Precision of activations: the network input is 32-bit; QuantActivation outputs its quantizer's bits;
 * ReLU, max pooling, dropout, flatten, reshape and padding keep their input's precision; concatenation
 * takes the widest input; everything else outputs 32 bits. A layer's input precision is its input
 * quantizer's bits if it has one, else the widest precision among its inputs.
 * MAC precision is max(input precision, weight precision), as in Larq.
 */
import * as tf from '@tensorflow/tfjs';
import { QuantActivation, isQuantizedKernelLayer } from './layers';
import { VariationalLayer } from './bayes/variationalLayer';

type Shape = Array<number | null>;

/** A layer that reports the stored bit-width of its weights (QuantDense, QuantConv2D, QuantActivation, ...). */
export interface PrecisionAwareLayer {
  summaryWeightBits(v: tf.LayerVariable): number;
}

/** A layer that counts its own multiply-accumulates. */
export interface MacCountingLayer {
  macsPerSample(inputShape: Shape): number;
}

export interface LayerSummary {
  name: string;
  /** Class name, e.g. 'QuantConv2D'. */
  type: string;
  outputShape: Shape | Shape[];
  /** Bits of the values this layer reads (see the file header). */
  inputPrecision: number;
  /** Bits of the values this layer outputs. */
  outputPrecision: number;
  /** Stored parameters per bit-width, e.g. {1: 150, 32: 6}. */
  paramsByBits: Record<number, number>;
  /** Parameters needed only during training (reported at 0 bits). */
  trainingOnlyParams: number;
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  /** Memory of the stored parameters at their bit-widths, in KiB. */
  memoryKiB: number;
  /** Multiply-accumulates per sample. */
  macs: number;
  /** Precision of those MACs (null when macs = 0). */
  macPrecision: number | null;
  /** Bits of the kernel (null for layers without a kernel). */
  weightPrecision: number | null;
}

export interface ModelSummary {
  name: string;
  layers: LayerSummary[];
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  trainingOnlyParams: number;
  /** Stored parameters per bit-width over the model. */
  paramsByBits: Record<number, number>;
  /** Model size at the real bit-widths, KiB. */
  modelSizeKiB: number;
  /** The same parameters stored as float32, KiB. */
  float32SizeKiB: number;
  /** float32SizeKiB / modelSizeKiB. */
  compressionRatio: number;
  /** MACs per sample. */
  totalMacs: number;
  /** MACs per sample by precision (bits). */
  macsByPrecision: Record<number, number>;
}

const PRESERVING = new Set([
  'ReLU', 'MaxPooling2D', 'MaxPooling1D', 'GlobalMaxPooling2D', 'Dropout', 'SpatialDropout1D', 'Flatten',
  'Reshape', 'ZeroPadding2D', 'ZeroPadShortcut', 'Cropping2D', 'Permute', 'UpSampling2D',
]);

function hasWeightBits(l: unknown): l is PrecisionAwareLayer {
  return typeof (l as PrecisionAwareLayer).summaryWeightBits === 'function';
}

/**
 * Bayesian M-ary layers (src/bayes) as deployed, the 'quantized' network: each mean θ a ceil(log2 M)-bit index,
 * the M levels and the bias at 32 bits; log σ² and the oscillation-tracking state are training-only (0 bits).
 */
function variationalWeightBits(layer: VariationalLayer, v: tf.LayerVariable): number {
  const local = v.originalName.slice(v.originalName.lastIndexOf('/') + 1);
  if (local === 'theta') return Math.max(1, Math.ceil(Math.log2(layer.M)));
  if (local === 'log_sigma2' || !v.trainable && local.startsWith('osc_')) return 0;
  return 32;
}

function weightBits(layer: tf.layers.Layer, v: tf.LayerVariable): number {
  if (hasWeightBits(layer)) return layer.summaryWeightBits(v);
  if (layer instanceof VariationalLayer) return variationalWeightBits(layer, v);
  return 32;
}

function hasMacs(l: unknown): l is MacCountingLayer {
  return typeof (l as MacCountingLayer).macsPerSample === 'function';
}

function sizeOf(shape: ReadonlyArray<number | null>): number {
  return shape.reduce<number>((a, d) => a * (d ?? 1), 1);
}

function kiB(bits: number): number {
  return bits / 8 / 1024;
}

function inboundLayers(layer: tf.layers.Layer): tf.layers.Layer[] {
  const node = layer.inboundNodes[0];
  return node ? (node.inboundLayers as tf.layers.Layer[]) : [];
}

/** MACs of standard tf.layers conv/dense layers (the quantized layers count their own). */
function standardMacs(layer: tf.layers.Layer, inShape: Shape, outShape: Shape): number {
  const cfg = layer.getConfig();
  const type = layer.getClassName();
  const outPositions = (s: Shape) => sizeOf(s.slice(1, -1));
  const inC = inShape[inShape.length - 1] ?? 0;
  const outC = outShape[outShape.length - 1] ?? 0;
  if (type === 'Dense') return outPositions(outShape) * inC * outC;
  if (type === 'Conv2D' || type === 'Conv1D') {
    const k = cfg.kernelSize as number[] | number;
    const kSize = Array.isArray(k) ? k.reduce((a, b) => a * b, 1) : k ** (type === 'Conv2D' ? 2 : 1);
    return outPositions(outShape) * outC * kSize * inC;
  }
  if (type === 'DepthwiseConv2D') {
    const k = cfg.kernelSize as number[] | number;
    const kSize = Array.isArray(k) ? k.reduce((a, b) => a * b, 1) : k * k;
    return outPositions(outShape) * outC * kSize;
  }
  return 0;
}

function singleShape(s: Shape | Shape[]): Shape {
  return Array.isArray(s[0]) ? (s as Shape[])[0] : (s as Shape);
}

function addTo(rec: Record<number, number>, key: number, n: number): void {
  rec[key] = (rec[key] ?? 0) + n;
}

/** Flattens nested models into their layers (a nested model's input layer is skipped). */
function flatLayers(model: { layers: tf.layers.Layer[] }): tf.layers.Layer[] {
  const out: tf.layers.Layer[] = [];
  for (const l of model.layers) {
    const nested = l as unknown as { layers?: tf.layers.Layer[] };
    if (Array.isArray(nested.layers)) out.push(...flatLayers(nested as { layers: tf.layers.Layer[] }));
    else out.push(l);
  }
  return out;
}

/** Structured summary of a (built) model. */
export function summary(model: tf.LayersModel): ModelSummary {
  const layers = flatLayers(model);
  const outPrec = new Map<tf.layers.Layer, number>();
  const rows: LayerSummary[] = [];
  const totals = { total: 0, trainable: 0, nonTrainable: 0, trainingOnly: 0, bits: 0, f32: 0 };
  const paramsByBits: Record<number, number> = {};
  const macsByPrecision: Record<number, number> = {};
  let totalMacs = 0;

  for (const layer of layers) {
    const type = layer.getClassName();
    const inbound = inboundLayers(layer);
    let inPrec = inbound.length === 0 ? 32 : Math.max(...inbound.map((l) => outPrec.get(l) ?? 32));
    if (isQuantizedKernelLayer(layer) && layer.inputQuantizer) inPrec = layer.inputBits;

    let out: number;
    if (layer instanceof QuantActivation) out = layer.bits;
    else if (PRESERVING.has(type) || type === 'Concatenate') out = inPrec;
    else if (type === 'Activation' && (layer.getConfig().activation === 'relu')) out = inPrec;
    else out = 32;
    outPrec.set(layer, out);

    const byBits: Record<number, number> = {};
    let trainingOnly = 0;
    let memBits = 0;
    const trainableSet = new Set(layer.trainableWeights);
    let trainable = 0;
    let nonTrainable = 0;
    for (const w of layer.weights) {
      const n = sizeOf(w.shape);
      const bits = weightBits(layer, w);
      if (trainableSet.has(w)) trainable += n;
      else nonTrainable += n;
      if (bits <= 0) {
        trainingOnly += n;
        continue;
      }
      addTo(byBits, bits, n);
      addTo(paramsByBits, bits, n);
      memBits += n * bits;
      totals.f32 += n * 32;
    }

    const inShape = inbound.length > 0 ? singleShape(layer.inboundNodes[0].inputShapes as Shape | Shape[]) : [];
    const outShape = layer.outputShape as Shape | Shape[];
    let macs = 0;
    if (inbound.length > 0) {
      macs = hasMacs(layer) ? layer.macsPerSample(inShape) : standardMacs(layer, inShape, singleShape(outShape));
    }
    let weightPrecision: number | null = null;
    if (isQuantizedKernelLayer(layer)) weightPrecision = layer.kernelBits;
    else if (macs > 0) weightPrecision = 32;
    const macPrecision = macs > 0 ? Math.max(inPrec, weightPrecision ?? 32) : null;
    if (macPrecision != null) addTo(macsByPrecision, macPrecision, macs);
    totalMacs += macs;

    totals.total += trainable + nonTrainable;
    totals.trainable += trainable;
    totals.nonTrainable += nonTrainable;
    totals.trainingOnly += trainingOnly;
    totals.bits += memBits;
    rows.push({
      name: layer.name, type, outputShape: outShape, inputPrecision: inPrec, outputPrecision: out,
      paramsByBits: byBits, trainingOnlyParams: trainingOnly, totalParams: trainable + nonTrainable,
      trainableParams: trainable, nonTrainableParams: nonTrainable, memoryKiB: kiB(memBits), macs, macPrecision,
      weightPrecision,
    });
  }
  const modelSizeKiB = kiB(totals.bits);
  const float32SizeKiB = kiB(totals.f32);
  return {
    name: model.name, layers: rows, totalParams: totals.total, trainableParams: totals.trainable,
    nonTrainableParams: totals.nonTrainable, trainingOnlyParams: totals.trainingOnly, paramsByBits, modelSizeKiB,
    float32SizeKiB, compressionRatio: modelSizeKiB > 0 ? float32SizeKiB / modelSizeKiB : 1, totalMacs, macsByPrecision,
  };
}

function shapeText(s: Shape | Shape[]): string {
  const one = (x: Shape) => `(${x.map((d) => (d == null ? '-1' : String(d))).join(', ')})`;
  return Array.isArray(s[0]) ? (s as Shape[]).map(one).join(' ') : one(s as Shape);
}

function num(n: number): string {
  return n.toLocaleString('en-US');
}

function fixed(n: number, digits = 2): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(header: string[], rows: string[][], alignRight: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (alignRight[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const body = rows.slice(0, -1).map(line);
  return [line(header), rule, ...body, rule, line(rows[rows.length - 1]), rule].join('\n');
}

/** The summary as a text table (pass a model or a summary); the last row is the totals row. */
export function formatSummary(s: ModelSummary | tf.LayersModel): string {
  const sum = s instanceof tf.LayersModel ? summary(s) : s;
  const bitCols = Object.keys(sum.paramsByBits).map(Number).sort((a, b) => a - b);
  const macCols = Object.keys(sum.macsByPrecision).map(Number).sort((a, b) => a - b);
  const header = [
    'Layer (type)', 'Input prec. (bit)', 'Output shape',
    ...bitCols.map((b) => `# ${b}-bit`), 'Memory (KiB)', ...macCols.map((b) => `${b}-bit MACs`),
  ];
  const rows = sum.layers.map((l) => [
    `${l.name} (${l.type})`,
    l.weightPrecision != null ? String(l.inputPrecision) : '-',
    shapeText(l.outputShape),
    ...bitCols.map((b) => (l.paramsByBits[b] ? num(l.paramsByBits[b]) : '0')),
    fixed(l.memoryKiB),
    ...macCols.map((b) => (l.macPrecision === b ? num(l.macs) : '0')),
  ]);
  rows.push([
    'Total', '', '', ...bitCols.map((b) => num(sum.paramsByBits[b])), fixed(sum.modelSizeKiB),
    ...macCols.map((b) => num(sum.macsByPrecision[b])),
  ]);
  const align = header.map((_, i) => i >= 3 || i === 1);
  const lines = [
    `Model: ${sum.name}`,
    table(header, rows, align),
    `Total params:                 ${num(sum.totalParams)}`,
    `Trainable params:             ${num(sum.trainableParams)}`,
    `Non-trainable params:         ${num(sum.nonTrainableParams)}`,
  ];
  if (sum.trainingOnlyParams > 0) lines.push(`Training-only params:         ${num(sum.trainingOnlyParams)} (not stored)`);
  lines.push(
    `Model size:                   ${fixed(sum.modelSizeKiB)} KiB`,
    `Float-32 equivalent:          ${fixed(sum.float32SizeKiB)} KiB`,
    `Compression ratio of memory:  ${fixed(sum.compressionRatio)}`,
    `Number of MACs:               ${num(sum.totalMacs)}`,
  );
  for (const b of macCols) {
    const share = sum.totalMacs > 0 ? (100 * sum.macsByPrecision[b]) / sum.totalMacs : 0;
    lines.push(`  ${`${b}-bit MACs:`.padEnd(28)}${num(sum.macsByPrecision[b])} (${fixed(share, 1)} %)`);
  }
  return lines.join('\n');
}

/**
 * Deployed memory of a Bayesian M-ary network, from summary(): each mean a ceil(log2 M)-bit index, M float32
 * levels per layer, biases and batch norm at 32 bits (log σ² and the freezing state are training-only).
 */
export function maryMemory(model: tf.LayersModel, M: number): { bitsPerWeight: number; memoryKiB: number; float32KiB: number; compressionRatio: number } {
  const s = summary(model);
  return { bitsPerWeight: Math.ceil(Math.log2(M)), memoryKiB: s.modelSizeKiB, float32KiB: s.float32SizeKiB, compressionRatio: s.compressionRatio };
}
