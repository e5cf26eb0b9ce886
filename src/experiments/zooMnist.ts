/**
 * The quantizer zoo on LeNet-5 / MNIST: nnabla's nine methods (binary connect, binary net, binary weight,
 * fixed-point connect/net, pow2 connect/net, INQ, min-max) plus BWN, TWN, SQ-BWN, SQ-TWN and full precision,
 * each trained from the same seed; one summary row per method with test accuracy, model memory at the real
 * bit-widths and the compression ratio.
 *
 * nnabla trains ResNet-23 on CIFAR-10 for 234k iterations with INQ fixing weights at iterations 5000..9000;
 * here the INQ schedule is expressed in epochs (`inqEpochs`) so it scales with the data set. SQ runs its
 * ratio stages 50 -> 75 -> 87.5 -> 100% as successive warm-started runs, as the SQ code's train.sh does.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadDataset, numBatches, type ImageDataset } from '../data';
import { buildModel, methodOptions, methodPreset, METHOD_NAMES } from '../models';
import { quantizedLayers } from '../layers';
import { summary } from '../summary';
import { FlipRatio, sqRatioSchedule } from '../quantizers';
import { fit, type FitConfig, type HistoryRow } from '../train';
import { curves, methodBars, savePlot } from '../plots';
import type { Experiment, ExperimentContext, VariantSummary } from './types';

export interface ZooMnistConfig {
  [key: string]: unknown;
  dataset: string;
  methods: string[];
  epochs: number;
  /** Epochs per SQ ratio stage (four stages). */
  sqStageEpochs: number;
  batchSize: number;
  lr: number;
  /** Learning rate x0.1 at these epochs (scaled into each SQ stage). */
  milestones: number[];
  /** INQ fixes half of the free weights at the end of each of these epochs (all at the last). */
  inqEpochs: number[];
  seed: number;
  limitTrain: number;
  limitTest: number;
}

/** Per-epoch flip ratio of the quantized kernels (Larq's metric, at epoch granularity). */
function flipTracker(model: tf.LayersModel) {
  const layers = quantizedLayers(model);
  const trackers = layers.map(() => new FlipRatio());
  return {
    measure(): number {
      if (layers.length === 0) return NaN;
      const r = layers.map((l, i) => {
        const q = l.quantizedKernel();
        const v = trackers[i].update(q);
        q.dispose();
        return v;
      });
      return r.reduce((a, b) => a + b, 0) / r.length;
    },
    dispose() {
      trackers.forEach((t) => t.dispose());
    },
  };
}

