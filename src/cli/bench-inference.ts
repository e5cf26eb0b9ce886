/**
 * npm run bench:inference -- [--rounds 5] [--iters1 200] [--iters128 10] [--iters N] [--variants binarynet,bwn,...]
 *                            [--batches 1,128] [--out results/inference-bench.json]
 *
 * Latency (batch 1) and throughput (batch 128) of the quantized LeNet-5 variants (BinaryNet, BWN, TWN,
 * M = 2, 3, 4) on the low-bit inference engine, against their float32 twins on tfjs (wasm), their own simulated
 * quantization in tfjs, and the same nets on the engine's float32 kernels; interleaved rounds, min and median.
 * Logic in src/inference/bench.ts; what the engines are: docs/inference.md. Run it on an otherwise idle machine.
 */
import { Command } from 'commander';
import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../engine';
import { BENCH_ENGINES, BENCH_VARIANTS, BenchEngine, BenchVariant, runInferenceBench } from '../inference/bench';

const ROOT = path.resolve(__dirname, '..', '..');

function sh(cmd: string): string | null {
  try {
    return execSync(cmd, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return null;
  }
}

function list<T extends string>(value: string, valid: readonly T[], what: string): T[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const i of items) if (!valid.includes(i as T)) throw new Error(`unknown ${what} '${i}' (${valid.join(', ')})`);
  return items as T[];
}

async function main(): Promise<void> {
  const program = new Command()
    .name('bench:inference')
    .description('Inference latency and throughput of the quantized LeNet-5 variants: low-bit engine vs tfjs float32, simulated quantization and the engine in float32')
    .option('--variants <list>', `comma-separated: ${BENCH_VARIANTS.join(',')}`, BENCH_VARIANTS.join(','))
    .option('--engines <list>', `comma-separated: ${BENCH_ENGINES.join(',')}`, BENCH_ENGINES.join(','))
    .option('--batches <list>', 'batch sizes', '1,128')
    .option('--rounds <n>', 'interleaved rounds', '5')
    .option('--iters1 <n>', 'calls per engine per round at batch 1', '200')
    .option('--iters128 <n>', 'calls per engine per round at batch 128', '10')
    .option('--iters <n>', 'calls per engine per round at every batch size (overrides --iters1/--iters128)')
    .option('--backend <name>', 'tfjs backend of the tfjs engines', 'wasm')
    .option('--out <file>', 'results file', path.join(ROOT, 'results', 'inference-bench.json'))
    .parse(process.argv);
  const o = program.opts<{ variants: string; engines: string; batches: string; rounds: string; iters1: string; iters128: string; iters?: string; backend: string; out: string }>();
  const variants = list<BenchVariant>(o.variants, BENCH_VARIANTS, 'variant');
  const engines = list<BenchEngine>(o.engines, BENCH_ENGINES, 'engine');
  const batches = o.batches.split(',').map((s) => parseInt(s, 10)).filter((n) => n > 0);
  const rounds = Math.max(1, parseInt(o.rounds, 10));
  const all = o.iters != null ? Math.max(1, parseInt(o.iters, 10)) : null;
  const iters: Record<number, number> = all != null ? {} : { 1: Math.max(1, parseInt(o.iters1, 10)), 128: Math.max(1, parseInt(o.iters128, 10)) };
  const defaultIters = all ?? Math.max(1, parseInt(o.iters128, 10));

  // One thread for the tfjs twins: the low-bit engine has no threads, so both sides run on one core.
  const engine = await initEngine({ backend: o.backend, threads: 1 });
  const tfjsThreads = engine.wasmThreads;
  const uptimeStart = sh('uptime');
  const loadStart = os.loadavg();
  console.log(`[bench:inference] tfjs ${engine.backend} (${tfjsThreads ?? '?'} thread(s)), node ${process.version}; ${uptimeStart ?? ''}`);
  const t0 = Date.now();
  const variantsOut = runInferenceBench({ variants, batches, rounds, iters, defaultIters, engines, log: (l) => console.log(`[bench:inference] ${l}`) });
  const report = {
    what: 'Inference latency (batch 1) and throughput (batch 128) of quantized LeNet-5 variants: engine-lowbit (src/inference, low-bit WebAssembly kernels), '
      + 'engine-lowbit-grouped (grouped sums for low-bit weights x float inputs), engine-float32 (the same net on the same engine, float32 kernels: the control), '
      + 'tfjs-float32 (the float twin on tfjs), tfjs-simulated (the quantized net in tfjs, quantizers run each call). docs/inference.md.',
    weights: 'random-initialised (seeded) models, batch norm with its initial statistics: weight values do not change the speed of any engine here (no data-dependent branches or sparsity skipping)',
    timing: 'each engine runs `iters` calls per round, engines interleaved with the order rotated every round; min and median over all calls; '
      + 'engine calls include copying the input into and the output out of the module memory, tfjs calls include predict() and dataSync()',
    command: ['npm run bench:inference --', ...process.argv.slice(2)].join(' '),
    commit: sh('git rev-parse HEAD'),
    srcDirty: (sh('git status --porcelain --untracked-files=no -- src assembly') ?? '').length > 0,
    date: new Date().toISOString(),
    node: process.version,
    tfjs: tf.version_core,
    backend: engine.backend,
    tfjsWasmThreads: tfjsThreads,
    engineThreads: 1,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? null, platform: `${os.platform()} ${os.arch()}` },
    load: { uptimeStart, uptimeEnd: sh('uptime'), loadavgStart: loadStart, loadavgEnd: os.loadavg() },
    settings: { variants, engines, batches, rounds, iters: all != null ? `${all} at every batch` : iters },
    seconds: (Date.now() - t0) / 1000,
    variants: variantsOut,
  };
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  fs.writeFileSync(o.out, JSON.stringify(report, null, 2) + '\n');
  console.log(`[bench:inference] wrote ${path.relative(process.cwd(), o.out)} (${report.seconds.toFixed(0)} s)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
