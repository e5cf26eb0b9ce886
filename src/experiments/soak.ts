/**
 * The memory soak behind `npm run soak` (src/cli/soak.ts): trains a model for many optimizer steps through the
 * experiments' own code and samples tf.memory() and the process RSS after every epoch; judge() gives the verdict.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lineRise } from '../util/stats';
import { runExperiment } from './run';

export const SOAK_BATCH = 128;
const VALIDATION = 1000;

/** The runs: an experiment and the overrides that make it `steps` optimizer steps long. */
export const SOAK_MODELS: Record<string, { experiment: string; describe: string; overrides: (epochs: number, train: number) => Record<string, unknown> }> = {
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

export interface Sample { model: string; variant: string; epoch: number; step: number; numTensors: number; numBytesMiB: number; rssMiB: number; heapUsedMiB: number; seconds: number }

export async function soak(name: string, steps: number, stepsPerEpoch: number, outDir: string): Promise<Sample[]> {
  const spec = SOAK_MODELS[name];
  const epochs = Math.ceil(steps / stepsPerEpoch);
  const samples: Sample[] = [];
  const t0 = Date.now();
  const mib = (b: number) => b / 2 ** 20;
  await runExperiment(spec.experiment, {
    overrides: Object.fromEntries(Object.entries(spec.overrides(epochs, stepsPerEpoch * SOAK_BATCH)).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)])),
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

/**
 * The verdict on one model's samples: tensors flat after the first epoch; RSS bounded over the second half of the run.
 * RSS is judged by its trend, not its peak: an evaluation pass or a garbage collection that comes late lifts RSS for a
 * while and lets it fall back, while a leak keeps it rising. So the growth is the larger of end minus start of the
 * second half and the least-squares line's rise across it; the peak is reported beside it.
 */
export function judge(samples: Pick<Sample, 'numTensors' | 'numBytesMiB' | 'rssMiB' | 'step'>[], rssBoundMiB: number) {
  const after = samples.slice(1);
  const tensors = after.map((s) => s.numTensors);
  const half = samples.slice(Math.floor(samples.length / 2));
  const bytesGrowthMiB = after.length ? Math.max(...after.map((s) => s.numBytesMiB)) - after[0].numBytesMiB : 0;
  const rssSecondHalfEndMinusStartMiB = half.length ? half[half.length - 1].rssMiB - half[0].rssMiB : 0;
  const rssSecondHalfTrendMiB = half.length > 1 ? lineRise(half.map((s) => s.step), half.map((s) => s.rssMiB)) : 0;
  const rssSecondHalfPeakMiB = half.length ? Math.max(...half.map((s) => s.rssMiB)) - half[0].rssMiB : 0;
  const rssSecondHalfGrowthMiB = Math.max(rssSecondHalfEndMinusStartMiB, rssSecondHalfTrendMiB);
  const tensorsMin = Math.min(...tensors);
  const tensorsMax = Math.max(...tensors);
  return {
    tensorsMin, tensorsMax, bytesGrowthMiB, rssSecondHalfEndMinusStartMiB, rssSecondHalfTrendMiB, rssSecondHalfPeakMiB, rssSecondHalfGrowthMiB,
    flat: tensorsMax === tensorsMin && bytesGrowthMiB === 0, bounded: rssSecondHalfGrowthMiB <= rssBoundMiB,
  };
}


