/**
 * mary-robustness-mnist (issue 12): are the Bayesian M-ary LeNet-5s robust under heterogeneous data, the paper's
 * third claim? The protocol of Ovadia et al. (2019), docs/robustness.md: every network, trained on MNIST with the
 * validation split held out, is evaluated on the full MNIST test set, on every shifted test set of
 * `protocolShifts()` (13 rotations, 5 corruptions × 5 severities) and on two out-of-distribution sets
 * (Fashion-MNIST, uniform noise): accuracy, NLL, Brier, ECE (15 bins) per set, and OOD detection (AUROC, AUPR) with
 * the max-softmax probability, the predictive entropy and, for predictors with a predictive distribution, the mutual
 * information.
 *
 * Networks (all LeNet-5, 6-16-120-84-10):
 *  - `fp`: the float LeNet-5 of lenet-mnist / mary-lenet-mnist (trainFloatLenet5);
 *  - `twn`: ternary weights (TWN), trained as zoo-mnist trains it (5 epochs, lr x0.1 after 3 and 4);
 *  - `ste-M3-noprior`: the M = 3 learned-level straight-through net without a prior (the qnnlab recipe with
 *    klLambda 0: mary-lenet-mnist-ablation's no-prior control), a deterministic QAT net;
 *  - the Bayesian M-ary nets of both recipes (`paper`, `qnnlab`; `Ms` × `priors`), trained by trainMaryVariant;
 *  - MC dropout: the float LeNet-5 with dropout before each dense layer, predicting with dropout on;
 *  - a deep ensemble of float LeNet-5s with different seeds (the first is `fp` itself).
 * Networks that mary-lenet-mnist (or its ablation) already trained are loaded read-only from `reuseFrom` when the
 * checkpoint's fingerprint, its epoch count and the recorded configuration match; the others train into
 * <outDir>/checkpoints/ (resumable).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { posteriorSigma, RECIPE_NAMES, recipeConfig, trainedModes } from '../bayes';
import { DEFAULT_VALIDATION_COUNT, holdOutValidation, loadDataset, type ImageDataset, type ImageSplit } from '../data';
import { buildModel, methodOptions } from '../models';
import { curves, savePlot, type Row } from '../plots';
import { histogramRows, reliabilityDiagram, scoreHistogram, scoreTable } from '../plots/robustness';
import { writeCsv } from '../plots/table';
import {
  CORRUPTIONS, DEFAULT_OOD_COUNT, loadOodSet, OOD_SETS, ROTATION_DEGREES, SEVERITIES, shiftedSplit, shiftName,
  type OodSetName, type ShiftSpec,
} from '../robustness';
import { canonical } from '../util/canonical';
import { fingerprintOf, fit, hasCheckpoint, loadCheckpoint, type FitConfig, type HistoryRow } from '../train';
import { floatFitConfig, trainFloatLenet5, type FloatLenetOptions } from './lenetMnist';
import { maryFitConfig, trainMaryVariant, variantName } from './maryCommon';
import { buildMaryLenet, checkMaryLenetConfig, maryLenetMnist, type MaryLenetMnistConfig } from './maryLenetMnist';
import {
  bayesMcPredictor, deterministicPredictor, ensemblePredictor, evaluatePredictor, mcDropoutPredictor, OOD_SCORES, predictSplit, setMetrics,
  type EvaluationSets, type OodResult, type OodScore, type Predictor, type PredictorEvaluation, type ShiftMetrics,
} from './robustnessProtocol';
import { evaluationKey, loadEvaluation, saveEvaluation, weightsDigest } from './evaluationCache';
import type { Experiment, VariantSummary } from './types';
import { inRange, int, listOf, nonNegativeInt, oneOf, positiveInt, seedRule, text } from './validate';

/** The network families this experiment can train and evaluate. */
export const ROBUSTNESS_FAMILIES = ['fp', 'twn', 'ste-noprior', 'mc-dropout', 'ensemble', 'bayesian'] as const;

export interface MaryRobustnessConfig {
  [key: string]: unknown;
  dataset: string;
  /** Training examples held out for validation (the last ones of the training file; 0 = none). */
  validation: number;
  limitTrain: number;
  limitTest: number;
  seed: number;
  /** Network families to include (ROBUSTNESS_FAMILIES). */
  models: string[];
  batchSize: number;
  lr: number;
  /** The float LeNet-5 (also each ensemble member and the MC-dropout net): epochs and lr x0.1 milestones. */
  fpEpochs: number;
  fpMilestones: number[];
  /** TWN as zoo-mnist trains it. */
  twnEpochs: number;
  twnMilestones: number[];
  /** Levels of the no-prior straight-through net. */
  steM: number;
  /** Bayesian M-ary nets: recipes (src/bayes/recipes.ts), M values and priors. */
  recipes: string[];
  Ms: number[];
  priors: string[];
  /** Epochs of every Bayesian (and no-prior) net; 0 = the recipe's own (qnnlab 8, paper 50). */
  maryEpochs: number;
  /** Monte-Carlo samples of the Bayesian predictive and of MC dropout. */
  mcSamples: number;
  /** MC-dropout rates; with more than one, the one with the lowest validation NLL (MC predictive) is evaluated. */
  dropoutRates: number[];
  /** Seeds of the deep ensemble's float LeNet-5s (the one equal to `seed` is `fp` itself). */
  ensembleSeeds: number[];
  /** Rotation angles (0 = the clean test set), corruption kinds and severities of the shifted test sets. */
  rotations: number[];
  corruptions: string[];
  severities: number[];
  /** Seed of the noise corruptions and of the uniform-noise OOD images. */
  shiftSeed: number;
  oodSets: string[];
  /** Images per OOD set (0 = 10,000: all of Fashion-MNIST's test split). */
  oodLimit: number;
  eceBins: number;
  /** The shifted set whose reliability diagram is drawn next to the clean one ('' = only the clean one). */
  reliabilityShift: string;
  /**
   * Results folders (of mary-lenet-mnist, mary-lenet-mnist-ablation, or this experiment) whose checkpoints are loaded
   * read-only instead of training, when fingerprint, epochs and recorded configuration match.
   */
  reuseFrom: string[];
}

