/**
 * What quantization buys, measured on the models themselves: memory at the stored bit-widths, compression,
 * multiply-accumulates (src/summary.ts, in the spirit of larq.models.summary) and the wall-clock time of
 * inference on this machine's backend.
 */
import * as tf from '@tensorflow/tfjs';
import { variationalLayers, setMode, restoreModes, type VariationalMode } from '../bayes';
import { engineInfo } from '../engine';
import { maryMemory } from '../summary';
import { buildModel, methodOptions } from '../models';
import { summary } from '../summary';
import { methodBars, type TopLevelSpec } from '../plots';
import type { Row } from '../plots/types';
import { median } from '../util/stats';

const isMary = (model: string) => model.startsWith('mary-');

/** Multiply-accumulates per sample of the variational layers (the summary counts only the quantized layers). */
function variationalMacs(model: tf.LayersModel): number {
  return variationalLayers(model).reduce((sum, l) => {
    const out = l.outputShape as number[];
    const positions = out.slice(1, -1).reduce((a, b) => a * (b ?? 1), 1);
    return sum + l.numWeights() * positions;
  }, 0);
}

const round = (v: number, digits = 2) => Number(v.toFixed(digits));

/**
 * One row per (model, method): stored parameters by bit-width, memory at those bit-widths, the float32 size,
 * the compression ratio and MACs per sample (millions), with the share of MACs at 8 bits or less.
 * Bayesian M-ary models take `M=<n>` as their method (ceil(log2 M)-bit indices plus M float levels per layer).
 */
export function memoryTable(models: string[], methods: string[], Ms: number[] = [2, 3, 4]): Row[] {
  const raw: Array<{ row: Row; byBits: Record<number, number> }> = [];
  for (const name of models) {
    const variants = isMary(name) ? Ms.map((M) => `M=${M}`) : methods;
    for (const method of variants) {
      const model = isMary(name)
        ? buildModel(name, { M: Number(method.slice(2)) })
        : buildModel(name, { ...methodOptions(method), seed: 1 });
      try {
        if (isMary(name)) {
          const M = Number(method.slice(2));
          const mem = maryMemory(model, M);
          const stored = variationalLayers(model).reduce((a, l) => a + l.numWeights(), 0);
          raw.push({
            byBits: { [mem.bitsPerWeight]: stored },
            row: {
              model: name, method, 'memory (KiB)': round(mem.memoryKiB), 'float32 (KiB)': round(mem.float32KiB),
              compression: round(mem.compressionRatio), 'MACs (M)': round(variationalMacs(model) / 1e6, 3), 'MACs ≤ 8 bit (%)': null,
            },
          });
        } else {
          const s = summary(model);
          const low = Object.entries(s.macsByPrecision).filter(([b]) => Number(b) <= 8).reduce((a, [, n]) => a + n, 0);
          raw.push({
            byBits: s.paramsByBits,
            row: {
              model: name, method, 'memory (KiB)': round(s.modelSizeKiB), 'float32 (KiB)': round(s.float32SizeKiB),
              compression: round(s.compressionRatio), 'MACs (M)': round(s.totalMacs / 1e6, 3),
              'MACs ≤ 8 bit (%)': s.totalMacs > 0 ? round((100 * low) / s.totalMacs, 1) : null,
            },
          });
        }
      } finally {
        model.dispose();
      }
    }
  }
  // One column per bit-width that occurs anywhere, so the rows line up.
  const bits = [...new Set(raw.flatMap((r) => Object.keys(r.byBits).map(Number)))].sort((a, b) => a - b);
  return raw.map(({ row, byBits }) => {
    const { model, method, ...rest } = row;
    return { model, method, ...Object.fromEntries(bits.map((b) => [`${b}-bit params`, byBits[b] ?? 0])), ...rest };
  });
}

export interface TimingOptions {
  /** Examples per forward pass (default 256). */
  batch?: number;
  /** Untimed passes first (default 2): kernel setup, wasm warm-up. */
  warmup?: number;
  /** Timed passes per model (default 10); the median is reported. */
  repeats?: number;
  seed?: number;
}

export interface TimedModel {
  /** Label in the table, e.g. 'twn' or 'M=3 (quantized)'. */
  label: string;
  model: tf.LayersModel;
  /** For Bayesian M-ary models: the mode of every variational layer while timing. */
  mode?: VariationalMode;
}


/**
 * Wall-clock time of one forward pass (inference mode) per model, on the same random batch and backend.
 * Rounds are interleaved (every model once per round) so that load from other processes spreads evenly.
 * The first entry is the reference of the 'time / reference' column.
 */
