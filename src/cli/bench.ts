/**
 * npm run bench -- [--models lenet5,resnet20] [--steps 10] [--rounds 3] [--batch 128] [--threads N] [--no-torch] [--no-epoch] [--no-bayes-epoch]
 *
 * Training speed of the selected TF.js backend (initEngine: QNNLAB_BACKEND picks one) against PyTorch on the same
 * machine, in one run:
 *  - one training step of LeNet-5 (MNIST shape) and ResNet-20 (CIFAR shape): Adam, softmax cross-entropy, random
 *    data, the first step of each block a warm-up; scripts/bench_torch.py builds the identical models;
 *  - one epoch of the classic LeNet-5 (6-16-120-84-10 with batch norm) on MNIST, batch 128, Adam, from the data
 *    files to the test accuracy (qnnlab: loadDataset + fit; PyTorch: raw files + tensors + the same loop);
 *  - one training epoch of mary-lenet-mnist's Bayesian M = 3 LeNet-5 (qnnlab only: `bayesEpoch`).
 * The two engines alternate, `--rounds` times (the first one swapping each round); min and median are over all
 * rounds, the CPU-time ratio beside the wall-time one. Both sides get `--threads` (default: every core): PyTorch
 * through torch.set_num_threads and OMP/OPENBLAS/MKL_NUM_THREADS in its environment, checked afterwards by its CPU
 * time over its wall time. The BLAS PyTorch really loaded is recorded, and a comparison against the reference
 * BLAS, or at unequal thread counts, carries a warning in the output and in results/bench.json.
 * scripts/setup-bench.sh installs Debian's PyTorch and OpenBLAS.
 */
import { Command } from 'commander';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { loadDataset } from '../data';
import { initEngine } from '../engine';
import { BENCH_MODELS, BenchModelName, buildBenchModel, countParams, makeTrainStep } from '../models/benchModels';
import { lenet5, methodOptions } from '../models';
import { fit, makeOptimizer } from '../train';
import { recipeConfig } from '../bayes';
import { klTerm } from '../bayes/elbo';
import { priorSpec } from '../experiments/maryCommon';
import { buildMaryLenet, maryLenetMnist, type MaryLenetMnistConfig } from '../experiments/maryLenetMnist';
import { median } from '../util/stats';

interface Timing {
  msPerStep: number;
  minMs: number;
  /** Median process CPU time per step: close to msPerStep on an idle machine, robust to other load. */
  cpuMsPerStep?: number;
  steps: number;
  params: number;
}

/** Per-step wall and CPU times of one block of steps. */
interface Block {
  times: number[];
  cpuTimes: number[];
  params: number;
}

interface EpochRun {
  seconds: number;
  cpuSeconds: number;
  testAccuracy: number;
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


function benchTfjs(name: BenchModelName, batch: number, steps: number): Block {
  const { model, inputShape } = buildBenchModel(name);
  const { step, dispose } = makeTrainStep(model, inputShape, batch, 1, makeOptimizer({ name: 'adam', lr: 1e-3 }));
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
  return { times, cpuTimes: cpu, params };
}

/** One epoch of the classic LeNet-5 on MNIST as a user runs it: load the data, train, evaluate the test set. */
async function tfjsMnistEpoch(batch: number): Promise<EpochRun> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const ds = await loadDataset('mnist');
  const model = lenet5({ ...methodOptions('fp'), seed: 1 });
  const r = await fit(model, ds, { epochs: 1, batchSize: batch, optimizer: { name: 'adam', lr: 1e-3 }, evalSplit: 'test', seed: 1, progress: 'none' });
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  model.dispose();
  r.optimizer.dispose();
  return { seconds, cpuSeconds: (c.user + c.system) / 1e6, testAccuracy: Number(r.history[0].testAccuracy) };
}

/**
 * One training epoch of mary-lenet-mnist's Bayesian M = 3 LeNet-5 (qnnlab recipe, spike-and-slab prior and its KL
 * term, the recipe's batch size) and the deterministic test evaluation fit ends with; from random weights (the
 * float start changes nothing in the cost). The experiment's own epochs add a Monte-Carlo validation pass.
 */
