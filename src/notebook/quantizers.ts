/**
 * Quantizers seen from a notebook: forward transfer curves q(x) with the settings of each method preset,
 * and a tensor before/after quantization (histogram panels).
 */
import * as tf from '@tensorflow/tfjs';
import { methodPreset } from '../models';
import {
  binaryConnectValues, binaryTanhValues, binaryWeightValues, fixedPointValues, inqQuantizeValues, minMaxValues,
  pow2Values, ternaryWeightValues,
} from '../quantizers';
import { weightHistogram, type TopLevelSpec } from '../plots';
import type { Row } from '../plots/types';

type Options = Record<string, unknown>;

/** The options a method preset gives its weight (or activation) quantizer: curves use exactly what training uses. */
function presetOptions(method: string, which: 'kernel' | 'activation' = 'kernel'): Options {
  const p = methodPreset(method);
  const spec = which === 'kernel' ? p.kernelQuantizer : p.activationQuantizer;
  return (spec?.options ?? {}) as Options;
}

/**
 * One transfer function per method, on a column of inputs x ([n, 1]: one output channel whose fan-in is all
 * of x, so the per-channel scale of BWN/TWN is computed over the whole plotted range).
 */
const TRANSFERS: Array<{ name: string; f: (x: tf.Tensor) => tf.Tensor }> = [
  { name: 'binary-connect', f: (x) => binaryConnectValues(x) },
  { name: 'binary-net', f: (x) => binaryTanhValues(x) }, // its activation, binary_tanh (weights as binary-connect)
  { name: 'binary-weight', f: (x) => binaryWeightValues(x) }, // = bwn: alpha * sign(x), alpha = mean |x|
  { name: 'twn', f: (x) => ternaryWeightValues(x, presetOptions('twn')) },
  { name: 'fixed-point-connect', f: (x) => fixedPointValues(x, presetOptions('fixed-point-connect')) },
  { name: 'pow2-connect', f: (x) => pow2Values(x, presetOptions('pow2-connect')) },
  { name: 'pow2-net', f: (x) => pow2Values(x, presetOptions('pow2-net', 'activation')) }, // activations: with a zero
  { name: 'inq', f: (x) => inqQuantizeValues(x, presetOptions('inq').numBits as number | undefined) },
  { name: 'min-max', f: (x) => minMaxValues(x, presetOptions('min-max') as Parameters<typeof minMaxValues>[1]) },
];

/** Names of the quantizers transferRows draws, in order. */
export const TRANSFER_NAMES = TRANSFERS.map((t) => t.name);

/**
 * Rows {quantizer, x, q} for x evenly spaced over [from, to] (default -2..2, 801 points: fine enough to show
 * the 2^-4 steps of 8-bit fixed point).
 */
export function transferRows(opts: { from?: number; to?: number; points?: number; only?: string[] } = {}): Row[] {
  const from = opts.from ?? -2;
  const to = opts.to ?? 2;
  const n = opts.points ?? 801;
  const xs = Array.from({ length: n }, (_, i) => from + ((to - from) * i) / (n - 1));
  const x = tf.tensor2d(xs, [n, 1]);
  const rows: Row[] = [];
  try {
    for (const t of TRANSFERS) {
      if (opts.only && !opts.only.includes(t.name)) continue;
      const q = tf.tidy(() => t.f(x));
      const qs = q.dataSync();
      q.dispose();
      xs.forEach((xv, i) => rows.push({ quantizer: t.name, x: xv, q: qs[i] }));
    }
  } finally {
    x.dispose();
  }
  return rows;
}

/** Distinct values of a quantized tensor with their counts, e.g. {-0.12: 75, 0: 20, 0.12: 55}. */
export function levelsOf(t: tf.Tensor, digits = 4): Row[] {
  const counts = new Map<number, number>();
  for (const v of t.dataSync()) {
    const k = Number(v.toFixed(digits));
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([value, count]) => ({ value, count }));
}

/** The kernel (first weight) of a named layer, e.g. kernelOf(model, 'conv2'). The model keeps ownership. */
export function kernelOf(model: tf.LayersModel, layerName: string): tf.Tensor {
  const layer = model.getLayer(layerName);
  const w = layer.getWeights()[0];
  if (!w) throw new Error(`Layer '${layerName}' has no weights.`);
  return w;
}

/**
 * Histograms of one weight tensor before and after quantization, one panel each: the float weights spread
 * out, the quantized ones pile up on a few levels (drawn as red rules when there are at most 8 of them).
 */
export function beforeAfter(w: tf.Tensor, methods: string[] = ['binary-connect', 'twn'], title?: string): TopLevelSpec {
  const values: Float32Array[] = [Float32Array.from(w.dataSync())];
  const names = ['float32 weights'];
  const levels: number[][] = [[]];
  for (const m of methods) {
    const t = TRANSFERS.find((e) => e.name === m);
    if (!t) throw new Error(`beforeAfter: no quantizer '${m}'; choose from ${TRANSFER_NAMES.join(', ')}.`);
    const q = tf.tidy(() => t.f(w));
    const distinctLevels = levelsOf(q).map((r) => r.value as number);
    values.push(Float32Array.from(q.dataSync()));
    q.dispose();
    names.push(`${m} (${distinctLevels.length} values)`);
    levels.push(distinctLevels.length <= 8 ? distinctLevels : []);
  }
  return weightHistogram({
    values, layerNames: names, levels, columns: values.length, yScale: 'sqrt', xTitle: 'weight value',
    title: title ?? 'One kernel before and after quantization (red: the quantized values)',
  });
}