export function timeInference(entries: TimedModel[], opts: TimingOptions = {}): Row[] {
  if (entries.length === 0) return [];
  const batch = opts.batch ?? 256;
  const shape = entries[0].model.inputs[0].shape.slice(1) as number[];
  const x = tf.randomUniform([batch, ...shape], 0, 1, 'float32', opts.seed ?? 1);
  const times: number[][] = entries.map(() => []);
  const pass = (e: TimedModel): number => {
    const modes = e.mode ? setMode(e.model, e.mode) : null;
    try {
      const t0 = performance.now();
      const y = e.model.predict(x) as tf.Tensor;
      y.dataSync(); // wait for the backend: the timing covers the whole forward pass
      const dt = performance.now() - t0;
      y.dispose();
      return dt;
    } finally {
      if (modes) restoreModes(e.model, modes);
    }
  };
  try {
    for (let r = 0; r < (opts.warmup ?? 2); r++) entries.forEach(pass);
    for (let r = 0; r < (opts.repeats ?? 10); r++) entries.forEach((e, i) => times[i].push(pass(e)));
  } finally {
    x.dispose();
  }
  const ref = median(times[0]);
  const backend = engineInfo()?.backend ?? tf.getBackend();
  return entries.map((e, i) => ({
    variant: e.label, backend, batch, 'ms / batch (median)': round(median(times[i])), 'ms / batch (min)': round(Math.min(...times[i])),
    'µs / example': round((1000 * median(times[i])) / batch, 1), 'time / reference': round(median(times[i]) / ref),
  }));
}

/** The float model and one quantized copy per method of `model` (same seed), ready for timeInference. */
export function methodModels(model: string, methods: string[], extra: object = {}): TimedModel[] {
  return methods.map((m) => ({ label: m, model: buildModel(model, { ...methodOptions(m), seed: 1, ...extra }) }));
}

/** One Bayesian M-ary model timed in each inference mode: quantized (deployed), mean, one MC sample. */
export function maryModes(model: string, M: number, modes: VariationalMode[] = ['quantized', 'mean', 'sample']): TimedModel[] {
  const m = buildModel(model, { M, seed: 1 });
  return modes.map((mode) => ({ label: `${model} M=${M} (${mode})`, model: m, mode }));
}

/** Disposes each model once (entries may share one model in several modes). */
export function disposeTimed(entries: TimedModel[]): void {
  for (const m of new Set(entries.map((e) => e.model))) m.dispose();
}

/**
 * The zoo's result table: final test accuracy, its difference to the float network (percentage points),
 * memory at the stored bit-widths and the compression ratio, one row per method.
 */
export function zooTable(variants: Array<Record<string, unknown>>): Row[] {
  const fp = variants.find((v) => v.name === 'fp');
  const acc = (v: Record<string, unknown>) => v.testAccuracy as number;
  return variants.map((v) => ({
    method: String(v.name),
    'test acc. (%)': round(100 * acc(v)),
    'vs fp (pp)': fp ? round(100 * (acc(v) - acc(fp))) : null,
    'memory (KiB)': typeof v.memoryKiB === 'number' ? round(v.memoryKiB) : null,
    compression: typeof v.compressionRatio === 'number' ? round(v.compressionRatio) : null,
    epochs: typeof v.epochs === 'number' ? v.epochs : null,
  }));
}

/** Final test accuracy and memory per method, side by side (the zoo's comparison figure). */
export function zooBars(variants: Array<Record<string, unknown>>, title: string): TopLevelSpec {
  const rows = variants.map((v) => ({
    method: String(v.name), testAccuracy: v.testAccuracy as number,
    memoryKiB: typeof v.memoryKiB === 'number' ? round(v.memoryKiB) : null,
  }));
  return methodBars({ rows, x: 'method', y: 'testAccuracy', memory: 'memoryKiB', titles: { memoryKiB: 'model memory (KiB)' }, title });
}

/**
 * A long table turned wide: one row per value of `row`, one column per value of `column`, cells from `value`
 * (e.g. memory by method and model). Missing combinations stay empty.
 */
export function pivot(rows: Row[], opts: { row: string; column: string; value: string }): Row[] {
  const out = new Map<string, Row>();
  for (const r of rows) {
    const key = String(r[opts.row]);
    if (!out.has(key)) out.set(key, { [opts.row]: key });
    out.get(key)![String(r[opts.column])] = r[opts.value];
  }
  return [...out.values()];
}