async function tfjsBayesEpoch(): Promise<EpochRun> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const ds = await loadDataset('mnist');
  const cfg = { ...maryLenetMnist.defaults, ...recipeConfig('qnnlab'), recipe: 'qnnlab', initFromFloat: false } as MaryLenetMnistConfig;
  const model = buildMaryLenet(cfg, ds, 3, null);
  const spec = priorSpec('spikeslab', cfg);
  const r = await fit(model, ds, { epochs: 1, batchSize: cfg.batchSize, optimizer: { name: 'adam', lr: 1e-3 }, evalSplit: 'test', seed: 1, progress: 'none' }, {
    extraLoss: () => klTerm(model, spec, { numExamples: ds.train.count, klWeight: cfg.klLambda }),
  });
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  model.dispose();
  r.optimizer.dispose();
  return { seconds, cpuSeconds: (c.user + c.system) / 1e6, testAccuracy: Number(r.history[0].testAccuracy) };
}

/** The MNIST files PyTorch reads: raw pixel and label bytes, written once from the same loader. */
async function writeRawMnist(dir: string): Promise<void> {
  const ds = await loadDataset('mnist');
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, split] of [['train', ds.train], ['test', ds.test]] as const) {
    fs.writeFileSync(path.join(dir, `${name}-images.u8`), split.images);
    fs.writeFileSync(path.join(dir, `${name}-labels.u8`), split.labels);
  }
}

/** The first Python that imports torch: the system one first (python3 on PATH may be a pyenv without it). */
function findTorchPython(): string | null {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) return py;
  }
  return null;
}

/** The thread count enforced on PyTorch's side: its own setting and the BLAS / OpenMP pools' environment. */
export function torchThreadEnv(threads: number): Record<string, string> {
  const n = String(threads);
  return { OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n };
}

/** Which BLAS the mapped libraries are: Debian's reference netlib BLAS is several times slower than OpenBLAS. */
export function blasKind(libraries: string[]): 'openblas' | 'reference' | 'mkl' | 'unknown' {
  if (libraries.some((l) => /openblas/i.test(l))) return 'openblas';
  if (libraries.some((l) => /mkl/i.test(l))) return 'mkl';
  if (libraries.some((l) => /\/blas\/libblas\.so/.test(l))) return 'reference';
  return 'unknown';
}

