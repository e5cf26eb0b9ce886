/**
 * Inference benchmark of the quantized LeNet-5 variants (`npm run bench:inference`, src/cli/bench-inference.ts):
 * latency at batch 1 and throughput at batch 128 of
 *   engine-lowbit          the quantized net on this engine's low-bit kernels (code tables; XNOR for BinaryNet)
 *   engine-lowbit-grouped  the same with grouped sums for low-bit weights × float inputs (M multiplies per output)
 *   engine-float32         the same net, weights decoded to float32, on this engine's float kernels: the control
 *                          that separates low-bit arithmetic from what any lean engine saves over tfjs
 *   tfjs-float32           the float32 twin (same architecture, float weights) on the tfjs backend (wasm)
 *   tfjs-simulated         the quantized net itself in tfjs (simulated quantization: quantizers run every call)
 * Engines are interleaved: every round runs each engine for `iters` calls, in an order rotated each round;
 * min and median are over all calls. Weights are random (seeded): their values do not change the speed.
 */
import * as tf from '@tensorflow/tfjs';
import { lenet5, maryLenet5, methodOptions } from '../models';
import { packModel } from '../export/pack';
import { inspectPacked } from '../export/unpack';
import { compilePacked } from './node';
import type { CompiledModel, ResidentBytes } from './engine';
import { median } from '../util/stats';

export const BENCH_VARIANTS = ['binarynet', 'bwn', 'twn', 'm2', 'm3', 'm4'] as const;
export type BenchVariant = (typeof BENCH_VARIANTS)[number];
export const BENCH_ENGINES = ['engine-lowbit', 'engine-lowbit-grouped', 'engine-float32', 'tfjs-float32', 'tfjs-simulated'] as const;
export type BenchEngine = (typeof BENCH_ENGINES)[number];

interface VariantSpec {
  description: string;
  quantized: () => tf.LayersModel;
  twin: () => tf.LayersModel;
  twinDescription: string;
}

const SPECS: Record<BenchVariant, VariantSpec> = {
  binarynet: {
    description: "BinaryNet LeNet-5 (zoo-mnist's 16-32 widths): binary weights, binary activations after conv1",
    quantized: () => lenet5({ ...methodOptions('binary-net'), widths: { conv1: 16, conv2: 32 }, seed: 1 }),
    twin: () => lenet5({ ...methodOptions('fp'), widths: { conv1: 16, conv2: 32 }, seed: 1 }),
    twinDescription: 'float LeNet-5 16-32-120-84 (ReLU), the same layer shapes',
  },
  bwn: {
    description: 'BWN LeNet-5: binary weights with a scale per output channel, float activations',
    quantized: () => lenet5({ ...methodOptions('bwn'), seed: 1 }),
    twin: () => lenet5({ ...methodOptions('fp'), seed: 1 }),
    twinDescription: 'float LeNet-5 6-16-120-84',
  },
  twn: {
    description: 'TWN LeNet-5: ternary weights with a scale per output channel, float activations',
    quantized: () => lenet5({ ...methodOptions('twn'), seed: 1 }),
    twin: () => lenet5({ ...methodOptions('fp'), seed: 1 }),
    twinDescription: 'float LeNet-5 6-16-120-84',
  },
  m2: {
    description: "Bayesian M-ary LeNet-5, M = 2 learned levels per layer, deployed as Q(θ) ('quantized' mode)",
    quantized: () => maryLenet5({ M: 2, seed: 1 }),
    twin: () => lenet5({ conv1Padding: 'valid', seed: 1 }),
    twinDescription: "float LeNet-5 6-16-120-84 with conv1 'valid' (the M-ary net's shapes)",
  },
  m3: {
    description: "Bayesian M-ary LeNet-5, M = 3 learned levels per layer, deployed as Q(θ) ('quantized' mode)",
    quantized: () => maryLenet5({ M: 3, seed: 1 }),
    twin: () => lenet5({ conv1Padding: 'valid', seed: 1 }),
    twinDescription: "float LeNet-5 6-16-120-84 with conv1 'valid' (the M-ary net's shapes)",
  },
  m4: {
    description: "Bayesian M-ary LeNet-5, M = 4 learned levels per layer, deployed as Q(θ) ('quantized' mode)",
    quantized: () => maryLenet5({ M: 4, seed: 1 }),
    twin: () => lenet5({ conv1Padding: 'valid', seed: 1 }),
    twinDescription: "float LeNet-5 6-16-120-84 with conv1 'valid' (the M-ary net's shapes)",
  },
};