/** Model knobs that a Bayesian checkpoint's fingerprint does not cover; compared with the source run's run.json. */
const MARY_MODEL_KEYS = ['trainForward', 'conv1Padding', 'bnMomentum', 'logSigma2Init', 'thetaInit', 'initFromFloat'];
/** With initFromFloat, the float net the Bayesian net started from. */
const FLOAT_START_KEYS = ['fpEpochs', 'fpMilestones'];

/** σ counts as "at its initial value" when every layer's median and 90th percentile are within 1 % of it. */
const SIGMA_AT_INITIAL_TOLERANCE = 0.01;

/** The mary-lenet-mnist configuration of one recipe, with this experiment's data, seed and sizes. */
export function maryConfigFor(recipe: string, cfg: MaryRobustnessConfig): MaryLenetMnistConfig {
  const rc = {
    ...maryLenetMnist.defaults, ...recipeConfig(recipe), recipe,
    dataset: cfg.dataset, validation: cfg.validation, Ms: cfg.Ms, priors: cfg.priors, fp: true,
    fpEpochs: cfg.fpEpochs, fpMilestones: cfg.fpMilestones, mcSamples: cfg.mcSamples, seed: cfg.seed,
    limitTrain: cfg.limitTrain, limitTest: cfg.limitTest,
  } as MaryLenetMnistConfig;
  if (cfg.maryEpochs > 0) rc.epochs = cfg.maryEpochs;
  return rc;
}

/** The no-prior straight-through net: the qnnlab recipe with the KL switched off (the ablation's control). */
function noPriorConfig(cfg: MaryRobustnessConfig): MaryLenetMnistConfig {
  return { ...maryConfigFor('qnnlab', cfg), klLambda: 0, Ms: [cfg.steM], priors: ['spikeslab'] };
}

/** The shifted test sets of a configuration, in protocol order; rotation 0 is the clean test set itself. */
export function configShifts(cfg: Pick<MaryRobustnessConfig, 'rotations' | 'corruptions' | 'severities'>): ShiftSpec[] {
  const out: ShiftSpec[] = cfg.rotations.map((d) => ({ kind: 'rotate' as const, level: d }));
  for (const kind of cfg.corruptions) for (const level of cfg.severities) out.push({ kind: kind as ShiftSpec['kind'], level });
  return out;
}

