/**
 * Full-precision LeNet-5 (6-16-120-84-10, batch norm) on real MNIST: the baseline every quantized LeNet
 * is compared with, and the smallest end-to-end check of the engine, data and training loop.
 */
import * as path from 'node:path';
import { loadDataset } from '../data';
import { buildModel } from '../models';
import { fit, type FitConfig } from '../train';
import { curves, savePlot } from '../plots';
import type { Experiment } from './types';

export interface LenetMnistConfig {
  [key: string]: unknown;
  dataset: string;
  epochs: number;
  batchSize: number;
  lr: number;
  /** Epochs at which the learning rate is multiplied by 0.1. */
  milestones: number[];
  seed: number;
  /** Use only this many training / test examples (0 = all). */
  limitTrain: number;
  limitTest: number;
}

export const lenetMnist: Experiment<LenetMnistConfig> = {
  name: 'lenet-mnist',
  description: 'Full-precision LeNet-5 (6-16-120-84-10 + batch norm) on MNIST, Adam; the float baseline.',
  defaults: { dataset: 'mnist', epochs: 12, batchSize: 128, lr: 1e-3, milestones: [8, 11], seed: 1, limitTrain: 0, limitTest: 0 },
  smoke: { epochs: 2, limitTrain: 2000, limitTest: 1000 },
  async run(cfg, ctx) {
    const ds = await loadDataset(cfg.dataset, { limitTrain: cfg.limitTrain || undefined, limitTest: cfg.limitTest || undefined });
    const model = buildModel('lenet5', { seed: cfg.seed, inputShape: [ds.height, ds.width, ds.channels], numClasses: ds.numClasses });
    const fitCfg: FitConfig = {
      epochs: cfg.epochs, batchSize: cfg.batchSize, seed: cfg.seed, variant: 'fp',
      optimizer: { name: 'adam', lr: cfg.lr },
      schedule: { name: 'multistep', milestones: cfg.milestones, gamma: 0.1 },
      checkpointDir: path.join(ctx.outDir, 'checkpoints', 'fp'), resume: ctx.resume, progress: ctx.progress,
    };
    const { history } = await fit(model, ds, fitCfg, {
      onEpochEnd: (row, all) => {
        ctx.live?.update(all);
        ctx.onEpoch?.(row, all);
      },
    });
    const last = history[history.length - 1];
    const fig = 'accuracy';
    await savePlot(curves({ rows: history, x: 'epoch', y: ['testAccuracy', 'trainLoss'], color: 'variant', title: 'LeNet-5 on MNIST (float32)' }), path.join(ctx.outDir, fig));
    model.dispose();
    return {
      history,
      variants: [{ name: 'fp', testAccuracy: last.testAccuracy as number, epochs: history.length }],
      figures: [fig],
    };
  },
};
