/**
 * The training loop. Built on tf.variableGrads + optimizer.applyGradients (not model.fit) so that
 *  - the loss can add terms (the KL of Bayesian layers) through `hooks.extraLoss`,
 *  - quantizer state can change between steps (INQ, SQ) through layers' `afterStep` and `hooks.afterStep`,
 *  - gradients can be clipped and weight decay applied uniformly,
 *  - metrics can be computed on quantized weights after each epoch (`hooks.epochMetrics`).
 * After every epoch it evaluates, appends a row to the history and (optionally) checkpoints atomically, and
 * optionally inside epochs too (checkpointEverySteps / checkpointEveryMinutes); `resume: true` continues from the
 * checkpoint and ends bit for bit equal to an uninterrupted run (docs/checkpoints.md).
 */
import * as tf from '@tensorflow/tfjs';
import { batches, numBatches, type ImageDataset, type BatchOptions } from '../data';
import { Rng } from '../util/random';
import { makeOptimizer, setLearningRate, type OptimizerConfig } from './optimizer';
import { lrAt, type ScheduleConfig } from './schedule';
import { saveCheckpoint, loadCheckpoint, hasCheckpoint, lockCheckpointDir, type CheckpointState } from './checkpoint';
import { evaluate, lossAndCorrect } from './evaluate';
import { installSeededMathRandom, epochSeed } from './seededRandom';
import { makeProgress, type ProgressMode } from './progress';

export interface FitConfig {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  schedule?: ScheduleConfig;
  /** Clip the global gradient norm to this value. */
  clipNorm?: number;
  /** Clip every gradient element to [-clipValue, clipValue] (the Chien & Chang scripts use 1). */
  clipValue?: number;
  seed?: number;
  augment?: BatchOptions['augment'];
  normalize?: BatchOptions['normalize'];
  evalBatchSize?: number;
  /**
   * The split evaluated after every epoch: 'validation' (the default when the dataset has one) writes
   * valLoss/valAccuracy into the history, 'test' writes testLoss/testAccuracy. Model selection reads the former.
   */
  evalSplit?: 'validation' | 'test';
  /** Name of this run in the history rows (one CSV holds several variants). */
  variant?: string;
  /** Save a checkpoint here after every epoch. */
  checkpointDir?: string;
  /**
   * Also checkpoint inside an epoch, every this many optimizer steps (default: the environment variable
   * QNNLAB_CHECKPOINT_EVERY_STEPS, else off). A run resumed from such a checkpoint continues at the next batch.
   */
  checkpointEverySteps?: number;
  /** Also checkpoint inside an epoch when this many minutes have passed since the last one (default: QNNLAB_CHECKPOINT_EVERY_MINUTES, else off). */
  checkpointEveryMinutes?: number;
  /** Continue from the checkpoint in checkpointDir when one exists. */
  resume?: boolean;
  progress?: ProgressMode;
  /**
   * What else defines the run (e.g. the experiment's KL settings). With the training settings and the data it
   * forms the checkpoint's fingerprint: resuming a checkpoint written under other settings is an error.
   */
  fingerprint?: string;
}

export type HistoryRow = Record<string, number | string>;

export interface StepInfo {
  model: tf.LayersModel;
  epoch: number; // 0-based
  step: number; // global optimizer step, 1-based after the first update
  /**
   * Batches of this epoch done before the current one (beforeEpoch: before the first batch this call runs, which
   * is not 0 when a run resumes from a checkpoint written inside the epoch).
   */
  batch: number;
}

export interface FitHooks {
  /** Extra loss terms added to the mean cross-entropy inside the taped function (e.g. KL * warm-up). */
  extraLoss?(info: StepInfo): tf.Scalar | null;
  /** After every optimizer step (layers' own afterStep run first). */
  afterStep?(info: StepInfo): void;
  beforeEpoch?(info: StepInfo): void | Promise<void>;
  /** Replace the default test evaluation (e.g. Monte-Carlo predictive). */
  evaluate?(info: StepInfo): { loss: number; accuracy: number } | Promise<{ loss: number; accuracy: number }>;
  /** Extra per-epoch metrics written into the history row (quantization loss, flip ratio, ...). */
  epochMetrics?(info: StepInfo): Record<string, number> | Promise<Record<string, number>>;
  onEpochEnd?(row: HistoryRow, history: HistoryRow[]): void | Promise<void>;
  /** State the hooks keep between epochs (JSON-safe), saved in every checkpoint so a resumed run's metrics equal
   * an uninterrupted run's (e.g. the flip ratio's previous codes). */
  checkpointState?(): unknown;
  /** Called with what checkpointState returned when the checkpoint was written (undefined for older checkpoints). */
  restoreState?(state: unknown): void;
}