/** The checks between options (and the older per-value checks, kept), run before any data loads. */
export function checkConfig(cfg: MaryRobustnessConfig): void {
  const bad = (m: string) => {
    throw new Error(m);
  };
  for (const m of cfg.models) if (!(ROBUSTNESS_FAMILIES as readonly string[]).includes(m)) bad(`--models: unknown family '${m}' (use ${ROBUSTNESS_FAMILIES.join(', ')})`);
  if (cfg.models.length === 0) bad('--models: give at least one family');
  for (const r of cfg.recipes) if (!(RECIPE_NAMES as string[]).includes(r)) bad(`--recipes: unknown recipe '${r}' (use ${RECIPE_NAMES.join(', ')})`);
  if (cfg.models.includes('bayesian') && (cfg.recipes.length === 0 || cfg.Ms.length === 0 || cfg.priors.length === 0)) {
    bad('--models bayesian needs at least one recipe, M and prior');
  }
  for (const d of cfg.rotations) if (!(d >= 0 && d <= 180)) bad(`--rotations: angles are 0..180 degrees, got ${d}`);
  for (const c of cfg.corruptions) if (!(CORRUPTIONS as readonly string[]).includes(c)) bad(`--corruptions: unknown corruption '${c}' (use ${CORRUPTIONS.join(', ')})`);
  for (const s of cfg.severities) if (!(SEVERITIES as readonly number[]).includes(s)) bad(`--severities: severities are 1..5, got ${s}`);
  for (const o of cfg.oodSets) if (!(OOD_SETS as readonly string[]).includes(o)) bad(`--oodSets: unknown OOD set '${o}' (use ${OOD_SETS.join(', ')})`);
  for (const r of cfg.dropoutRates) if (!(r > 0 && r < 1)) bad(`--dropoutRates: rates are in (0, 1), got ${r}`);
  if (cfg.models.includes('mc-dropout') && cfg.dropoutRates.length === 0) bad('--models mc-dropout needs at least one --dropoutRates value');
  if (cfg.models.includes('ensemble')) {
    if (cfg.ensembleSeeds.length < 2) bad(`--ensembleSeeds: an ensemble needs at least 2 members, got ${cfg.ensembleSeeds.length}`);
    if (new Set(cfg.ensembleSeeds).size !== cfg.ensembleSeeds.length) bad('--ensembleSeeds: seeds must differ');
  }
  for (const s of cfg.ensembleSeeds) if (!Number.isInteger(s)) bad(`--ensembleSeeds: seeds are integers, got ${s}`);
  const positiveInt = (k: string, v: number, min = 1) => {
    if (!(Number.isInteger(v) && v >= min)) bad(`--${k} must be an integer >= ${min}, got ${v}`);
  };
  positiveInt('mcSamples', cfg.mcSamples);
  positiveInt('eceBins', cfg.eceBins);
  positiveInt('fpEpochs', cfg.fpEpochs);
  positiveInt('twnEpochs', cfg.twnEpochs);
  positiveInt('maryEpochs', cfg.maryEpochs, 0);
  positiveInt('oodLimit', cfg.oodLimit, 0);
  positiveInt('validation', cfg.validation, 0);
  if (!(Number.isInteger(cfg.steM) && cfg.steM >= 2 && cfg.steM <= 8)) bad(`--steM must be an integer from 2 to 8, got ${cfg.steM}`);
  const names = configShifts(cfg).map(shiftName);
  if (cfg.reliabilityShift !== '' && !names.includes(cfg.reliabilityShift)) {
    bad(`--reliabilityShift '${cfg.reliabilityShift}' is not one of the evaluated shifts (${names.join(', ')})`);
  }
  if (cfg.models.includes('bayesian')) for (const r of cfg.recipes) checkMaryLenetConfig(maryConfigFor(r, cfg));
  if (cfg.models.includes('ste-noprior')) checkMaryLenetConfig(noPriorConfig(cfg));
}

/** Where a network came from. */
export interface NetSource {
  source: 'trained' | 'reused';
  /** The checkpoint folder it was loaded from (reused) or trained into. */
  checkpoint: string;
  epochs: number;
  /** Reused: whether the source run's run.json was there to compare the model knobs outside the fingerprint. */
  configChecked?: boolean;
}

interface ReuseCandidate {
  /** Checkpoint folder name in <folder>/checkpoints/. */
  name: string;
  /** The fit configuration that run trained with (its fingerprint identifies the checkpoint). */
  fitFor(folder: string): FitConfig;
  /** Configuration values the source run must have recorded in run.json (when it has one). */
  expect?: Record<string, unknown>;
}

/** A network of this experiment: one or more predictors evaluate it. */
interface Net {
  name: string;
  family: string;
  model: tf.LayersModel;
  origin: NetSource;
  info: Record<string, unknown>;
}

