/**
 * Full-precision LeNet-5 (6-16-120-84-10, batch norm) on real MNIST: the baseline every quantized LeNet
 * is compared with, and the smallest end-to-end check of the engine, data and training loop.
 */
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { batches, DEFAULT_VALIDATION_COUNT, holdOutValidation, loadDataset, type ImageDataset } from '../data';
import { buildModel, type LeNet5Options } from '../models';
import { evaluate, fit, type FitConfig, type HistoryRow } from '../train';
import { curves, savePlot } from '../plots';
import type { Experiment, ExperimentContext, VariantSummary } from './types';

export interface LenetMnistConfig {
  [key: string]: unknown;
  dataset: string;
  epochs: number;
  batchSize: number;
  lr: number;
  /** Epochs at which the learning rate is multiplied by 0.1. */
  milestones: number[];
  seed: number;
  /** Training examples held out for validation: the last ones of the training file (0 = none). */
  validation: number;
  /** Use only this many training / test examples (0 = all). */
  limitTrain: number;
  limitTest: number;
}

export interface FloatLenetOptions { epochs: number; batchSize: number; lr: number; milestones: number[]; seed: number }

/**
 * The training configuration of a float LeNet-5 run named `name` (its checkpoint folder is
 * `<outDir>/checkpoints/<name>`). Exported so that another experiment can recognise a finished run's checkpoint by
 * its fingerprint (`fingerprintOf`).
 */
export function floatFitConfig(o: FloatLenetOptions, outDir: string, ctx: Pick<ExperimentContext, 'resume' | 'progress'>, name = 'fp'): FitConfig {
  return {
    epochs: o.epochs, batchSize: o.batchSize, seed: o.seed, variant: name,
    optimizer: { name: 'adam', lr: o.lr },
    schedule: { name: 'multistep', milestones: o.milestones, gamma: 0.1 },
    checkpointDir: path.join(outDir, 'checkpoints', name), resume: ctx.resume, progress: ctx.progress,
  };
}

/**
 * Train the float LeNet-5 (variant 'fp'): Adam, lr x0.1 at the milestones. Shared with mary-lenet-mnist, whose
 * float baseline must be this exact run. `before` are rows of earlier variants, for the live curves.
 */
export async function trainFloatLenet5(
  ds: ImageDataset,
  o: FloatLenetOptions,
  ctx: ExperimentContext,
  before: HistoryRow[] = [],
  /** Return the trained model (the caller disposes it) instead of disposing it. */
  keepModel = false,
  /** Another variant of the same training: its name (and checkpoint folder) and LeNet-5 options (e.g. dropout). */
  variant: { name?: string; modelOptions?: LeNet5Options } = {},
): Promise<{ history: HistoryRow[]; variant: VariantSummary; model: tf.LayersModel | null }> {
  const name = variant.name ?? 'fp';
  const model = buildModel('lenet5', { ...variant.modelOptions, seed: o.seed, inputShape: [ds.height, ds.width, ds.channels], numClasses: ds.numClasses });
  const res = await fit(model, ds, floatFitConfig(o, ctx.outDir, ctx, name), {
    onEpochEnd: (row, all) => {
      ctx.live?.update([...before, ...all]);
      ctx.onEpoch?.(row, [...before, ...all]);
    },
  });
  res.optimizer.dispose();
  const last = res.history[res.history.length - 1];
  // With a validation split fit evaluated it every epoch; the test split is evaluated once, for the final net.
  const testAccuracy = ds.validation ? evaluate(model, batches(ds, 'test', { batchSize: 500 })).accuracy : last.testAccuracy as number;
  if (!keepModel) model.dispose();
  return {
    history: res.history,
    variant: { name, ...(ds.validation ? { validationAccuracy: last.valAccuracy as number } : {}), testAccuracy, epochs: res.history.length },
    model: keepModel ? model : null,
  };
}

export const lenetMnist: Experiment<LenetMnistConfig> = {
  name: 'lenet-mnist',
  description: 'Full-precision LeNet-5 (6-16-120-84-10 + batch norm) on MNIST, Adam; the float baseline.',
  defaults: { dataset: 'mnist', epochs: 12, batchSize: 128, lr: 1e-3, milestones: [8, 11], seed: 1, validation: DEFAULT_VALIDATION_COUNT, limitTrain: 0, limitTest: 0 },
  smoke: { epochs: 2, limitTrain: 2000, limitTest: 1000, validation: 500 },
  async run(cfg, ctx) {
    const ds = holdOutValidation(await loadDataset(cfg.dataset, { limitTrain: cfg.limitTrain || undefined, limitTest: cfg.limitTest || undefined }), cfg.validation);
    const { history, variant } = await trainFloatLenet5(ds, cfg, ctx);
    const fig = 'accuracy';
    await savePlot(curves({ rows: history, x: 'epoch', y: [ds.validation ? 'valAccuracy' : 'testAccuracy', 'trainLoss'], color: 'variant', title: 'LeNet-5 on MNIST (float32)' }), path.join(ctx.outDir, fig));
    return { history, variants: [variant], figures: [fig] };
  },
};
