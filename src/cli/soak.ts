/**
 * npm run soak -- [--steps 10000] [--out results/soak] [--models mary-m3,zoo-twn] [--stepsPerEpoch 50]
 *
 * Memory soak: trains the Bayesian M = 3 LeNet-5 (qnnlab recipe, spike-and-slab) and a zoo model (TWN LeNet-5)
 * for --steps optimizer steps each through the experiments' own code (KL, freezing, evaluation, checkpoints
 * included), sampling tf.memory() and the process RSS after every epoch (an epoch is --stepsPerEpoch steps of a
 * small MNIST training subset). A leak of one tensor per step or per epoch shows as a growing tensor count.
 * Writes memory.csv, summary.json and the figure memory.{png,svg,vl.json} into --out; exits 1 when the tensor
 * count or tensor bytes grow after the first epoch of a model, or RSS rises by more than --rssBoundMiB over the
 * second half of its run (end minus start, and the least-squares trend; see judge()).
 */
import { Command } from 'commander';
import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { judge, soak, SOAK_BATCH, SOAK_MODELS, type Sample } from '../experiments/soak';
import { curves, savePlot } from '../plots';
import { writeCsv } from '../plots/table';

async function main(): Promise<void> {
  const o = new Command('soak')
    .option('--steps <n>', 'optimizer steps per model', '10000')
    .option('--stepsPerEpoch <n>', 'steps per epoch (training subset = this x 128 images)', '50')
    .option('--models <list>', `comma-separated: ${Object.keys(SOAK_MODELS).join(',')}`, Object.keys(SOAK_MODELS).join(','))
    .option('--rssBoundMiB <n>', 'allowed RSS rise over the second half of a run (end minus start, and trend)', '64')
    .option('--out <dir>', 'output folder', path.join('results', 'soak'))
    .parse(process.argv)
    .opts<{ steps: string; stepsPerEpoch: string; models: string; rssBoundMiB: string; out: string }>();
  const steps = Number(o.steps);
  const stepsPerEpoch = Number(o.stepsPerEpoch);
  const rssBound = Number(o.rssBoundMiB);
  const models = o.models.split(',').map((s) => s.trim()).filter(Boolean);
  for (const m of models) if (!SOAK_MODELS[m]) throw new Error(`--models: unknown model '${m}' (known: ${Object.keys(SOAK_MODELS).join(', ')})`);
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
    verdicts[m] = { describe: SOAK_MODELS[m].describe, steps: samples[samples.length - 1].step, seconds: samples[samples.length - 1].seconds, ...judge(samples, rssBound) };
    console.log(`[soak] ${m}: ${JSON.stringify(verdicts[m])}`);
  }
  fs.rmSync(path.join(out, 'memory.partial.csv'), { force: true });
  fs.rmSync(path.join(out, 'runs'), { recursive: true, force: true }); // the soaked runs' own outputs are not the result
  await writeCsv(all as unknown as Record<string, number | string>[], path.join(out, 'memory.csv'));
  await savePlot(curves({ rows: all as unknown as Record<string, number | string>[], x: 'step', y: ['numTensors', 'rssMiB'], color: 'model', title: 'Memory over training steps: live tensors and process RSS' }), path.join(out, 'memory'));
  const ok = Object.values(verdicts).every((v) => v.flat && v.bounded);
  fs.writeFileSync(path.join(out, 'summary.json'), JSON.stringify({
    command: ['npm run soak --', ...process.argv.slice(2)].join(' '), commit: execSync('git rev-parse HEAD').toString().trim(), date: new Date().toISOString(), node: process.version, tfjs: tf.version_core,
    backend: tf.getBackend(), stepsPerEpoch, batchSize: SOAK_BATCH, rssBoundMiB: rssBound,
    criteria: 'flat: the live tensor count and tensor bytes after every epoch equal those after the first; bounded: over the second half of the run, RSS at the end minus RSS at its start, and the rise of the least-squares line through its samples, are both at most rssBoundMiB (a transient peak that falls back is reported as rssSecondHalfPeakMiB, not judged)',
    models: verdicts, ok,
  }, null, 2) + '\n');
  console.log(`[soak] ${ok ? 'flat and bounded' : 'MEMORY GROWS'}: ${path.relative(process.cwd(), out)}/summary.json`);
  if (!ok) process.exit(1);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
