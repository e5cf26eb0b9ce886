/**
 * npm run bench -- [--models lenet5,resnet20] [--steps 10] [--batch 128] [--torch-threads 1] [--no-torch]
 *
 * Training-step throughput of the selected TF.js backend (initEngine: QNNLAB_BACKEND picks one) for
 * LeNet-5 (MNIST shape) and ResNet-20 (CIFAR shape): Adam, softmax cross-entropy, optimizer.minimize,
 * random data. The first step is a warm-up and is excluded; median and min over the next N steps.
 * When PyTorch is importable (Debian: apt-get install python3-torch), scripts/bench_torch.py runs the
 * identical models in the same run and the ratio tfjs/torch is printed. Writes results/bench.json.
 */
import { Command } from 'commander';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../engine';
import { BENCH_MODELS, BenchModelName, buildBenchModel, countParams, makeTrainStep } from '../engine/benchModels';

interface Timing {
  msPerStep: number;
  minMs: number;
  /** Median process CPU time per step: close to msPerStep on an idle machine, robust to other load. */
  cpuMsPerStep?: number;
  steps: number;
  params: number;
}

interface ModelResult extends Timing {
  torchMsPerStep: number | null;
  torchMinMs: number | null;
  torchCpuMsPerStep: number | null;
  ratio: number | null;
  /** cpuMsPerStep / torchCpuMsPerStep: the same ratio, less sensitive to other load on the machine. */
  cpuRatio: number | null;
}

const ROOT = path.resolve(__dirname, '..', '..');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function benchTfjs(name: BenchModelName, batch: number, steps: number): Timing {
  const { model, inputShape } = buildBenchModel(name);
  const { step, dispose } = makeTrainStep(model, inputShape, batch);
  step(); // warm-up: operator creation, Adam slots, heap growth
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < steps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const loss = step();
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    if (!Number.isFinite(loss)) throw new Error(`${name}: loss is ${loss} at step ${i + 1}`);
  }
  const params = countParams(model);
  dispose();
  model.dispose();
  return { msPerStep: median(times), minMs: Math.min(...times), cpuMsPerStep: median(cpu), steps, params };
}

/** The first Python that imports torch: the system one first (python3 on PATH may be a pyenv without it). */
function findTorchPython(): string | null {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) return py;
  }
  return null;
}

function benchTorch(py: string, models: string[], batch: number, steps: number, threads: number): Record<string, unknown> | null {
  const script = path.join(ROOT, 'scripts', 'bench_torch.py');
  const args = [script, '--models', models.join(','), '--batch', String(batch), '--steps', String(steps), '--threads', String(threads)];
  const r = spawnSync(py, args, { encoding: 'utf8', timeout: 30 * 60_000 });
  if (r.status !== 0) {
    console.warn(`bench_torch.py failed (${r.status}): ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, unknown>;
}

function gitCommit(): string | null {
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function wasmThreads(backend: string): number | null {
  if (backend !== 'wasm') return null;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const wasm = require('@tensorflow/tfjs-backend-wasm') as { getThreadsCount(): number };
  return wasm.getThreadsCount();
}

async function main(): Promise<void> {
  const program = new Command()
    .name('bench')
    .description('Training-step throughput of LeNet-5 and ResNet-20 on the selected TF.js backend (and PyTorch CPU when present)')
    .option('--models <list>', `comma-separated: ${BENCH_MODELS.join(',')}`, BENCH_MODELS.join(','))
    .option('--steps <n>', 'timed steps per model (after one warm-up step)', '10')
    .option('--batch <n>', 'batch size', '128')
    .option('--torch-threads <n>', 'PyTorch intra-op threads (1 matches single-threaded wasm)', '1')
    .option('--no-torch', 'skip the PyTorch comparison')
    .option('--out <file>', 'results file', path.join(ROOT, 'results', 'bench.json'))
    .parse(process.argv);
  const o = program.opts<{ models: string; steps: string; batch: string; torchThreads: string; torch: boolean; out: string }>();
  const models = o.models.split(',').map((s) => s.trim()).filter(Boolean) as BenchModelName[];
  for (const m of models) if (!BENCH_MODELS.includes(m)) throw new Error(`unknown model '${m}' (${BENCH_MODELS.join(', ')})`);
  const steps = Math.max(1, parseInt(o.steps, 10));
  const batch = Math.max(1, parseInt(o.batch, 10));
  const torchThreads = Math.max(1, parseInt(o.torchThreads, 10));

  const engine = await initEngine({ verbose: true });
  const threads = wasmThreads(engine.backend);
  if (threads != null) console.log(`[bench] wasm threads: ${threads}`);

  const results: Record<string, ModelResult> = {};
  for (const m of models) {
    const t = benchTfjs(m, batch, steps);
    results[m] = { ...t, torchMsPerStep: null, torchMinMs: null, torchCpuMsPerStep: null, ratio: null, cpuRatio: null };
    console.log(`[bench] ${m} (${t.params} params, batch ${batch}): tfjs-${engine.backend} median ${t.msPerStep.toFixed(1)} ms/step, min ${t.minMs.toFixed(1)} ms over ${steps} steps (CPU ${t.cpuMsPerStep?.toFixed(1)} ms/step)`);
  }

  const py = o.torch ? findTorchPython() : null;
  let torchVersion: string | null = null;
  let torchBlas: string[] | null = null;
  if (o.torch && py == null) console.log('[bench] PyTorch not found (apt-get install python3-torch to compare): torch fields are null');
  if (py != null) {
    const tr = benchTorch(py, models, batch, steps, torchThreads);
    torchVersion = tr ? String(tr.torch) : null;
    torchBlas = tr ? (tr.blas as string[]) : null;
    if (torchBlas != null) console.log(`[bench] torch BLAS: ${torchBlas.join(', ') || 'unknown'}`);
    for (const m of models) {
      const t = tr?.[m] as Timing | undefined;
      if (t == null) continue;
      const cpuRatio = t.cpuMsPerStep != null && results[m].cpuMsPerStep != null ? (results[m].cpuMsPerStep as number) / t.cpuMsPerStep : null;
      Object.assign(results[m], {
        torchMsPerStep: t.msPerStep, torchMinMs: t.minMs, torchCpuMsPerStep: t.cpuMsPerStep ?? null, ratio: results[m].msPerStep / t.msPerStep, cpuRatio,
      });
      if (t.params !== results[m].params) console.warn(`[bench] ${m}: torch model has ${t.params} params, tfjs ${results[m].params}`);
      console.log(`[bench] ${m}: torch ${torchVersion} (${torchThreads} thread${torchThreads > 1 ? 's' : ''}) median ${t.msPerStep.toFixed(1)} ms/step, min ${t.minMs.toFixed(1)} ms; tfjs/torch = ${(results[m].ratio as number).toFixed(2)}x (CPU time ${cpuRatio?.toFixed(2)}x)`);
    }
  }

  const cpus = os.cpus();
  const report = {
    backend: engine.backend,
    provider: engine.provider,
    tfjs: tf.version_core,
    batch,
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? null,
      node: process.version,
      platform: `${os.platform()} ${os.arch()}`,
      loadavg: os.loadavg(),
      wasmThreads: threads,
      torch: torchVersion,
      torchThreads: py != null ? torchThreads : null,
      torchBlas,
    },
    commit: gitCommit(),
    date: new Date().toISOString(),
    ...results,
  };
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  fs.writeFileSync(o.out, JSON.stringify(report, null, 2) + '\n');
  console.log(`[bench] wrote ${path.relative(process.cwd(), o.out)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