export interface FitResult {
  history: HistoryRow[];
  resumedFromEpoch: number;
  steps: number;
  optimizer: tf.Optimizer;
}

export class NonFiniteLossError extends Error {}

interface AfterStepLayer {
  afterStep(step: number): void;
}

function layersWithAfterStep(model: tf.LayersModel): AfterStepLayer[] {
  return model.layers.filter((l) => typeof (l as unknown as AfterStepLayer).afterStep === 'function') as unknown as AfterStepLayer[];
}

/** LayerVariable.read() is typed as Tensor but is the underlying tf.Variable. */
function varOf(v: tf.LayerVariable): tf.Variable {
  return v.read() as tf.Variable;
}

/**
 * Settings a checkpoint must share to be resumed; `epochs` is left out so a finished run can be extended. Exported so
 * that a checkpoint can be recognised (e.g. reused read-only by another experiment) without resuming it.
 */
export function fingerprintOf(cfg: FitConfig, ds: ImageDataset): string {
  const { epochs, checkpointDir, resume, progress, checkpointEverySteps, checkpointEveryMinutes, ...rest } = cfg;
  return JSON.stringify({ ...rest, data: [ds.name, ds.train.count, ds.test.count, ...(ds.validation ? [ds.validation.count] : [])] });
}

function validate(cfg: FitConfig): void {
  const bad = (what: string) => {
    throw new Error(`fit: ${what}`);
  };
  if (!Number.isInteger(cfg.epochs) || cfg.epochs < 1) bad(`epochs must be a positive integer, got ${cfg.epochs}`);
  if (!Number.isInteger(cfg.batchSize) || cfg.batchSize < 1) bad(`batchSize must be a positive integer, got ${cfg.batchSize}`);
  if (cfg.clipNorm != null && !(cfg.clipNorm > 0)) bad(`clipNorm must be > 0, got ${cfg.clipNorm}`);
  if (cfg.clipValue != null && !(cfg.clipValue > 0)) bad(`clipValue must be > 0, got ${cfg.clipValue}`);
  if (cfg.resume && !cfg.checkpointDir) bad('resume needs checkpointDir');
  if (cfg.checkpointEverySteps != null && !(Number.isInteger(cfg.checkpointEverySteps) && cfg.checkpointEverySteps >= 0)) {
    bad(`checkpointEverySteps must be a non-negative integer, got ${cfg.checkpointEverySteps}`);
  }
  if (cfg.checkpointEveryMinutes != null && !(cfg.checkpointEveryMinutes >= 0)) bad(`checkpointEveryMinutes must be >= 0, got ${cfg.checkpointEveryMinutes}`);
  if (cfg.evalSplit != null && cfg.evalSplit !== 'validation' && cfg.evalSplit !== 'test') {
    bad(`evalSplit must be 'validation' or 'test', got '${String(cfg.evalSplit)}'`);
  }
}

/** The split fit evaluates after each epoch, and the history keys it writes. */
export function evalSplitOf(cfg: Pick<FitConfig, 'evalSplit'>, ds: ImageDataset): { split: 'validation' | 'test'; loss: string; accuracy: string } {
  const split = cfg.evalSplit ?? (ds.validation ? 'validation' : 'test');
  if (split === 'validation' && !ds.validation) throw new Error(`fit: evalSplit 'validation' but ${ds.name} has no validation split`);
  return split === 'validation' ? { split, loss: 'valLoss', accuracy: 'valAccuracy' } : { split, loss: 'testLoss', accuracy: 'testAccuracy' };
}

/** Mid-epoch checkpoint period: the config's, else the environment's, else off. */
function midEpochCheckpoints(cfg: FitConfig): { steps: number; ms: number } {
  const env = (name: string) => {
    const v = process.env[name];
    if (v == null || v === '') return undefined;
    const n = Number(v);
    if (!(n >= 0)) throw new Error(`${name} must be a non-negative number, got '${v}'`);
    return n;
  };
  const steps = cfg.checkpointEverySteps ?? env('QNNLAB_CHECKPOINT_EVERY_STEPS') ?? 0;
  const minutes = cfg.checkpointEveryMinutes ?? env('QNNLAB_CHECKPOINT_EVERY_MINUTES') ?? 0;
  return { steps: Math.floor(steps), ms: minutes * 60000 };
}

