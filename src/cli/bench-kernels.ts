/**
 * tsx src/cli/bench-kernels.ts [--profile lenet5|resnet20] [--reps 5]
 *
 * Kernel-level timings on the wasm backend, the stock kernel and our override side by side in one run
 * (the stock Conv2DBackpropFilter does not exist: it is left blank). Times are process CPU time, which
 * equals wall time for single-threaded wasm but ignores other load on the machine. With --profile, one training step
 * of a bench model is profiled instead and the time per kernel name is printed.
 */
import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../engine';
import { originalWasmKernel, wasmKernelOptions } from '../engine/kernels';
import { BenchModelName, buildBenchModel, makeTrainStep } from '../models/benchModels';

interface Case {
  label: string;
  kernel: string;
  inputs: Record<string, number[]>;
  attrs: Record<string, unknown>;
}

function conv(label: string, x: number[], k: number, co: number, s: number, pad: 'same' | 'valid' = 'same'): Case[] {
  const info = tf.backend_util.computeConv2DInfo(x as [number, number, number, number], [k, k, x[3], co], s, 1, pad);
  const attrs = { strides: s, pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
  return [
    { label: `${label} dW`, kernel: 'Conv2DBackpropFilter', inputs: { x, dy: info.outShape }, attrs: { ...attrs, filterShape: [k, k, x[3], co] } },
    { label: `${label} dX`, kernel: 'Conv2DBackpropInput', inputs: { dy: info.outShape, filter: [k, k, x[3], co] }, attrs: { ...attrs, inputShape: x } },
    { label: `${label} fwd`, kernel: 'Conv2D', inputs: { x, filter: [k, k, x[3], co] }, attrs: { ...attrs, dilations: 1 } },
  ];
}

const CASES: Case[] = [
  ...conv('resnet 32x32x16 3x3', [128, 32, 32, 16], 3, 16, 1),
  ...conv('resnet 16x16x32 3x3', [128, 16, 16, 32], 3, 32, 1),
  ...conv('resnet 8x8x64 3x3', [128, 8, 8, 64], 3, 64, 1),
  ...conv('resnet 32->16 s2 3x3', [128, 32, 32, 16], 3, 32, 2),
  ...conv('resnet 32->16 s2 1x1', [128, 32, 32, 16], 1, 32, 2),
  ...conv('resnet stem 32x32x3 3x3', [128, 32, 32, 3], 3, 16, 1),
  ...conv('lenet conv1 28x28x1 5x5', [128, 28, 28, 1], 5, 20, 1, 'valid'),
  ...conv('lenet conv2 12x12x20 5x5', [128, 12, 12, 20], 5, 50, 1, 'valid'),
  { label: 'dense [128,800]x[800,500]^T', kernel: 'BatchMatMul', inputs: { a: [1, 128, 500], b: [1, 800, 500] }, attrs: { transposeA: false, transposeB: true } },
  { label: 'dense [128,800]^Tx[128,500]', kernel: 'BatchMatMul', inputs: { a: [1, 128, 800], b: [1, 128, 500] }, attrs: { transposeA: true, transposeB: false } },
  { label: 'maxPoolGrad 128x24x24x20 /2', kernel: 'MaxPoolGrad', inputs: { dy: [128, 12, 12, 20], input: [128, 24, 24, 20], output: [128, 12, 12, 20] }, attrs: { filterSize: 2, strides: 2, pad: 'valid' } },
  { label: 'sum [0,1,2] 128x32x32x16', kernel: 'Sum', inputs: { x: [128, 32, 32, 16] }, attrs: { axis: [0, 1, 2], keepDims: false } },
  { label: 'mean [1,2] 128x8x8x64', kernel: 'Mean', inputs: { x: [128, 8, 8, 64] }, attrs: { axis: [1, 2], keepDims: false } },
  { label: 'identity 128x32x32x16', kernel: 'Identity', inputs: { x: [128, 32, 32, 16] }, attrs: {} },
];

/** Process CPU time in ms: single-threaded wasm work, insensitive to other processes on a shared machine. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Median CPU ms of `reps` calls, each on freshly made inputs: the wasm BatchMatMul caches packed weights
 * by tensor id, which a training step never reuses (its tensors are new every step).
 */
function timeIt(c: Case, f: tf.KernelFunc, reps: number): number {
  const backend = tf.backend() as unknown as { disposeData(id: object): boolean };
  const ts: number[] = [];
  for (let i = 0; i <= reps; i++) {
    const inputs: Record<string, tf.Tensor> = {};
    for (const [k, shape] of Object.entries(c.inputs)) inputs[k] = tf.randomNormal(shape);
    const infos = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, { dataId: t.dataId, shape: t.shape, dtype: t.dtype }]));
    const t0 = cpuMs();
    const out = f({ inputs: infos, attrs: c.attrs, backend } as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    if (i > 0) ts.push(cpuMs() - t0); // the first call is a warm-up (heap growth)
    backend.disposeData(out.dataId);
    tf.dispose(Object.values(inputs));
  }
  return ts.sort((a, b) => a - b)[ts.length >> 1];
}