async function trainMethod(method: string, cfg: ZooMnistConfig, ds: ImageDataset, ctx: ExperimentContext) {
  const preset = methodPreset(method);
  const isSq = method.startsWith('sq-');
  const stepsPerEpoch = numBatches(ds, 'train', { batchSize: cfg.batchSize });
  const opts = methodOptions(method) as ReturnType<typeof methodOptions>;
  if (method === 'inq' && opts.kernelQuantizer) {
    opts.kernelQuantizer.options = { ...opts.kernelQuantizer.options, schedule: cfg.inqEpochs.map((e) => e * stepsPerEpoch) };
  }
  const model = buildModel('lenet5', { ...opts, seed: cfg.seed, inputShape: [ds.height, ds.width, ds.channels], numClasses: ds.numClasses });
  const flips = flipTracker(model);
  const stages = isSq ? sqRatioSchedule.slice() : [null];
  const stageEpochs = isSq ? cfg.sqStageEpochs : cfg.epochs;
  const milestones = cfg.milestones.map((m) => Math.round((m * stageEpochs) / cfg.epochs));
  const history: HistoryRow[] = [];
  for (let s = 0; s < stages.length; s++) {
    const ratio = stages[s];
    if (ratio != null) for (const l of quantizedLayers(model)) l.kernelQuantizer?.setRatio?.(ratio);
    const fitCfg: FitConfig = {
      epochs: stageEpochs, batchSize: cfg.batchSize, seed: cfg.seed + s, variant: method,
      optimizer: { name: 'adam', lr: cfg.lr }, schedule: { name: 'multistep', milestones, gamma: 0.1 },
      checkpointDir: path.join(ctx.outDir, 'checkpoints', ratio == null ? method : `${method}-stage${s + 1}`),
      resume: ctx.resume, progress: ctx.progress,
    };
    const offset = s * stageEpochs;
    const res = await fit(model, ds, fitCfg, {
      epochMetrics: () => ({ flipRatio: flips.measure() }),
      onEpochEnd: (row) => {
        const r = { ...row, epoch: offset + (row.epoch as number), ...(ratio != null ? { stage: s + 1, sqRatio: ratio } : {}) };
        ctx.live?.update([...history, r]);
        ctx.onEpoch?.(r, [...history, r]);
      },
    });
    res.optimizer.dispose();
    history.push(...res.history.map((row) => ({
      ...row, epoch: offset + (row.epoch as number), ...(ratio != null ? { stage: s + 1, sqRatio: ratio } : {}),
    })));
  }
  const sum = summary(model);
  flips.dispose();
  model.dispose();
  const last = history[history.length - 1];
  const variant: VariantSummary = {
    name: method,
    testAccuracy: last.testAccuracy as number,
    memoryKiB: sum.modelSizeKiB,
    float32KiB: sum.float32SizeKiB,
    compressionRatio: sum.compressionRatio,
    paramsByBits: sum.paramsByBits,
    macsByPrecision: sum.macsByPrecision,
    epochs: history.length,
    description: preset.description,
    source: preset.source,
  };
  return { history, variant };
}

export const zooMnist: Experiment<ZooMnistConfig> = {
  name: 'zoo-mnist',
  description: "All quantization methods (nnabla's nine + BWN, TWN, SQ-BWN, SQ-TWN, float) on LeNet-5 / MNIST.",
  defaults: {
    dataset: 'mnist', methods: METHOD_NAMES.slice(), epochs: 8, sqStageEpochs: 2, batchSize: 128, lr: 1e-3,
    milestones: [5, 7], inqEpochs: [1, 2, 3, 4, 5], seed: 1, limitTrain: 0, limitTest: 0,
  },
  smoke: { epochs: 1, sqStageEpochs: 1, limitTrain: 1024, limitTest: 512, milestones: [], inqEpochs: [1] },
  async run(cfg, ctx) {
    for (const m of cfg.methods) methodPreset(m); // fail fast on a typo, before any training
    const ds = await loadDataset(cfg.dataset, { limitTrain: cfg.limitTrain || undefined, limitTest: cfg.limitTest || undefined });
    const history: HistoryRow[] = [];
    const variants: VariantSummary[] = [];
    for (const m of cfg.methods) {
      const r = await trainMethod(m, cfg, ds, ctx);
      history.push(...r.history);
      variants.push(r.variant);
    }
    const table = variants.map((v) => ({
      method: v.name, testAccuracy: v.testAccuracy, memoryKiB: Number((v.memoryKiB as number).toFixed(2)),
      compressionRatio: Number((v.compressionRatio as number).toFixed(2)),
    }));
    await savePlot(curves({ rows: history, x: 'epoch', y: ['testAccuracy'], color: 'variant', title: 'LeNet-5 / MNIST: test accuracy per method' }), path.join(ctx.outDir, 'accuracy'));
    await savePlot(methodBars({ rows: table, x: 'method', y: 'testAccuracy', memory: 'memoryKiB', title: 'LeNet-5 / MNIST: final test accuracy and memory' }), path.join(ctx.outDir, 'methods'));
    const { writeCsv } = await import('../plots/table');
    await writeCsv(table, path.join(ctx.outDir, 'table.csv'));
    return { history, variants, figures: ['accuracy', 'methods'], extra: { table } };
  },
};