export interface BenchOptions {
  variants: BenchVariant[];
  batches: number[];
  rounds: number;
  /** Calls per engine per round, by batch size (a size not listed uses `defaultIters`). */
  iters: Record<number, number>;
  defaultIters: number;
  engines?: BenchEngine[];
  /** Progress lines. */
  log?: (line: string) => void;
  now?: () => number;
}

export interface EngineTiming {
  minMs: number;
  medianMs: number;
  /** Median per round (shows drift between rounds). */
  roundMedianMs: number[];
  calls: number;
  /** Images per second at the median. */
  imagesPerSecond: number;
}

export interface BatchResult {
  batch: number;
  engines: Record<string, EngineTiming>;
  /** Time ratios (other / engine-lowbit), at the median and at the min: > 1 means engine-lowbit is faster. */
  speedup: Record<string, { median: number; min: number }>;
}

export interface VariantResult {
  variant: BenchVariant;
  description: string;
  twin: string;
  /** Kernels of the low-bit engine, step by step. */
  kernels: string[];
  memory: {
    packedFileBytes: number;
    packedBodyBytes: number;
    engineLowbit: ResidentBytes;
    engineLowbitGrouped: ResidentBytes;
    engineFloat32: ResidentBytes;
    /** float32 variables of the tfjs twin (every weight, batch norm included). */
    tfjsFloat32Twin: number;
    /** float32 variables of the quantized tfjs model (latent weights, quantizer and posterior state). */
    tfjsSimulated: number;
    /** engine-lowbit resident / packed body. */
    lowbitOverPacked: number;
  };
  batches: BatchResult[];
  /** Milliseconds per step of engine-lowbit at the largest batch (median of 5). */
  profile: { name: string; kernel: string; ms: number }[];
}


function variableBytes(model: tf.LayersModel): number {
  return model.weights.reduce((n, w) => n + 4 * w.shape.reduce((a: number, b) => a * (b as number), 1), 0);
}

/** One call of an engine on a prepared batch. */
type Call = () => void;

function makeCalls(
  engines: BenchEngine[], nets: Record<string, CompiledModel>, quantized: tf.LayersModel, twin: tf.LayersModel, x: tf.Tensor, xs: Float32Array, batch: number,
): Record<string, Call> {
  const calls: Record<string, Call> = {};
  for (const e of engines) {
    if (e.startsWith('engine-')) {
      const net = nets[e];
      calls[e] = () => {
        net.predict(xs, batch);
      };
    } else {
      const model = e === 'tfjs-float32' ? twin : quantized;
      calls[e] = () => {
        const y = model.predict(x) as tf.Tensor;
        y.dataSync();
        y.dispose();
      };
    }
  }
  return calls;
}

