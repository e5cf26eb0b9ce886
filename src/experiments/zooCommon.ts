/**
 * Train one quantization method on one model: the shared core of the zoo and SQ experiments.
 * SQ methods run the ratio schedule 50 -> 75 -> 87.5 -> 100% as successive warm-started stages (the SQ code's
 * train.sh: each stage a full solver run from the previous snapshot); every other method runs one stage.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { batches, numBatches, type ImageDataset } from '../data';
import { buildModel, methodOptions, methodPreset, type ModelName } from '../models';
import { quantizedLayers } from '../layers';
import { summary } from '../summary';
import { FlipRatio, type FlipRatioState, sqRatioSchedule } from '../quantizers';
import { evaluate, fit, type FitConfig, type HistoryRow, type OptimizerConfig, type ScheduleConfig } from '../train';
import type { ExperimentContext, VariantSummary } from './types';

export interface MethodTrainConfig {
  model: ModelName;
  /** Epochs of a single-stage method, and of each SQ stage. */
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  schedule: ScheduleConfig;
  /** INQ fixing steps (completed optimizer steps); empty = spread over epochs 1..5 of the run. */
  inqSteps: number[];
  augment?: FitConfig['augment'];
  normalize?: FitConfig['normalize'];
  seed: number;
  /** Extra model options per method (e.g. wider layers for binary activations), merged over the preset's. */
  modelOptions?: Record<string, Record<string, unknown>>;
}

/**
 * Per-epoch flip ratio of the quantized kernels (Larq's metric, at epoch granularity). For alpha·sign(w)
 * and alpha·ternary(w) the code is compared, not the value: alpha moves every step, and comparing values
 * would count every weight as flipped.
 */
function flipTracker(model: tf.LayersModel) {
  const layers = quantizedLayers(model);
  const trackers = layers.map(() => new FlipRatio());
  return {
    measure(): Record<string, number> {
      if (layers.length === 0) return {}; // a float model has nothing to flip
      const r = layers.map((l, i) => {
        const q = l.quantizedKernel();
        const code = l.kernelQuantizer?.code ? l.kernelQuantizer.code(q) : q.clone();
        const v = trackers[i].update(code);
        tf.dispose([q, code]);
        return v;
      });
      return { flipRatio: r.reduce((a, b) => a + b, 0) / r.length };
    },
    state: (): FlipRatioState[] => trackers.map((t) => t.state()),
    restore(s: unknown) {
      if (!Array.isArray(s)) return; // a checkpoint of older code: the next epoch's ratio is undefined
      if (s.length !== trackers.length) throw new Error(`flip-ratio state for ${s.length} layers, the model has ${trackers.length}`);
      s.forEach((st, i) => trackers[i].setState(st as FlipRatioState));
    },
    dispose() {
      trackers.forEach((t) => t.dispose());
    },
  };
}

export async function trainMethod(
  method: string, cfg: MethodTrainConfig, ds: ImageDataset, ctx: ExperimentContext, before: HistoryRow[] = [],
): Promise<{ history: HistoryRow[]; variant: VariantSummary }> {
  const preset = methodPreset(method);
  const isSq = method.startsWith('sq-');
  const opts = methodOptions(method);
  if (method === 'inq' && opts.kernelQuantizer) {
    const spe = numBatches(ds, 'train', { batchSize: cfg.batchSize });
    const steps = cfg.inqSteps.length > 0 ? cfg.inqSteps : [1, 2, 3, 4, 5].map((e) => e * spe);
    opts.kernelQuantizer.options = { ...opts.kernelQuantizer.options, schedule: steps };
  }
  const model = buildModel(cfg.model, {
    ...opts, ...cfg.modelOptions?.[method], seed: cfg.seed, inputShape: [ds.height, ds.width, ds.channels], numClasses: ds.numClasses,
  } as never);
  const flips = flipTracker(model);
  const stages = isSq ? sqRatioSchedule.slice() : [null];
  const history: HistoryRow[] = [];
  for (let s = 0; s < stages.length; s++) {
    const ratio = stages[s];
    if (ratio != null) for (const l of quantizedLayers(model)) l.kernelQuantizer?.setRatio?.(ratio);
    const tag = (row: HistoryRow): HistoryRow => ({
      ...row, epoch: s * cfg.epochs + (row.epoch as number), ...(ratio != null ? { stage: s + 1, sqRatio: ratio } : {}),
    });
    const res = await fit(model, ds, {
      epochs: cfg.epochs, batchSize: cfg.batchSize, seed: cfg.seed + s, variant: method,
      optimizer: cfg.optimizer, schedule: cfg.schedule, augment: cfg.augment, normalize: cfg.normalize,
      checkpointDir: path.join(ctx.outDir, 'checkpoints', ratio == null ? method : `${method}-stage${s + 1}`),
      resume: ctx.resume, progress: ctx.progress,
    }, {
      epochMetrics: () => flips.measure(),
      checkpointState: () => flips.state(),
      restoreState: (st) => flips.restore(st),
      onEpochEnd: (row) => {
        const all = [...before, ...history, tag(row)];
        ctx.live?.update(all);
        ctx.onEpoch?.(tag(row), all);
      },
    });
    res.optimizer.dispose();
    history.push(...res.history.map(tag));
  }
  const sum = summary(model);
  flips.dispose();
  // With a validation split fit evaluated it every epoch; the test split is evaluated once, for the final net.
  const testAccuracy = ds.validation ? evaluate(model, batches(ds, 'test', { batchSize: 500 })).accuracy : history[history.length - 1].testAccuracy as number;
  model.dispose();
  const last = history[history.length - 1];
  const curveKey = ds.validation ? 'valAccuracy' : 'testAccuracy';
  return {
    history,
    variant: {
      name: method,
      ...(ds.validation ? { validationAccuracy: last.valAccuracy as number } : {}),
      testAccuracy,
      memoryKiB: sum.modelSizeKiB,
      float32KiB: sum.float32SizeKiB,
      compressionRatio: sum.compressionRatio,
      paramsByBits: sum.paramsByBits,
      macsByPrecision: sum.macsByPrecision,
      epochs: history.length,
      /** Accuracy after each SQ stage on the split fit evaluated (validation when there is one). */
      stageAccuracies: isSq ? stages.map((_, s) => history[(s + 1) * cfg.epochs - 1][curveKey]) : undefined,
      description: preset.description,
      source: preset.source,
    },
  };
}

/** Train every method in turn and collect the rows and summaries. */
export async function trainMethods(methods: string[], cfg: MethodTrainConfig, ds: ImageDataset, ctx: ExperimentContext) {
  const history: HistoryRow[] = [];
  const variants: VariantSummary[] = [];
  for (const m of methods) {
    const r = await trainMethod(m, cfg, ds, ctx, history);
    history.push(...r.history);
    variants.push(r.variant);
  }
  const table = variants.map((v) => ({
    method: v.name, ...(v.validationAccuracy != null ? { validationAccuracy: v.validationAccuracy as number } : {}), testAccuracy: v.testAccuracy,
    memoryKiB: Number((v.memoryKiB as number).toFixed(2)), compressionRatio: Number((v.compressionRatio as number).toFixed(2)),
  }));
  return { history, variants, table };
}
