/**
 * npm run soak -- [--steps 10000] [--out results/soak] [--models mary-m3,zoo-twn] [--stepsPerEpoch 50]
 *
 * Memory soak: trains the Bayesian M = 3 LeNet-5 (qnnlab recipe, spike-and-slab) and a zoo model (TWN LeNet-5)
 * for --steps optimizer steps each through the experiments' own code (KL, freezing, evaluation, checkpoints
 * included), sampling tf.memory() and the process RSS after every epoch (an epoch is --stepsPerEpoch steps of a
 * small MNIST training subset). A leak of one tensor per step or per epoch shows as a growing tensor count.
 * Writes memory.csv, summary.json and the figure memory.{png,svg,vl.json} into --out; exits 1 when the tensor
 * count or tensor bytes grow after the first epoch of a model, or RSS grows by more than --rssBoundMiB over the
 * second half of its run.
 */
import { Command } from 'commander';
import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { runExperiment } from '../experiments/run';
import { curves, savePlot } from '../plots';
import { writeCsv } from '../plots/table';

const BATCH = 128;
const VALIDATION = 1000;

/** The runs: an experiment and the overrides that make it `steps` optimizer steps long. */
const MODELS: Record<string, { experiment: string; describe: string; overrides: (epochs: number, train: number) => Record<string, unknown> }> = {
  'mary-m3': {
    experiment: 'mary-lenet-mnist',
    describe: 'Bayesian M = 3 LeNet-5, qnnlab recipe, spike-and-slab prior (after a 1-epoch float net it starts from)',
    overrides: (epochs, train) => ({
      recipe: 'qnnlab', Ms: [3], priors: ['spikeslab'], fpEpochs: 1, fpMilestones: [], epochs, milestones: [Math.floor(epochs * 0.6), Math.floor(epochs * 0.85)],
      limitTrain: train + VALIDATION, validation: VALIDATION, limitTest: 500, mcSamples: 2,
    }),
  },
  'zoo-twn': {
    experiment: 'zoo-mnist',
    describe: 'TWN LeNet-5 (zoo-mnist)',
    overrides: (epochs, train) => ({
      methods: ['twn'], longRunMethods: [], epochs, milestones: [], limitTrain: train + VALIDATION, validation: VALIDATION, limitTest: 500,
    }),
  },
};

interface Sample { model: string; variant: string; epoch: number; step: number; numTensors: number; numBytesMiB: number; rssMiB: number; heapUsedMiB: number; seconds: number }

async function soak(name: string, steps: number, stepsPerEpoch: number, outDir: string): Promise<Sample[]> {
  const spec = MODELS[name];
  const epochs = Math.ceil(steps / stepsPerEpoch);
  const samples: Sample[] = [];
  const t0 = Date.now();
  const mib = (b: number) => b / 2 ** 20;
  await runExperiment(spec.experiment, {
    overrides: Object.fromEntries(Object.entries(spec.overrides(epochs, stepsPerEpoch * BATCH)).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)])),
    outDir: path.join(outDir, 'runs', name), fresh: true, progress: 'none', backend: 'wasm',
    onEpoch: (row) => {
      const m = tf.memory();
      const proc = process.memoryUsage();
      const variant = String(row.variant ?? name);
      const soaked = name === 'mary-m3' ? variant.startsWith('M3') : true; // mary-m3's float net is its warm-up
      if (!soaked) return;
      const epoch = Number(row.epoch);
      samples.push({
        model: name, variant, epoch, step: epoch * stepsPerEpoch, numTensors: m.numTensors, numBytesMiB: mib(m.numBytes),
        rssMiB: mib(proc.rss), heapUsedMiB: mib(proc.heapUsed), seconds: (Date.now() - t0) / 1000,
      });
      // Also on disk as it goes, so a run cut short (a session's end) keeps what it measured.
      const partial = path.join(outDir, 'memory.partial.csv');
      if (!fs.existsSync(partial)) fs.writeFileSync(partial, Object.keys(samples[0]).join(',') + '\n');
      fs.appendFileSync(partial, Object.values(samples[samples.length - 1]).join(',') + '\n');
      if (epoch % 20 === 0) console.log(`[soak] ${name} step ${epoch * stepsPerEpoch}: ${m.numTensors} tensors, ${mib(m.numBytes).toFixed(1)} MiB in tensors, RSS ${samples[samples.length - 1].rssMiB.toFixed(0)} MiB`);
    },
  });
  return samples;
}

