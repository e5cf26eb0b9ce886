/**
 * The CIFAR-10 quantization experiments, each faithful to the setup of its source:
 *  - zoo-resnet23-cifar10: nnabla-examples compression/cifar10/quantization (ResNet-23, Adam 1e-3, batch 64,
 *    234375 iterations = 300 epochs, INQ fixing at iterations 5000..9000).
 *  - sq-vgg9-cifar10 / sq-resnet56-cifar10: the Stochastic-Quantization code's prototxts and solvers
 *    (SGD momentum 0.9, lr 0.1, weight decay 1e-4; VGG-9: batch 100, 100k iterations per stage, lr x0.1 every
 *    15k; ResNet-56: batch 128, 64k iterations per stage, lr x0.1 at 32k and 48k), FWN/BWN/TWN/SQ-BWN/SQ-TWN.
 * Iteration counts are converted to epochs of the 50,000-image training set.
 * Deviations: nnabla augments with random rotation (±0.25 rad) and flips; we use flips and a 4-pixel pad-crop
 * (rotation is not implemented). Caffe subtracts the mean image; we subtract the per-channel mean and divide by
 * the std. Both are documented in the README.
 */
import * as path from 'node:path';
import { methodPreset, type ModelName } from '../models';
import { curves, methodBars, savePlot, sqStages } from '../plots';
import { writeCsv } from '../plots/table';
import { sqRatioSchedule } from '../quantizers';
import type { OptimizerConfig, ScheduleConfig, FitConfig } from '../train';
import { loadCifarForExperiment, type CifarDataConfig } from './cifarData';
import { trainMethods } from './zooCommon';
import type { Experiment } from './types';

export interface CifarZooConfig extends CifarDataConfig {
  [key: string]: unknown;
  methods: string[];
  model: string;
  /** Epochs of a single-stage method and of each SQ ratio stage. */
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  schedule: ScheduleConfig;
  inqSteps: number[];
  augment: { padCrop: number; flip: boolean };
  normalize: string;
  seed: number;
}

const SQ_METHODS = ['fp', 'bwn', 'twn', 'sq-bwn', 'sq-twn'];
const NNABLA_METHODS = ['fp', 'binary-connect', 'binary-net', 'binary-weight', 'fixed-point-connect', 'fixed-point-net', 'pow2-connect', 'pow2-net', 'inq', 'min-max'];

const SMOKE: Partial<CifarZooConfig> = { fixture: true, epochs: 1, limitTrain: 128, limitTest: 64, inqSteps: [1, 2] };

function makeCifarZoo(name: string, description: string, defaults: CifarZooConfig, smoke: Partial<CifarZooConfig>, title: string): Experiment<CifarZooConfig> {
  return {
    name, description, defaults, smoke,
    async run(cfg, ctx) {
      for (const m of cfg.methods) methodPreset(m);
      if (!['unit', 'meanstd', 'none'].includes(cfg.normalize)) throw new Error(`--normalize must be unit, meanstd or none, got '${cfg.normalize}'`);
      const ds = await loadCifarForExperiment(cfg, ctx.outDir);
      const r = await trainMethods(cfg.methods, {
        model: cfg.model as ModelName, epochs: cfg.epochs, batchSize: cfg.batchSize, optimizer: cfg.optimizer,
        schedule: cfg.schedule, inqSteps: cfg.inqSteps, augment: cfg.augment,
        normalize: cfg.normalize as FitConfig['normalize'], seed: cfg.seed,
      }, ds, ctx);
      const figures = ['accuracy', 'methods'];
      await savePlot(curves({ rows: r.history, x: 'epoch', y: ['testAccuracy', 'trainLoss'], color: 'variant', title }), path.join(ctx.outDir, 'accuracy'));
      await savePlot(methodBars({ rows: r.table, x: 'method', y: 'testAccuracy', memory: 'memoryKiB', title: `${title}: final test accuracy and memory` }), path.join(ctx.outDir, 'methods'));
      const stageRows = r.variants.flatMap((v) => {
        const acc = v.stageAccuracies as number[] | undefined;
        return acc ? acc.map((a, i) => ({ method: v.name, ratio: sqRatioSchedule[i], testAccuracy: a })) : [];
      });
      if (stageRows.length > 0) {
        const baselines = r.variants.filter((v) => !v.stageAccuracies).map((v) => ({ name: v.name, value: v.testAccuracy }));
        await savePlot(sqStages({ rows: stageRows, x: 'ratio', y: 'testAccuracy', color: 'method', baselines, title: `${title}: accuracy after each SQ ratio stage` }), path.join(ctx.outDir, 'sq-stages'));
        figures.push('sq-stages');
      }
      await writeCsv(r.table, path.join(ctx.outDir, 'table.csv'));
      return { history: r.history, variants: r.variants, figures, extra: { table: r.table, stages: stageRows } };
    },
  };
}

const data = { dataset: 'cifar10', dataDir: '', fixture: false, limitTrain: 0, limitTest: 0 };

export const zooResnet23Cifar10 = makeCifarZoo(
  'zoo-resnet23-cifar10',
  "nnabla's nine quantization methods + float on ResNet-23 / CIFAR-10 (nnabla-examples setup; needs `npm run data -- cifar10`).",
  {
    ...data, methods: NNABLA_METHODS, model: 'resnet23', epochs: 300, batchSize: 64,
    optimizer: { name: 'adam', lr: 1e-3 }, schedule: { name: 'constant' }, inqSteps: [5000, 6000, 7000, 8000, 9000],
    augment: { padCrop: 4, flip: true }, normalize: 'unit', seed: 1,
  },
  SMOKE,
  'ResNet-23 / CIFAR-10',
);

const sqSgd: OptimizerConfig = { name: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 1e-4 };

export const sqVgg9Cifar10 = makeCifarZoo(
  'sq-vgg9-cifar10',
  'FWN/BWN/TWN vs SQ-BWN/SQ-TWN on VGG-9 / CIFAR-10 (the SQ paper setup; needs `npm run data -- cifar10`).',
  {
    ...data, methods: SQ_METHODS, model: 'vgg9', epochs: 200, batchSize: 100, optimizer: sqSgd,
    schedule: { name: 'step', stepSize: 30, gamma: 0.1 }, inqSteps: [], augment: { padCrop: 0, flip: true },
    normalize: 'meanstd', seed: 1,
  },
  { ...SMOKE, optimizer: { ...sqSgd, lr: 0.01 } },
  'VGG-9 / CIFAR-10',
);

export const sqResnet56Cifar10 = makeCifarZoo(
  'sq-resnet56-cifar10',
  'FWN/BWN/TWN vs SQ-BWN/SQ-TWN on ResNet-56 / CIFAR-10 (the SQ paper setup; needs `npm run data -- cifar10`).',
  {
    ...data, methods: SQ_METHODS, model: 'resnet56', epochs: 164, batchSize: 128, optimizer: sqSgd,
    schedule: { name: 'multistep', milestones: [82, 123], gamma: 0.1 }, inqSteps: [], augment: { padCrop: 0, flip: true },
    normalize: 'meanstd', seed: 1,
  },
  { ...SMOKE, limitTrain: 64, limitTest: 32, optimizer: { ...sqSgd, lr: 0.01 } },
  'ResNet-56 / CIFAR-10',
);