export const maryRobustnessMnist: Experiment<MaryRobustnessConfig> = {
  name: 'mary-robustness-mnist',
  description: 'Robustness under dataset shift (Ovadia et al. 2019; issue 12): float, TWN, STE, Bayesian M-ary (both recipes), MC dropout and a deep ensemble on rotated/corrupted MNIST and OOD sets.',
  defaults: {
    dataset: 'mnist', validation: DEFAULT_VALIDATION_COUNT, limitTrain: 0, limitTest: 0, seed: 1,
    models: [...ROBUSTNESS_FAMILIES], batchSize: 128, lr: 1e-3, fpEpochs: 12, fpMilestones: [8, 11], twnEpochs: 5, twnMilestones: [3, 4],
    steM: 3, recipes: ['qnnlab', 'paper'], Ms: [2, 3], priors: ['spikeslab', 'gaussian'], maryEpochs: 0, mcSamples: 10,
    dropoutRates: [0.25], ensembleSeeds: [1, 2, 3, 4, 5],
    rotations: [...ROTATION_DEGREES], corruptions: [...CORRUPTIONS], severities: [...SEVERITIES], shiftSeed: 0,
    oodSets: [...OOD_SETS], oodLimit: 0, eceBins: 15, reliabilityShift: 'rotate-60',
    reuseFrom: ['results/mary-lenet-mnist-qnnlab', 'results/mary-lenet-mnist-paper', 'results/mary-lenet-mnist-ablation'],
  },
  smoke: {
    limitTrain: 2048, limitTest: 300, validation: 256, fpEpochs: 4, fpMilestones: [], twnEpochs: 2, twnMilestones: [], maryEpochs: 1,
    Ms: [3], priors: ['spikeslab'], mcSamples: 3, ensembleSeeds: [1, 2], rotations: [0, 90, 180], corruptions: ['gaussian-noise', 'contrast'],
    severities: [5], oodLimit: 300, reliabilityShift: 'rotate-90', reuseFrom: [],
  },
  options: {
    models: listOf(oneOf(ROBUSTNESS_FAMILIES), { minLength: 1 }),
    twnEpochs: positiveInt,
    twnMilestones: listOf(nonNegativeInt),
    steM: int({ min: 2, max: 8 }),
    recipes: listOf(oneOf(() => RECIPE_NAMES)),
    maryEpochs: nonNegativeInt,
    dropoutRates: listOf(inRange(0, 1, '()')),
    ensembleSeeds: listOf(seedRule),
    rotations: listOf(inRange(0, 180)),
    corruptions: listOf(oneOf(CORRUPTIONS)),
    severities: listOf(oneOf(SEVERITIES)),
    shiftSeed: seedRule,
    oodSets: listOf(oneOf(OOD_SETS)),
    oodLimit: nonNegativeInt,
    eceBins: positiveInt,
    reliabilityShift: text,
    reuseFrom: listOf(text),
  },
  check: checkConfig,
  async run(cfg, ctx) {
    const log = (m: string) => {
      if (ctx.progress !== 'none') console.log(m);
    };
    const ds = holdOutValidation(await loadDataset(cfg.dataset, { limitTrain: cfg.limitTrain || undefined, limitTest: cfg.limitTest || undefined }), cfg.validation);
    // The OOD sets load first: a missing Fashion-MNIST stops the run before hours of training.
    const ood: { name: string; split: ImageSplit }[] = [];
    for (const name of cfg.oodSets) {
      ood.push({ name, split: await loadOodSet(name as OodSetName, { limit: cfg.oodLimit || (name === 'uniform-noise' ? DEFAULT_OOD_COUNT : undefined), seed: cfg.shiftSeed }) });
    }
    const history: HistoryRow[] = [];
    const notes: string[] = [];
    const nets: Net[] = [];
    const tTrain = Date.now();
    const has = (f: string) => cfg.models.includes(f);

    // --- Networks -------------------------------------------------------------------------------------------
    const reuse = async (label: string, build: () => tf.LayersModel, candidates: ReuseCandidate[]): Promise<{ model: tf.LayersModel; origin: NetSource } | null> => {
      for (const folder of cfg.reuseFrom) {
        let runConfig: Record<string, unknown> | null = null;
        try {
          runConfig = (JSON.parse(fs.readFileSync(path.join(folder, 'run.json'), 'utf8')).config ?? null) as Record<string, unknown> | null;
        } catch {
          runConfig = null; // a run still training has no run.json yet
        }
        for (const c of candidates) {
          const dir = path.join(folder, 'checkpoints', c.name);
          if (!hasCheckpoint(dir)) continue;
          const fitCfg = c.fitFor(folder);
          if (runConfig && c.expect) {
            const differ = Object.keys(c.expect).filter((k) => k in runConfig! && canonical(runConfig![k]) !== canonical(c.expect![k]));
            if (differ.length > 0) {
              notes.push(`${label}: not reused from ${dir}: its run.json differs in ${differ.join(', ')}`);
              continue;
            }
          }
          const model = build();
          try {
            const st = await loadCheckpoint(dir, model, null);
            const problem = st.extra?.fingerprint !== fingerprintOf(fitCfg, ds) ? 'its fingerprint (training settings and data) differs'
              : st.epoch !== fitCfg.epochs ? `it has ${st.epoch} of ${fitCfg.epochs} epochs`
                : (st as { partialEpoch?: unknown }).partialEpoch != null ? 'it was written inside an epoch' : null;
            if (problem) {
              notes.push(`${label}: not reused from ${dir}: ${problem}`);
              model.dispose();
              continue;
            }
            history.push(...st.history.map((r) => ({ ...r, variant: label, reusedFrom: dir })));
            log(`${label}: loaded ${st.epoch} epochs from ${dir} (read-only)`);
            return { model, origin: { source: 'reused', checkpoint: dir, epochs: st.epoch, configChecked: runConfig != null } };
          } catch (e) {
            notes.push(`${label}: not reused from ${dir}: ${(e as Error).message}`);
            model.dispose();
          }
        }
      }
      return null;
    };

    const floatOpts = (seed: number): FloatLenetOptions => ({ epochs: cfg.fpEpochs, batchSize: cfg.batchSize, lr: cfg.lr, milestones: cfg.fpMilestones, seed });
    const inputShape: [number, number, number] = [ds.height, ds.width, ds.channels];
    /** A float LeNet-5 (optionally with dropout): reused, or trained into outDir/checkpoints/<name>. */
    const floatNet = async (name: string, seed: number, dropout = 0): Promise<{ model: tf.LayersModel; origin: NetSource }> => {
      const build = () => buildModel('lenet5', { ...(dropout > 0 ? { dropout } : {}), seed, inputShape, numClasses: ds.numClasses });
      const found = await reuse(name, build, [{ name, fitFor: (folder) => floatFitConfig(floatOpts(seed), folder, ctx, name) }]);
      if (found) return found;
      const r = await trainFloatLenet5(ds, floatOpts(seed), ctx, history, true, { name, modelOptions: dropout > 0 ? { dropout } : undefined });
      history.push(...r.history);
      return { model: r.model!, origin: { source: 'trained', checkpoint: path.join(ctx.outDir, 'checkpoints', name), epochs: r.history.length } };
    };
    const floats = new Map<number, { model: tf.LayersModel; origin: NetSource }>();
    const floatOfSeed = async (seed: number) => {
      if (!floats.has(seed)) floats.set(seed, await floatNet(seed === cfg.seed ? 'fp' : `fp-s${seed}`, seed));
      return floats.get(seed)!;
    };

    if (has('fp')) {
      const f = await floatOfSeed(cfg.seed);
      nets.push({ name: 'fp', family: 'fp', model: f.model, origin: f.origin, info: { seed: cfg.seed } });
    }

    if (has('twn')) {
      const model = buildModel('lenet5', { ...methodOptions('twn'), seed: cfg.seed, inputShape, numClasses: ds.numClasses });
      const res = await fit(model, ds, {
        epochs: cfg.twnEpochs, batchSize: cfg.batchSize, seed: cfg.seed, variant: 'twn',
        optimizer: { name: 'adam', lr: cfg.lr }, schedule: { name: 'multistep', milestones: cfg.twnMilestones, gamma: 0.1 },
        checkpointDir: path.join(ctx.outDir, 'checkpoints', 'twn'), resume: ctx.resume, progress: ctx.progress,
      }, {
        onEpochEnd: (row, rows) => {
          ctx.live?.update([...history, ...rows]);
          ctx.onEpoch?.(row, [...history, ...rows]);
        },
      });
      res.optimizer.dispose();
      history.push(...res.history);
      nets.push({ name: 'twn', family: 'twn', model, origin: { source: 'trained', checkpoint: path.join(ctx.outDir, 'checkpoints', 'twn'), epochs: res.history.length }, info: {} });
    }

    /** A Bayesian M-ary (or no-prior STE) net: reused from mary-lenet-mnist's checkpoints, or trained here. */
    const maryNet = async (name: string, rc: MaryLenetMnistConfig, M: number, prior: string, candidates: string[]) => {
      const expect = Object.fromEntries([...MARY_MODEL_KEYS, ...(rc.initFromFloat ? FLOAT_START_KEYS : [])].map((k) => [k, rc[k]]));
      // The checkpoint holds every weight: the float start is not needed to load it.
      const found = await reuse(name, () => buildMaryLenet({ ...rc, initFromFloat: false }, ds, M, null),
        candidates.map((c) => ({ name: c, fitFor: (folder) => maryFitConfig(prior, rc, folder, ctx, c), expect })));
      if (found) return { ...found, training: null };
      const model = buildMaryLenet(rc, ds, M, rc.initFromFloat ? (await floatOfSeed(cfg.seed)).model : null);
      const r = await trainMaryVariant(model, ds, M, prior, rc, ctx, history, name);
      history.push(...r.history);
      // The trainer's own final evaluation (validation and test accuracies, memory), without the per-layer arrays.
      const training = Object.fromEntries(Object.entries(r.variant).filter(([k]) => !['name', 'sigma', 'levels', 'partitions', 'levelCounts', 'quantizationLoss'].includes(k)));
      return { model, origin: { source: 'trained' as const, checkpoint: path.join(ctx.outDir, 'checkpoints', name), epochs: r.history.length }, training };
    };
    const bayesInfo = (model: tf.LayersModel, extra: Record<string, unknown>) => {
      const sigma = posteriorSigma(model);
      const near = (v: number, init: number) => Math.abs(v / init - 1) <= SIGMA_AT_INITIAL_TOLERANCE;
      const atInitial = sigma.every((s) => near(s.median, s.initial) && near(s.p90, s.initial));
      return { ...extra, sigma, sigmaAtInitial: atInitial };
    };

    if (has('ste-noprior')) {
      const rc = noPriorConfig(cfg);
      const name = `ste-M${cfg.steM}-noprior`;
      const r = await maryNet(name, rc, cfg.steM, 'spikeslab', [`no-prior-s${cfg.seed}`]);
      nets.push({ name, family: 'ste-noprior', model: r.model, origin: r.origin, info: { recipe: 'qnnlab', M: cfg.steM, klLambda: 0, trainForward: rc.trainForward, training: r.training } });
    }

    if (has('bayesian')) {
      for (const recipe of cfg.recipes) {
        const rc = maryConfigFor(recipe, cfg);
        for (const M of cfg.Ms) {
          for (const prior of cfg.priors) {
            const name = `${recipe}-${variantName(M, prior)}`;
            const r = await maryNet(name, rc, M, prior, [variantName(M, prior)]);
            const info = bayesInfo(r.model, { recipe, M, prior, trainForward: rc.trainForward, training: r.training });
            if (info.sigmaAtInitial) {
              notes.push(`${name}: the posterior σ is at its initial value e^${rc.logSigma2Init / 2} in every layer (median and 90th percentile within ` +
                `${SIGMA_AT_INITIAL_TOLERANCE * 100} %): the posterior is effectively a point mass and the MC predictive is the deterministic net plus that noise.`);
            }
            nets.push({ name, family: 'bayesian', model: r.model, origin: r.origin, info });
          }
        }
      }
    }

    let dropoutChoice: Record<string, unknown> | null = null;
    if (has('mc-dropout')) {
      const candidates: { rate: number; model: tf.LayersModel; origin: NetSource; validationNll: number | null }[] = [];
      for (const rate of cfg.dropoutRates) {
        const d = await floatNet(`dropout-${rate}`, cfg.seed, rate);
        let validationNll: number | null = null;
        if (ds.validation && cfg.dropoutRates.length > 1) {
          const p = mcDropoutPredictor('select', d.model, cfg.mcSamples);
          const undo = p.prepare!();
          try {
            validationNll = setMetrics(predictSplit(p, ds, ds.validation), cfg.eceBins).metrics.nll;
          } finally {
            undo();
          }
        }
        candidates.push({ rate, ...d, validationNll });
      }
      const best = candidates.reduce((a, b) => ((b.validationNll ?? Infinity) < (a.validationNll ?? Infinity) ? b : a));
      dropoutChoice = {
        rate: best.rate, chosenBy: candidates.length === 1 ? 'the only rate given' : ds.validation ? 'lowest validation NLL of the MC predictive' : 'first rate (no validation split)',
        candidates: candidates.map((c) => ({ rate: c.rate, validationNll: c.validationNll })),
      };
      for (const c of candidates) if (c !== best) c.model.dispose();
      nets.push({ name: 'dropout', family: 'mc-dropout', model: best.model, origin: best.origin, info: { rate: best.rate, selection: dropoutChoice } });
    }

    let ensembleMembers: { seed: number; model: tf.LayersModel; origin: NetSource }[] = [];
    if (has('ensemble')) {
      for (const seed of cfg.ensembleSeeds) ensembleMembers.push({ seed, ...(await floatOfSeed(seed)) });
    }
    const trainingSeconds = (Date.now() - tTrain) / 1000;

    // --- Predictors ----------------------------------------------------------------------------------------
    /** `models`: the networks whose weights the predictor uses (they key its saved evaluation). */
    interface Entry { predictor: Predictor; net: string; models: tf.LayersModel[]; group: string; main: boolean; extra: Record<string, unknown> }
    const entries: Entry[] = [];
    for (const n of nets) {
      if (n.family === 'fp' || n.family === 'twn') {
        entries.push({ predictor: deterministicPredictor(n.name, n.model), net: n.name, models: [n.model], group: 'baselines', main: true, extra: {} });
      } else if (n.family === 'ste-noprior') {
        entries.push({ predictor: deterministicPredictor(n.name, n.model, { mode: 'quantized' }), net: n.name, models: [n.model], group: 'baselines', main: true, extra: { mode: 'quantized' } });
      } else if (n.family === 'mc-dropout') {
        entries.push({ predictor: deterministicPredictor('dropout-det', n.model), net: n.name, models: [n.model], group: 'baselines', main: false, extra: { rate: n.info.rate } });
        entries.push({ predictor: mcDropoutPredictor('mc-dropout', n.model, cfg.mcSamples), net: n.name, models: [n.model], group: 'baselines', main: true, extra: { rate: n.info.rate } });
      } else if (n.family === 'bayesian') {
        const trained = trainedModes(n.info.trainForward as 'mean' | 'ste');
        const recipe = n.info.recipe as string;
        const sigmaAtInitial = n.info.sigmaAtInitial;
        // The deployed net Q(θ): batch norm re-estimated when training did not see Q(θ).
        entries.push({
          predictor: deterministicPredictor(`${n.name}-q`, n.model, { mode: 'quantized', recalibrate: trained.deterministic !== 'quantized' ? { ds } : undefined }),
          net: n.name, models: [n.model], group: recipe, main: false, extra: { mode: 'quantized', bnRecalibrated: trained.deterministic !== 'quantized' },
        });
        if (trained.deterministic !== 'quantized') {
          entries.push({ predictor: deterministicPredictor(`${n.name}-${trained.deterministic}`, n.model, { mode: trained.deterministic }), net: n.name, models: [n.model], group: recipe, main: false, extra: { mode: trained.deterministic } });
        }
        entries.push({ predictor: bayesMcPredictor(`${n.name}-mc`, n.model, trained.sample as 'sample' | 'sampleQuantized', cfg.mcSamples), net: n.name, models: [n.model], group: recipe, main: true, extra: { mode: trained.sample, weightDraws: 'one per sample and 500-image batch', sigmaAtInitial } });
      }
    }
    if (ensembleMembers.length > 0) {
      entries.push({
        predictor: ensemblePredictor('ensemble', ensembleMembers.map((m) => m.model)), net: 'ensemble', models: ensembleMembers.map((m) => m.model), group: 'baselines', main: true,
        extra: { seeds: ensembleMembers.map((m) => m.seed) },
      });
    }

    // --- Evaluation ----------------------------------------------------------------------------------------
    const specs = configShifts(cfg);
    const cache = new Map<string, ImageSplit>();
    const sets: EvaluationSets = {
      clean: ds.test,
      // Rotation by 0° is the identity: the clean test set stands for it.
      shifts: specs.filter((s) => !(s.kind === 'rotate' && s.level === 0)).map((s) => ({
        name: shiftName(s),
        get: () => {
          const key = shiftName(s);
          if (!cache.has(key)) cache.set(key, shiftedSplit(ds.test, s, cfg.shiftSeed));
          return cache.get(key)!;
        },
      })),
      ood, validation: ds.validation,
    };
    // Every finished evaluation is saved (keyed by the weights and these settings): a rerun, or a process
    // evaluating other networks, reuses it instead of spending the Monte-Carlo passes again.
    const evalDir = path.join(ctx.outDir, 'checkpoints', 'evaluations');
    const evalSettings = {
      dataset: cfg.dataset, train: ds.train.count, test: ds.test.count, validation: ds.validation?.count ?? 0, eceBins: cfg.eceBins,
      reliabilityShift: cfg.reliabilityShift, shiftSeed: cfg.shiftSeed, shifts: sets.shifts.map((s) => s.name),
      ood: ood.map((o) => ({ name: o.name, count: o.split.count })),
    };
    const digests = new Map<tf.LayersModel, string>();
    const digestOf = (m: tf.LayersModel) => {
      if (!digests.has(m)) digests.set(m, weightsDigest([m]));
      return digests.get(m)!;
    };
    const tEval = Date.now();
    const results: { entry: Entry; ev: PredictorEvaluation }[] = [];
    for (const e of entries) {
      const p = e.predictor;
      const key = evaluationKey({ predictor: p.name, kind: p.kind, samples: p.samples, extra: e.extra, weights: e.models.map(digestOf), settings: evalSettings });
      const saved = ctx.resume ? loadEvaluation(evalDir, p.name, key) : { evaluation: null, why: null };
      if (saved.why) log(`${p.name}: evaluating again: ${saved.why}`);
      const ev = saved.evaluation ?? evaluatePredictor(p, ds, sets, { eceBins: cfg.eceBins, reliabilityOf: cfg.reliabilityShift ? [cfg.reliabilityShift] : [] });
      if (!saved.evaluation) saveEvaluation(evalDir, p.name, key, ev);
      log(`${p.name}: clean accuracy ${(100 * ev.clean.accuracy).toFixed(2)} %, ECE ${ev.clean.ece.toFixed(4)}, ` +
        `${sets.shifts.length} shifts and ${ood.length} OOD sets in ${ev.seconds.toFixed(1)} s${saved.evaluation ? ' (saved evaluation)' : ''}`);
      results.push({ entry: e, ev });
    }
    const evaluationSeconds = (Date.now() - tEval) / 1000;

    // --- Summary, tables ---------------------------------------------------------------------------------
    const withRotate0 = (ev: PredictorEvaluation): Record<string, ShiftMetrics> => {
      const out: Record<string, ShiftMetrics> = {};
      for (const s of specs) out[shiftName(s)] = s.kind === 'rotate' && s.level === 0 ? ev.clean : ev.shifts[shiftName(s)];
      return out;
    };
    const variants: VariantSummary[] = results.map(({ entry: e, ev }) => ({
      name: e.predictor.name, net: e.net, kind: e.predictor.kind, group: e.group, samples: e.predictor.samples, ...e.extra,
      testAccuracy: ev.clean.accuracy,
      validation: ev.validation, clean: ev.clean, shifts: withRotate0(ev), ood: ev.ood, seconds: ev.seconds,
    }));
    const shiftRows: Row[] = [];
    for (const { entry: e, ev } of results) {
      shiftRows.push({ model: e.predictor.name, kind: e.predictor.kind, shift: 'clean', shiftKind: 'none', level: 0, ...metricCells(ev.clean) });
      for (const s of specs) shiftRows.push({ model: e.predictor.name, kind: e.predictor.kind, shift: shiftName(s), shiftKind: s.kind, level: s.level, ...metricCells(withRotate0(ev)[shiftName(s)]) });
    }
    const oodRows: Row[] = results.flatMap(({ entry: e, ev }) => ev.ood.map((o: OodResult) => ({ model: e.predictor.name, kind: e.predictor.kind, ...o })));
    writeCsv(shiftRows, path.join(ctx.outDir, 'shift-metrics.csv'));
    if (oodRows.length > 0) writeCsv(oodRows, path.join(ctx.outDir, 'ood.csv'));

    // --- Figures -------------------------------------------------------------------------------------------
    const figures: string[] = [];
    const save = async (spec: Parameters<typeof savePlot>[0], name: string) => {
      await savePlot(spec, path.join(ctx.outDir, name));
      figures.push(name);
    };
    const groups = [...new Set(results.map((r) => r.entry.group))];
    const rotations = cfg.rotations.slice().sort((a, b) => a - b);
    for (const g of groups) {
      // Each Bayesian group carries the float net as its reference line.
      const inGroup = results.filter((r) => r.entry.group === g || (g !== 'baselines' && r.entry.predictor.name === 'fp'));
      if (rotations.length > 1) {
        const rows = inGroup.flatMap(({ entry: e, ev }) => rotations.map((d) => {
          const m = withRotate0(ev)[`rotate-${d}`];
          return { model: e.predictor.name, angle: d, accuracy: m.accuracy, ece: m.ece, nll: m.nll };
        }));
        await save(curves({
          rows, x: 'angle', y: ['accuracy', 'ece'], color: 'model', titles: { angle: 'rotation (degrees)', ece: `ECE (${cfg.eceBins} bins)` },
          title: `Rotated MNIST test set: accuracy and calibration (${g})`,
        }), `rotation-${g}`);
      }
      if (cfg.corruptions.length > 0) {
        const rows = inGroup.flatMap(({ entry: e, ev }) => [0, ...cfg.severities.slice().sort((a, b) => a - b)].map((sev) => {
          const ms = sev === 0 ? [ev.clean] : cfg.corruptions.map((c) => ev.shifts[`${c}-${sev}`]);
          const avg = (k: 'accuracy' | 'ece') => ms.reduce((s, m) => s + m[k], 0) / ms.length;
          return { model: e.predictor.name, severity: sev, accuracy: avg('accuracy'), ece: avg('ece') };
        }));
        await save(curves({
          rows, x: 'severity', y: ['accuracy', 'ece'], color: 'model', titles: { severity: 'corruption severity (0 = clean)', ece: `ECE (${cfg.eceBins} bins)` },
          title: `Corrupted MNIST (mean over ${cfg.corruptions.join(', ')}): accuracy and calibration (${g})`,
        }), `corruptions-${g}`);
      }
    }
    const main = results.filter((r) => r.entry.main);
    const reliabilityRows = main.flatMap(({ entry: e, ev }) => Object.entries(ev.reliability).flatMap(([set, bins]) => bins
      .filter((b) => b.count > 0).map((b) => ({ model: e.predictor.name, set, confidence: b.confidence, accuracy: b.accuracy, count: b.count }))));
    await save(reliabilityDiagram({ rows: reliabilityRows, title: `Reliability diagrams (${cfg.eceBins} bins): clean test set${cfg.reliabilityShift ? ` and ${cfg.reliabilityShift}` : ''}` }), 'reliability');
    const maxEntropy = Math.log(ds.numClasses);
    const entropyRows = main.flatMap(({ entry: e, ev }) => Object.entries(ev.entropy).flatMap(([set, values]) => histogramRows(values, 0, maxEntropy, 30, { model: e.predictor.name, set })));
    await save(scoreHistogram({ rows: entropyRows, title: 'Predictive entropy on the MNIST test set (clean) and on the OOD sets' }), 'entropy');
    if (oodRows.length > 0) {
      // Columns set by set, each with its scores in a fixed order; short labels (MSP = 1 − max-softmax, H = entropy, MI = mutual information).
      const short: Record<string, string> = { 'max-softmax': 'MSP', entropy: 'H', 'mutual-information': 'MI' };
      const cells = oodRows
        .map((r) => ({ model: r.model as string, set: r.set as string, score: r.score as string, auroc: r.auroc as number }))
        .sort((a, b) => cfg.oodSets.indexOf(a.set) - cfg.oodSets.indexOf(b.set) || OOD_SCORES.indexOf(a.score as OodScore) - OOD_SCORES.indexOf(b.score as OodScore))
        .map((r) => ({ model: r.model, test: `${r.set} · ${short[r.score] ?? r.score}`, AUROC: r.auroc }));
      await save(scoreTable({
        rows: cells, x: 'test', y: 'model', value: 'AUROC',
        title: 'OOD detection AUROC: MNIST test set vs each OOD set', subtitle: 'scores: MSP = 1 − max-softmax, H = predictive entropy, MI = mutual information',
      }), 'ood-auroc');
    }

    // --- Nets summary --------------------------------------------------------------------------------------
    const netSummaries = [
      ...nets.map((n) => ({ name: n.name, family: n.family, ...n.origin, ...n.info })),
      ...ensembleMembers.map((m) => ({ name: `ensemble member seed ${m.seed}`, family: 'ensemble', seed: m.seed, ...m.origin })),
    ];
    for (const n of netSummaries) if (n.source === 'reused' && n.configChecked === false) notes.push(`${n.name}: reused from ${n.checkpoint}, whose run has no run.json yet: fingerprint and epochs matched, the model knobs outside the fingerprint were not compared.`);
    notes.push('rotate-0 is the clean test set (a rotation by 0° is the identity): its metrics are those of `clean`.');
    for (const m of [...new Set([...nets.map((n) => n.model), ...ensembleMembers.map((m) => m.model)])]) m.dispose();

    return {
      history, variants, figures,
      extra: {
        config: cfg,
        nets: netSummaries,
        oodTable: oodRows,
        sets: {
          test: ds.test.count, validation: ds.validation?.count ?? 0, shifts: specs.map(shiftName),
          ood: ood.map((o) => ({ name: o.name, count: o.split.count })), shiftSeed: cfg.shiftSeed,
        },
        ...(dropoutChoice ? { dropout: dropoutChoice } : {}),
        notes,
        seconds: { training: trainingSeconds, evaluation: evaluationSeconds },
      },
    };
  },
};

function metricCells(m: ShiftMetrics): Row {
  return {
    accuracy: m.accuracy, nll: m.nll, brier: m.brier, ece: m.ece, mce: m.mce, meanConfidence: m.meanConfidence,
    meanEntropy: m.meanEntropy, meanMutualInformation: m.meanMutualInformation, count: m.count,
  };
}