function clipAndDecay(grads: tf.NamedTensorMap, vars: tf.LayerVariable[], cfg: FitConfig): { name: string; tensor: tf.Tensor }[] {
  const wd = cfg.optimizer.weightDecay ?? 0;
  let list = vars.map((v) => {
    let g = grads[varOf(v).name];
    if (g == null) g = tf.zerosLike(v.read());
    if (wd > 0 && /kernel$/.test(v.originalName)) g = tf.add(g, tf.mul(v.read(), wd));
    return g;
  });
  if (cfg.clipValue != null) list = list.map((g) => tf.clipByValue(g, -cfg.clipValue!, cfg.clipValue!));
  if (cfg.clipNorm != null) {
    const norm = tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g)))));
    const scale = tf.minimum(1, tf.div(cfg.clipNorm, tf.add(norm, 1e-12)));
    list = list.map((g) => tf.mul(g, scale));
  }
  // Fixed order matters: tfjs optimizers keep their slots by position.
  return vars.map((v, i) => ({ name: varOf(v).name, tensor: list[i] }));
}

/**
 * Train `model` on `ds` as `cfg` says, resuming from `cfg.checkpointDir` when asked. One process at a time may train
 * into a checkpoint folder (lockCheckpointDir): a second one gets a clear error before any work.
 */
export async function fit(
  model: tf.LayersModel,
  ds: ImageDataset,
  cfg: FitConfig,
  hooks: FitHooks = {},
): Promise<FitResult> {
  validate(cfg);
  const release = cfg.checkpointDir ? lockCheckpointDir(cfg.checkpointDir) : () => {};
  try {
    return await fitLocked(model, ds, cfg, hooks);
  } finally {
    release();
  }
}