/** The verdict on one model's samples: tensors flat after the first epoch, RSS growth over the second half. */
function judge(samples: Sample[], rssBoundMiB: number): { tensorsMin: number; tensorsMax: number; bytesGrowthMiB: number; rssSecondHalfGrowthMiB: number; flat: boolean; bounded: boolean } {
  const after = samples.slice(1);
  const tensors = after.map((s) => s.numTensors);
  const half = samples.slice(Math.floor(samples.length / 2));
  const bytesGrowthMiB = after.length ? Math.max(...after.map((s) => s.numBytesMiB)) - after[0].numBytesMiB : 0;
  const rssSecondHalfGrowthMiB = half.length ? Math.max(...half.map((s) => s.rssMiB)) - half[0].rssMiB : 0;
  const tensorsMin = Math.min(...tensors);
  const tensorsMax = Math.max(...tensors);
  return { tensorsMin, tensorsMax, bytesGrowthMiB, rssSecondHalfGrowthMiB, flat: tensorsMax === tensorsMin && bytesGrowthMiB === 0, bounded: rssSecondHalfGrowthMiB <= rssBoundMiB };
}

async function main(): Promise<void> {
  const o = new Command('soak')
    .option('--steps <n>', 'optimizer steps per model', '10000')
    .option('--stepsPerEpoch <n>', 'steps per epoch (training subset = this x 128 images)', '50')
    .option('--models <list>', `comma-separated: ${Object.keys(MODELS).join(',')}`, Object.keys(MODELS).join(','))
    .option('--rssBoundMiB <n>', 'allowed RSS growth over the second half of a run', '64')
    .option('--out <dir>', 'output folder', path.join('results', 'soak'))
    .parse(process.argv)
    .opts<{ steps: string; stepsPerEpoch: string; models: string; rssBoundMiB: string; out: string }>();
  const steps = Number(o.steps);
  const stepsPerEpoch = Number(o.stepsPerEpoch);
  const rssBound = Number(o.rssBoundMiB);
  const models = o.models.split(',').map((s) => s.trim()).filter(Boolean);
  for (const m of models) if (!MODELS[m]) throw new Error(`--models: unknown model '${m}' (known: ${Object.keys(MODELS).join(', ')})`);
  if (!(Number.isInteger(steps) && steps >= 1)) throw new Error(`--steps must be an integer >= 1, got ${o.steps}`);
  if (!(Number.isInteger(stepsPerEpoch) && stepsPerEpoch >= 1 && stepsPerEpoch <= steps)) throw new Error(`--stepsPerEpoch must be an integer from 1 to --steps, got ${o.stepsPerEpoch}`);
  if (!(rssBound >= 0)) throw new Error(`--rssBoundMiB must be a number >= 0, got ${o.rssBoundMiB}`);
  const out = path.resolve(o.out);
  fs.mkdirSync(out, { recursive: true });
  fs.rmSync(path.join(out, 'memory.partial.csv'), { force: true }); // a new run starts a new record

  const all: Sample[] = [];
  const verdicts: Record<string, ReturnType<typeof judge> & { describe: string; steps: number; seconds: number }> = {};
  for (const m of models) {
    const samples = await soak(m, steps, stepsPerEpoch, out);
    all.push(...samples);
    verdicts[m] = { describe: MODELS[m].describe, steps: samples[samples.length - 1].step, seconds: samples[samples.length - 1].seconds, ...judge(samples, rssBound) };
    console.log(`[soak] ${m}: ${JSON.stringify(verdicts[m])}`);
  }
  fs.rmSync(path.join(out, 'memory.partial.csv'), { force: true });
  fs.rmSync(path.join(out, 'runs'), { recursive: true, force: true }); // the soaked runs' own outputs are not the result
  await writeCsv(all as unknown as Record<string, number | string>[], path.join(out, 'memory.csv'));
  await savePlot(curves({ rows: all as unknown as Record<string, number | string>[], x: 'step', y: ['numTensors', 'rssMiB'], color: 'model', title: 'Memory over training steps: live tensors and process RSS' }), path.join(out, 'memory'));
  const ok = Object.values(verdicts).every((v) => v.flat && v.bounded);
  fs.writeFileSync(path.join(out, 'summary.json'), JSON.stringify({
    command: ['npm run soak --', ...process.argv.slice(2)].join(' '), commit: execSync('git rev-parse HEAD').toString().trim(), date: new Date().toISOString(), node: process.version, tfjs: tf.version_core,
    backend: tf.getBackend(), stepsPerEpoch, batchSize: BATCH, rssBoundMiB: rssBound,
    criteria: 'flat: the live tensor count and tensor bytes after every epoch equal those after the first; bounded: RSS grows by at most rssBoundMiB over the second half of the run',
    models: verdicts, ok,
  }, null, 2) + '\n');
  console.log(`[soak] ${ok ? 'flat and bounded' : 'MEMORY GROWS'}: ${path.relative(process.cwd(), out)}/summary.json`);
  if (!ok) process.exit(1);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