export function runInferenceBench(opts: BenchOptions): VariantResult[] {
  const log = opts.log ?? (() => undefined);
  const now = opts.now ?? (() => performance.now());
  const engines = opts.engines ?? [...BENCH_ENGINES];
  const results: VariantResult[] = [];
  for (const v of opts.variants) {
    const spec = SPECS[v];
    const quantized = spec.quantized();
    const twin = spec.twin();
    const bytes = packModel(quantized);
    const nets: Record<string, CompiledModel> = {
      'engine-lowbit': compilePacked(bytes),
      'engine-lowbit-grouped': compilePacked(bytes, { strategy: 'grouped' }),
      'engine-float32': compilePacked(bytes, { kernels: 'float32' }),
    };
    const body = inspectPacked(bytes).bodyBytes;
    const lowbit = nets['engine-lowbit'];
    const result: VariantResult = {
      variant: v,
      description: spec.description,
      twin: spec.twinDescription,
      kernels: lowbit.describe().map((s) => `${s.name}: ${s.kernel}${s.act && s.act !== 'none' ? ` + ${s.act}` : ''}`),
      memory: {
        packedFileBytes: bytes.length,
        packedBodyBytes: body,
        engineLowbit: lowbit.resident,
        engineLowbitGrouped: nets['engine-lowbit-grouped'].resident,
        engineFloat32: nets['engine-float32'].resident,
        tfjsFloat32Twin: variableBytes(twin),
        tfjsSimulated: variableBytes(quantized),
        lowbitOverPacked: lowbit.resident.total / body,
      },
      batches: [],
      profile: [],
    };
    for (const batch of opts.batches) {
      const x = tf.randomNormal([batch, 28, 28, 1], 0, 1, 'float32', 1234 + batch);
      const xs = x.dataSync() as Float32Array;
      const calls = makeCalls(engines, nets, quantized, twin, x, xs, batch);
      for (const e of engines) for (let k = 0; k < 2; k++) calls[e](); // warm-up: kernels compiled, buffers sized
      const iters = opts.iters[batch] ?? opts.defaultIters;
      const samples: Record<string, number[]> = Object.fromEntries(engines.map((e) => [e, []]));
      const rounds: Record<string, number[]> = Object.fromEntries(engines.map((e) => [e, []]));
      for (let r = 0; r < opts.rounds; r++) {
        const order = engines.map((_, i) => engines[(i + r) % engines.length]);
        for (const e of order) {
          const t: number[] = [];
          for (let i = 0; i < iters; i++) {
            const t0 = now();
            calls[e]();
            t.push(now() - t0);
          }
          samples[e].push(...t);
          rounds[e].push(median(t));
        }
      }
      const timing: Record<string, EngineTiming> = {};
      for (const e of engines) {
        const med = median(samples[e]);
        timing[e] = { minMs: Math.min(...samples[e]), medianMs: med, roundMedianMs: rounds[e], calls: samples[e].length, imagesPerSecond: (1000 * batch) / med };
      }
      const speedup: BatchResult['speedup'] = {};
      if (timing['engine-lowbit']) {
        for (const e of engines) {
          if (e === 'engine-lowbit') continue;
          speedup[`${e} / engine-lowbit`] = { median: timing[e].medianMs / timing['engine-lowbit'].medianMs, min: timing[e].minMs / timing['engine-lowbit'].minMs };
        }
      }
      result.batches.push({ batch, engines: timing, speedup });
      log(`${v} batch ${batch}: ${engines.map((e) => `${e} ${timing[e].medianMs.toFixed(3)} ms (min ${timing[e].minMs.toFixed(3)})`).join(', ')}`);
      if (batch === Math.max(...opts.batches)) result.profile = lowbit.profile(xs, batch, 5, now);
      x.dispose();
    }
    results.push(result);
    quantized.dispose();
    twin.dispose();
  }
  return results;
}

/** One row per variant and batch size of a bench report: the numbers the README and notebook 05 show. */
export type BenchTableRow = {
  variant: string;
  batch: number;
  /** Median milliseconds per call of the low-bit engine and of the tfjs float32 twin. */
  lowbitMs: number;
  float32TwinMs: number;
  /** Median time of the other engine over the low-bit engine's (> 1: the low-bit engine is faster). */
  speedupVsFloat32Twin: number;
  speedupVsSimulated: number;
  speedupVsOwnFloat32: number;
  residentKiB: number;
  packedKiB: number;
  float32TwinKiB: number;
};

export function benchTableRows(variants: VariantResult[]): BenchTableRow[] {
  return variants.flatMap((v) => v.batches.map((b) => {
    const med = (e: string) => b.engines[e]?.medianMs ?? NaN;
    const low = med('engine-lowbit');
    return {
      variant: v.variant, batch: b.batch, lowbitMs: low, float32TwinMs: med('tfjs-float32'),
      speedupVsFloat32Twin: med('tfjs-float32') / low, speedupVsSimulated: med('tfjs-simulated') / low, speedupVsOwnFloat32: med('engine-float32') / low,
      residentKiB: v.memory.engineLowbit.total / 1024, packedKiB: v.memory.packedFileBytes / 1024, float32TwinKiB: v.memory.tfjsFloat32Twin / 1024,
    };
  }));
}