function kernelTable(reps: number): void {
  console.log('median CPU ms per call (process CPU time)');
  console.log(`${'case'.padEnd(34)} ${'stock ms'.padStart(10)} ${'ours ms'.padStart(10)} ${'speed-up'.padStart(9)}`);
  for (const c of CASES) {
    const stock = c.kernel === 'Conv2DBackpropFilter' ? undefined : originalWasmKernel(c.kernel);
    const ours = tf.getKernel(c.kernel, 'wasm')?.kernelFunc;
    const ts = stock ? timeIt(c, stock, reps) : NaN;
    const to = ours ? timeIt(c, ours, reps) : NaN;
    const sp = Number.isFinite(ts) ? `${(ts / to).toFixed(1)}x` : '-';
    let alt = '';
    if (c.kernel === 'Conv2DBackpropFilter' && ours) {
      // The other dW formulations, for choosing between them.
      for (const path of ['conv'] as const) {
        wasmKernelOptions.backpropFilter = path;
        alt += `  ${path} ${timeIt(c, ours, reps).toFixed(2)}`;
      }
      wasmKernelOptions.backpropFilter = 'auto';
    }
    console.log(`${c.label.padEnd(34)} ${(Number.isFinite(ts) ? ts.toFixed(2) : 'missing').padStart(10)} ${to.toFixed(2).padStart(10)} ${sp.padStart(9)}${alt}`);
  }
}

async function profileStep(name: BenchModelName, batch: number): Promise<void> {
  const { model, inputShape } = buildBenchModel(name);
  const { step, dispose } = makeTrainStep(model, inputShape, batch);
  step();
  step();
  // The profiler times kernels with backend.time(): make it measure CPU time instead of wall time.
  const be = tf.backend() as unknown as { time(f: () => void): Promise<{ kernelMs: number }> };
  be.time = async (f) => {
    const c0 = cpuMs();
    f();
    return { kernelMs: cpuMs() - c0 };
  };
  const t0 = cpuMs();
  const info = await tf.profile(() => { step(); });
  const wall = cpuMs() - t0;
  const byName = new Map<string, { ms: number; n: number }>();
  for (const k of info.kernels) {
    const e = byName.get(k.name) ?? { ms: 0, n: 0 };
    e.ms += Number(k.kernelTimeMs);
    e.n++;
    byName.set(k.name, e);
  }
  const rows = [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((s, [, e]) => s + e.ms, 0);
  console.log(`${name}, one step (batch ${batch}): ${total.toFixed(0)} CPU ms in kernels, ${wall.toFixed(0)} CPU ms in all (profiling included)`);
  for (const [k, e] of rows) console.log(`  ${k.padEnd(24)} ${e.ms.toFixed(1).padStart(8)} ms  ${String(e.n).padStart(5)} calls`);
  console.log('costliest (kernel, input shapes):');
  const byShape = new Map<string, { ms: number; n: number }>();
  for (const k of info.kernels) {
    if (k.name.endsWith('__op')) continue;
    const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
    const e = byShape.get(key) ?? { ms: 0, n: 0 };
    e.ms += Number(k.kernelTimeMs);
    e.n++;
    byShape.set(key, e);
  }
  for (const [key, e] of [...byShape.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
    console.log(`  ${e.ms.toFixed(1).padStart(8)} ms ${String(e.n).padStart(4)}x  ${key}`);
  }
  console.log('slowest calls:');
  const calls = [...info.kernels].filter((k) => !k.name.endsWith('__op')).sort((a, b) => Number(b.kernelTimeMs) - Number(a.kernelTimeMs));
  for (const k of calls.slice(0, 12)) {
    console.log(`  ${k.name.padEnd(24)} ${Number(k.kernelTimeMs).toFixed(1).padStart(8)} ms  in ${JSON.stringify(k.inputShapes)} out ${JSON.stringify(k.outputShapes)}`);
  }
  dispose();
  model.dispose();
}

async function main(): Promise<void> {
  const o = new Command()
    .option('--profile <model>', 'profile one training step of lenet5 or resnet20 instead')
    .option('--batch <n>', 'batch size for --profile', '128')
    .option('--reps <n>', 'timed repetitions per kernel', '5')
    .parse(process.argv)
    .opts<{ profile?: BenchModelName; batch: string; reps: string }>();
  const engine = await initEngine({ backend: 'wasm', verbose: true });
  if (engine.backend !== 'wasm') throw new Error('bench-kernels needs the wasm backend');
  if (o.profile) await profileStep(o.profile, parseInt(o.batch, 10));
  else kernelTable(parseInt(o.reps, 10));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