function benchTorch(py: string, models: string[], batch: number, steps: number, threads: number, epochDir: string | null): Record<string, unknown> {
  const script = path.join(ROOT, 'scripts', 'bench_torch.py');
  const args = [script, '--models', models.join(','), '--batch', String(batch), '--steps', String(steps), '--threads', String(threads)];
  if (epochDir) args.push('--epoch', epochDir);
  const r = spawnSync(py, args, { encoding: 'utf8', timeout: 30 * 60_000, env: { ...process.env, ...torchThreadEnv(threads) } });
  if (r.status !== 0) throw new Error(`bench_torch.py failed (${r.status}): ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, unknown>;
}

function gitCommit(): string | null {
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

async function main(): Promise<void> {
  const cores = os.cpus().length;
  const program = new Command()
    .name('bench')
    .description('Training speed of LeNet-5, ResNet-20 and a LeNet-5 MNIST epoch on the selected TF.js backend against PyTorch CPU, same run')
    .option('--models <list>', `comma-separated: ${BENCH_MODELS.join(',')}`, BENCH_MODELS.join(','))
    .option('--steps <n>', 'timed steps per model per round (after one warm-up step)', '10')
    .option('--rounds <n>', 'rounds; the engines alternate within each', '3')
    .option('--batch <n>', 'batch size', '128')
    .option('--threads <n>', 'threads on each side (PyTorch is held to it; the wasm backend starts its XNNPACK pool with it)', String(cores))
    .option('--no-torch', 'skip the PyTorch comparison')
    .option('--no-epoch', 'skip the MNIST epoch')
    .option('--no-bayes-epoch', 'skip the epoch of the Bayesian M = 3 LeNet-5')
    .option('--out <file>', 'results file', path.join(ROOT, 'results', 'bench.json'))
    .parse(process.argv);
  const o = program.opts<{ models: string; steps: string; rounds: string; batch: string; threads: string; torch: boolean; epoch: boolean; bayesEpoch: boolean; out: string }>();
  const models = o.models.split(',').map((s) => s.trim()).filter(Boolean) as BenchModelName[];
  for (const m of models) if (!BENCH_MODELS.includes(m)) throw new Error(`--models: unknown model '${m}' (${BENCH_MODELS.join(', ')})`);
  const intOption = (name: string, v: string, lo: number, hi = Infinity) => {
    const n = Number(v);
    if (!(Number.isInteger(n) && n >= lo && n <= hi)) throw new Error(`--${name} must be an integer from ${lo}${hi < Infinity ? ` to ${hi}` : ''}, got '${v}'`);
    return n;
  };
  const steps = intOption('steps', o.steps, 1);
  const rounds = intOption('rounds', o.rounds, 1);
  const batch = intOption('batch', o.batch, 1);
  const threads = intOption('threads', o.threads, 1, cores);

  const engine = await initEngine({ verbose: true, threads });
  const wasmThreads = engine.wasmThreads;
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    console.warn(`[bench] WARNING: ${m}`);
  };
  if (wasmThreads != null && wasmThreads !== threads) {
    warn(`tfjs-wasm runs ${wasmThreads} thread(s) and PyTorch ${threads}: the ratios compare unequal thread counts (--threads ${wasmThreads} compares equal ones)`);
  }
  const py = o.torch ? findTorchPython() : null;
  if (o.torch && py == null) console.log('[bench] PyTorch not found (bash scripts/setup-bench.sh installs it): torch fields are null');
  const epochDir = o.epoch && py != null ? path.join(ROOT, 'build', 'bench-mnist') : null;
  if (epochDir) await writeRawMnist(epochDir);
  const load0 = os.loadavg();

  const tfjsBlocks: Record<string, Block[]> = Object.fromEntries(models.map((m) => [m, []]));
  const torchBlocks: Record<string, Block[]> = Object.fromEntries(models.map((m) => [m, []]));
  const tfjsEpochs: EpochRun[] = [];
  const torchEpochs: EpochRun[] = [];
  const bayesEpochs: EpochRun[] = [];
  let torchInfo: { torch: string; threads: number; blas: string[] } | null = null;
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ['tfjs', 'torch'] : ['torch', 'tfjs'];
    for (const side of order) {
      if (side === 'tfjs') {
        for (const m of models) tfjsBlocks[m].push(benchTfjs(m, batch, steps));
        if (o.epoch) tfjsEpochs.push(await tfjsMnistEpoch(batch));
        if (o.bayesEpoch) bayesEpochs.push(await tfjsBayesEpoch());
      } else if (py != null) {
        const tr = benchTorch(py, models, batch, steps, threads, epochDir);
        torchInfo = { torch: String(tr.torch), threads: Number(tr.threads), blas: tr.blas as string[] };
        for (const m of models) {
          const t = tr[m] as { times: number[]; cpuTimes: number[]; params: number };
          torchBlocks[m].push({ times: t.times, cpuTimes: t.cpuTimes, params: t.params });
        }
        if (epochDir) torchEpochs.push(tr.mnistEpoch as EpochRun);
      }
    }
    console.log(`[bench] round ${r + 1}/${rounds} done`);
  }

  const blas = torchInfo ? blasKind(torchInfo.blas) : null;
  if (torchInfo) {
    console.log(`[bench] PyTorch ${torchInfo.torch}, ${torchInfo.threads} thread(s), BLAS ${blas}: ${torchInfo.blas.join(', ') || 'none mapped'}`);
    if (blas === 'reference') warn("PyTorch ran on Debian's reference BLAS, the slowest there is: these ratios flatter qnnlab (bash scripts/setup-bench.sh installs OpenBLAS)");
    if (torchInfo.threads !== threads) warn(`PyTorch reports ${torchInfo.threads} threads, asked for ${threads}`);
  }
  const results: Record<string, ModelResult & { torchCpuOverWall: number | null }> = {};
  for (const m of models) {
    const all = (bs: Block[], k: 'times' | 'cpuTimes') => bs.flatMap((b) => b[k]);
    const t: Timing = { msPerStep: median(all(tfjsBlocks[m], 'times')), minMs: Math.min(...all(tfjsBlocks[m], 'times')), cpuMsPerStep: median(all(tfjsBlocks[m], 'cpuTimes')), steps: steps * rounds, params: tfjsBlocks[m][0].params };
    const tb = torchBlocks[m];
    const torchMs = tb.length ? median(all(tb, 'times')) : null;
    const torchCpu = tb.length ? median(all(tb, 'cpuTimes')) : null;
    results[m] = {
      ...t, torchMsPerStep: torchMs, torchMinMs: tb.length ? Math.min(...all(tb, 'times')) : null, torchCpuMsPerStep: torchCpu,
      ratio: torchMs ? t.msPerStep / torchMs : null, cpuRatio: torchCpu ? (t.cpuMsPerStep as number) / torchCpu : null,
      torchCpuOverWall: torchMs && torchCpu ? torchCpu / torchMs : null,
    };
    const rr = results[m];
    console.log(`[bench] ${m} (${t.params} params, batch ${batch}): tfjs-${engine.backend} median ${t.msPerStep.toFixed(1)} ms/step (min ${t.minMs.toFixed(1)}, CPU ${t.cpuMsPerStep?.toFixed(1)})` +
      (torchMs ? `; torch median ${torchMs.toFixed(1)} ms (min ${rr.torchMinMs?.toFixed(1)}, CPU ${torchCpu?.toFixed(1)}); tfjs/torch ${rr.ratio?.toFixed(2)}x, CPU time ${rr.cpuRatio?.toFixed(2)}x` : ''));
    if (tb.length && tb[0].params !== t.params) warn(`${m}: the PyTorch model has ${tb[0].params} parameters, tfjs ${t.params}`);
    // PyTorch's CPU time over wall time is the number of cores it kept busy (above 1 only with threads).
    if (rr.torchCpuOverWall != null && rr.torchCpuOverWall > threads + 0.25) warn(`${m}: PyTorch used ${rr.torchCpuOverWall.toFixed(2)} cores' worth of CPU time with --threads ${threads}`);
  }
  let mnistEpoch: Record<string, unknown> | null = null;
  if (tfjsEpochs.length) {
    const sec = (xs: EpochRun[], k: keyof EpochRun) => xs.map((x) => x[k]);
    const seconds = median(sec(tfjsEpochs, 'seconds'));
    const torchSeconds = torchEpochs.length ? median(sec(torchEpochs, 'seconds')) : null;
    mnistEpoch = {
      seconds, torchSeconds, ratio: torchSeconds ? seconds / torchSeconds : null,
      minSeconds: Math.min(...sec(tfjsEpochs, 'seconds')), torchMinSeconds: torchEpochs.length ? Math.min(...sec(torchEpochs, 'seconds')) : null,
      cpuSeconds: median(sec(tfjsEpochs, 'cpuSeconds')), torchCpuSeconds: torchEpochs.length ? median(sec(torchEpochs, 'cpuSeconds')) : null,
      testAccuracy: sec(tfjsEpochs, 'testAccuracy'), torchTestAccuracy: sec(torchEpochs, 'testAccuracy'),
      rounds: tfjsEpochs.length,
    };
    console.log(`[bench] classic LeNet-5 MNIST epoch (data, train, test): tfjs ${seconds.toFixed(1)} s` + (torchSeconds ? `, torch ${torchSeconds.toFixed(1)} s, ratio ${(seconds / torchSeconds).toFixed(2)}x` : ''));
  }

  let bayesEpoch: Record<string, unknown> | null = null;
  if (bayesEpochs.length) {
    bayesEpoch = {
      seconds: median(bayesEpochs.map((e) => e.seconds)), minSeconds: Math.min(...bayesEpochs.map((e) => e.seconds)),
      cpuSeconds: median(bayesEpochs.map((e) => e.cpuSeconds)), rounds: bayesEpochs.length,
    };
    console.log(`[bench] Bayesian M = 3 LeNet-5 MNIST epoch (mary-lenet-mnist, qnnlab recipe): ${(bayesEpoch.seconds as number).toFixed(1)} s`);
  }

  const cpus = os.cpus();
  const report = {
    backend: engine.backend,
    provider: engine.provider,
    tfjs: tf.version_core,
    batch,
    threads,
    rounds,
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? null,
      node: process.version,
      platform: `${os.platform()} ${os.arch()}`,
      loadavg: load0,
      loadavgAfter: os.loadavg(),
      wasmThreads,
      torch: torchInfo?.torch ?? null,
      torchThreads: torchInfo?.threads ?? null,
      torchThreadEnv: py != null ? torchThreadEnv(threads) : null,
      torchBlas: torchInfo?.blas ?? null,
      torchBlasKind: blas,
    },
    warnings,
    commit: gitCommit(),
    date: new Date().toISOString(),
    ...results,
    mnistEpoch,
    bayesEpoch,
  };
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  fs.writeFileSync(o.out, JSON.stringify(report, null, 2) + '\n');
  console.log(`[bench] wrote ${path.relative(process.cwd(), o.out)}`);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