async function fitLocked(model: tf.LayersModel, ds: ImageDataset, cfg: FitConfig, hooks: FitHooks): Promise<FitResult> {
  const evalKeys = evalSplitOf(cfg, ds);
  const seed = cfg.seed ?? 1;
  const variant = cfg.variant ?? 'default';
  const optimizer = makeOptimizer(cfg.optimizer);
  const trainVars = model.trainableWeights;
  const rng = new Rng(seed);
  let history: HistoryRow[] = [];
  let startEpoch = 0;
  let step = 0;
  /** Set when the checkpoint was written inside epoch startEpoch: where to continue. */
  let partial: CheckpointState['partialEpoch'] = undefined;

  if (cfg.resume && cfg.checkpointDir && hasCheckpoint(cfg.checkpointDir)) {
    const st = await loadCheckpoint(cfg.checkpointDir, model, optimizer);
    const saved = st.extra?.fingerprint;
    if (saved != null && saved !== fingerprintOf(cfg, ds)) {
      throw new Error(`The checkpoint in ${cfg.checkpointDir} was written with other settings ` +
        `(${String(saved)}) than this run (${fingerprintOf(cfg, ds)}). Use --fresh to start over, or --out for a new folder.`);
    }
    startEpoch = st.epoch;
    step = st.step;
    history = st.history;
    rng.setState(st.rngState);
    partial = st.partialEpoch;
    hooks.restoreState?.(st.extra?.hooks);
  }
  const checkpointExtra = () => ({
    fingerprint: fingerprintOf(cfg, ds), ...(hooks.checkpointState ? { hooks: hooks.checkpointState() } : {}),
  });
  const every = midEpochCheckpoints(cfg);
  let lastSave = Date.now();
  const restoreRandom = installSeededMathRandom(rng);
  const progress = makeProgress(cfg.progress ?? 'auto', variant);
  const steppers = layersWithAfterStep(model);
  const trainOpts = (epoch: number): BatchOptions => ({
    batchSize: cfg.batchSize, shuffle: true, seed: epochSeed(seed, epoch), augment: cfg.augment, normalize: cfg.normalize,
  });
  const testOpts: BatchOptions = { batchSize: cfg.evalBatchSize ?? 500, shuffle: false, normalize: cfg.normalize };

  try {
    for (let epoch = startEpoch; epoch < cfg.epochs; epoch++) {
      const lr = lrAt(cfg.optimizer.lr, cfg.schedule, epoch);
      setLearningRate(optimizer, lr);
      // Resuming inside this epoch: its batches done so far and their sums come from the checkpoint.
      const from = epoch === startEpoch && partial ? partial : { batches: 0, lossSum: 0, correctSum: 0, seen: 0, seconds: 0 };
      await hooks.beforeEpoch?.({ model, epoch, step, batch: from.batches });
      const t0 = Date.now() - from.seconds * 1000;
      const total = numBatches(ds, 'train', trainOpts(epoch));
      progress.startEpoch(epoch + 1, cfg.epochs, total);
      let lossSum = from.lossSum;
      let correctSum = from.correctSum;
      let seen = from.seen;
      let done = 0;
      for (const b of batches(ds, 'train', trainOpts(epoch))) {
        if (done < from.batches) {
          // Drawn, not trained: the generator's shuffling and augmentation stream stays in step.
          tf.dispose([b.x, b.y]);
          done++;
          continue;
        }
        const info: StepInfo = { model, epoch, step, batch: done };
        let ceT: tf.Scalar | null = null;
        let correctT: tf.Scalar | null = null;
        const lossT = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => {
            const logits = model.apply(b.x, { training: true }) as tf.Tensor;
            const { loss, correct } = lossAndCorrect(logits, b.y);
            ceT = tf.keep(loss.clone());
            correctT = tf.keep(correct);
            const extra = hooks.extraLoss?.(info);
            return extra ? tf.add(loss, extra) : loss;
          }, trainVars.map(varOf));
          optimizer.applyGradients(clipAndDecay(grads, trainVars, cfg));
          return value;
        });
        const total_ = lossT.dataSync()[0];
        const ce = (ceT as tf.Scalar | null)?.dataSync()[0] ?? total_;
        const correct = (correctT as tf.Scalar | null)?.dataSync()[0] ?? 0;
        const temps: (tf.Tensor | null)[] = [lossT, ceT, correctT, b.x, b.y];
        tf.dispose(temps.filter((t): t is tf.Tensor => t != null));
        if (!Number.isFinite(total_)) {
          throw new NonFiniteLossError(`${variant}: the loss became ${total_} at epoch ${epoch + 1}, step ${step + 1} ` +
            `(cross-entropy ${ce}). Lower the learning rate (now ${lr}), enable clipNorm/clipValue, or check the data ` +
            `normalization. The last checkpoint${cfg.checkpointDir ? ` in ${cfg.checkpointDir}` : ''} is intact.`);
        }
        step++;
        for (const l of steppers) l.afterStep(step);
        hooks.afterStep?.({ model, epoch, step, batch: done });
        lossSum += ce * b.size;
        correctSum += correct;
        seen += b.size;
        done++;
        progress.step(done, ce);
        if (cfg.checkpointDir && done < total &&
          ((every.steps > 0 && step % every.steps === 0) || (every.ms > 0 && Date.now() - lastSave >= every.ms))) {
          await saveCheckpoint(cfg.checkpointDir, model, optimizer, {
            epoch, step, rngState: rng.getState(), history, extra: checkpointExtra(),
            partialEpoch: { batches: done, lossSum, correctSum, seen, seconds: (Date.now() - t0) / 1000 },
          });
          lastSave = Date.now();
        }
      }
      const info: StepInfo = { model, epoch, step, batch: done };
      const test = hooks.evaluate ? await hooks.evaluate(info) : evaluate(model, batches(ds, evalKeys.split, testOpts));
      const extra = hooks.epochMetrics ? await hooks.epochMetrics(info) : {};
      const row: HistoryRow = {
        variant, epoch: epoch + 1, lr, trainLoss: lossSum / seen, trainAccuracy: correctSum / seen,
        [evalKeys.loss]: test.loss, [evalKeys.accuracy]: test.accuracy, ...extra, seconds: (Date.now() - t0) / 1000,
      };
      history.push(row);
      const extraText = Object.entries(extra).map(([k, v]) => `${k} ${typeof v === 'number' ? v.toPrecision(4) : v}`).join(' | ');
      progress.endEpoch(`epoch ${epoch + 1}/${cfg.epochs} | train loss ${(row.trainLoss as number).toFixed(4)} ` +
        `acc ${((row.trainAccuracy as number) * 100).toFixed(2)}% | ${evalKeys.split === 'test' ? 'test' : 'val'} acc ${(test.accuracy * 100).toFixed(2)}%` +
        `${extraText ? ' | ' + extraText : ''} | ${(row.seconds as number).toFixed(1)} s`);
      if (cfg.checkpointDir) {
        await saveCheckpoint(cfg.checkpointDir, model, optimizer, { epoch: epoch + 1, step, rngState: rng.getState(), history, extra: checkpointExtra() });
        lastSave = Date.now();
      }
      await hooks.onEpochEnd?.(row, history);
    }
  } finally {
    progress.stop();
    restoreRandom();
  }
  return { history, resumedFromEpoch: startEpoch, steps: step, optimizer };
}
