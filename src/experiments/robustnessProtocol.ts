/**
 * Running trained networks through the robustness protocol of docs/robustness.md (Ovadia et al. 2019): a
 * *predictor* turns a batch of images into predictive probabilities (and, when it has a predictive distribution,
 * the mutual information of every example); `evaluatePredictor` runs one predictor on the clean test set, on every
 * shifted test set and on the OOD sets, and reduces the predictions to the metrics of src/robustness (accuracy, NLL,
 * Brier, ECE with its reliability bins, entropy, AUROC and AUPR of three OOD scores).
 *
 * Predictors:
 *  - `deterministicPredictor`: one softmax per image; for a Bayesian M-ary net, one of its deterministic modes
 *    (a mode training did not see gets its batch-norm statistics re-estimated, as src/bayes/evaluation.ts does);
 *  - `bayesMcPredictor`: the Monte-Carlo predictive of a Bayesian net, S weight samples around the trained centre
 *    (`mcPredict` with the sample mode of `trainedModes`);
 *  - `mcDropoutPredictor`: S passes with the McDropout layers on and batch norm in inference mode;
 *  - `ensemblePredictor`: the average of the members' softmax outputs (Lakshminarayanan et al. 2017).
 * Every random draw is seeded per batch, so a predictor gives the same numbers on every run.
 */
import * as tf from '@tensorflow/tfjs';
import { batches, type ImageDataset, type ImageSplit, type NormalizeMode } from '../data';
import { mcPredict, recalibrateBatchNorm, restoreModes, setMode, type VariationalMode } from '../bayes';
import { setMonteCarloDropout } from '../layers/mcDropout';
import { installSeededMathRandom } from '../train';
import { Rng } from '../util/random';
import {
  accuracy, aupr, auroc, brierScore, expectedCalibrationError, maxSoftmaxProbability, meanProbabilities, mutualInformation,
  negativeLogLikelihood, predictiveEntropy, type CalibrationBin,
} from '../robustness';

export type PredictorKind = 'deterministic' | 'bayes-mc' | 'mc-dropout' | 'ensemble';

export interface Predictor {
  /** Row name in tables and figures. */
  name: string;
  kind: PredictorKind;
  /** Forward passes averaged per image (1 for a deterministic net). */
  samples: number;
  /** A predictive distribution over weights/masks/members: mutual information is defined. */
  hasDistribution: boolean;
  /** Set the networks up for this predictor (modes, batch-norm statistics); returns the function that undoes it. */
  prepare?(): () => void;
  /** Mean predictive probabilities (n×k, row-major) of one batch and, with a distribution, the mutual information. */
  predictBatch(x: tf.Tensor4D, batchIndex: number): { probs: Float32Array; mi: Float64Array | Float32Array | null };
}

function softmaxOf(model: tf.LayersModel, x: tf.Tensor4D): Float32Array {
  const p = tf.tidy(() => tf.softmax(model.apply(x, { training: false }) as tf.Tensor));
  const out = p.dataSync() as Float32Array;
  p.dispose();
  return Float32Array.from(out);
}

/**
 * One deterministic network. With `mode`, every variational layer is switched to it while predicting; with
 * `recalibrate`, batch norm is re-estimated for that mode on the training data first and restored afterwards.
 */
export function deterministicPredictor(
  name: string, model: tf.LayersModel,
  opts: { mode?: VariationalMode; recalibrate?: { ds: ImageDataset; normalize?: NormalizeMode } } = {},
): Predictor {
  return {
    name, kind: 'deterministic', samples: 1, hasDistribution: false,
    prepare: opts.mode
      ? () => {
        const restoreBn = opts.recalibrate ? recalibrateBatchNorm(model, opts.recalibrate.ds, opts.mode!, { normalize: opts.recalibrate.normalize }) : null;
        const modes = setMode(model, opts.mode!);
        return () => {
          restoreModes(model, modes);
          restoreBn?.();
        };
      }
      : undefined,
    predictBatch: (x) => ({ probs: softmaxOf(model, x), mi: null }),
  };
}

/**
 * The Monte-Carlo predictive of a Bayesian M-ary net: `samples` weight draws in `sampleMode` per batch, each draw
 * shared by the whole batch (model.predict's default batch of 32 would draw again every 32 images: the same
 * predictive in expectation, four times slower).
 */
export function bayesMcPredictor(name: string, model: tf.LayersModel, sampleMode: 'sample' | 'sampleQuantized', samples: number, seed = 12345): Predictor {
  return {
    name, kind: 'bayes-mc', samples, hasDistribution: true,
    predictBatch: (x, batchIndex) => {
      const p = mcPredict(model, x, { samples, seed: seed + batchIndex, mode: sampleMode, batchSize: x.shape[0] });
      const probs = Float32Array.from(p.probs.dataSync());
      const mi = Float32Array.from(p.mutualInformation.dataSync());
      tf.dispose([p.probs, p.entropy, p.expectedEntropy, p.mutualInformation]);
      return { probs, mi };
    },
  };
}

/** Monte-Carlo dropout: `samples` passes with the McDropout layers on, batch norm in inference mode. */
export function mcDropoutPredictor(name: string, model: tf.LayersModel, samples: number, seed = 12345): Predictor {
  return {
    name, kind: 'mc-dropout', samples, hasDistribution: true,
    prepare: () => {
      if (setMonteCarloDropout(model, true) === 0) throw new Error(`${name}: the model has no McDropout layers`);
      return () => void setMonteCarloDropout(model, false);
    },
    predictBatch: (x, batchIndex) => {
      // tf.dropout seeds each mask from Math.random: a seeded stream per batch makes the masks reproducible.
      const restore = installSeededMathRandom(new Rng((seed * 7919 + batchIndex) >>> 0));
      try {
        const draws: Float32Array[] = [];
        for (let s = 0; s < samples; s++) draws.push(softmaxOf(model, x));
        const k = draws[0].length / x.shape[0];
        return { probs: meanProbabilities(draws), mi: mutualInformation(draws, k) };
      } finally {
        restore();
      }
    },
  };
}

/** A deep ensemble: the mean of the members' softmax outputs; the mutual information is their disagreement. */
export function ensemblePredictor(name: string, members: tf.LayersModel[]): Predictor {
  if (members.length === 0) throw new Error(`${name}: an ensemble needs members`);
  return {
    name, kind: 'ensemble', samples: members.length, hasDistribution: true,
    predictBatch: (x) => {
      const draws = members.map((m) => softmaxOf(m, x));
      const k = draws[0].length / x.shape[0];
      return { probs: meanProbabilities(draws), mi: members.length > 1 ? mutualInformation(draws, k) : new Float64Array(x.shape[0]) };
    },
  };
}

export interface SetPredictions {
  probs: Float32Array;
  /** Per-example mutual information (null without a predictive distribution). */
  mi: Float64Array | null;
  labels: Uint8Array;
  numClasses: number;
}

/** A predictor's outputs on one image split (the predictor must be prepared). */
export function predictSplit(p: Predictor, ds: ImageDataset, split: ImageSplit, opts: { normalize?: NormalizeMode; batchSize?: number } = {}): SetPredictions {
  const k = ds.numClasses;
  const probs = new Float32Array(split.count * k);
  const mi = p.hasDistribution ? new Float64Array(split.count) : null;
  const view: ImageDataset = { ...ds, test: split, validation: undefined };
  let offset = 0;
  let batchIndex = 0;
  for (const b of batches(view, 'test', { batchSize: opts.batchSize ?? 500, normalize: opts.normalize })) {
    try {
      const r = p.predictBatch(b.x, batchIndex++);
      probs.set(r.probs, offset * k);
      if (mi && r.mi) mi.set(r.mi, offset);
      offset += b.size;
    } finally {
      tf.dispose([b.x, b.y]);
    }
  }
  return { probs, mi, labels: split.labels.slice(0, split.count), numClasses: k };
}

export interface ShiftMetrics {
  accuracy: number;
  nll: number;
  brier: number;
  ece: number;
  mce: number;
  /** Mean max-probability and mean predictive entropy (nats). */
  meanConfidence: number;
  meanEntropy: number;
  /** Mean mutual information (nats); null without a predictive distribution. */
  meanMutualInformation: number | null;
  count: number;
}

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return xs.length ? s / xs.length : NaN;
}

/** The calibration and accuracy metrics of one set, and its reliability bins. */
export function setMetrics(pred: SetPredictions, eceBins: number): { metrics: ShiftMetrics; bins: CalibrationBin[] } {
  const cal = expectedCalibrationError(pred.probs, pred.labels, { bins: eceBins });
  return {
    metrics: {
      accuracy: accuracy(pred.probs, pred.labels),
      nll: negativeLogLikelihood(pred.probs, pred.labels),
      brier: brierScore(pred.probs, pred.labels),
      ece: cal.ece,
      mce: cal.mce,
      meanConfidence: mean(maxSoftmaxProbability(pred.probs, pred.numClasses)),
      meanEntropy: mean(predictiveEntropy(pred.probs, pred.numClasses)),
      meanMutualInformation: pred.mi ? mean(pred.mi) : null,
      count: pred.labels.length,
    },
    bins: cal.bins,
  };
}

export const OOD_SCORES = ['max-softmax', 'entropy', 'mutual-information'] as const;
export type OodScore = (typeof OOD_SCORES)[number];

/** The OOD scores of a set, each pointing towards OOD (1 − max-probability, entropy, mutual information). */
export function oodScores(pred: SetPredictions): Partial<Record<OodScore, Float64Array>> {
  const msp = maxSoftmaxProbability(pred.probs, pred.numClasses);
  for (let i = 0; i < msp.length; i++) msp[i] = 1 - msp[i];
  const out: Partial<Record<OodScore, Float64Array>> = { 'max-softmax': msp, entropy: predictiveEntropy(pred.probs, pred.numClasses) };
  if (pred.mi) out['mutual-information'] = pred.mi;
  return out;
}

export interface OodResult {
  set: string;
  score: OodScore;
  auroc: number;
  /** Average precision with the OOD images as positives. */
  aupr: number;
  nIn: number;
  nOut: number;
}

/** AUROC and AUPR (OOD = positive) of every score of `inPred` (the clean test set) against `outPred`. */
export function oodDetection(set: string, inPred: SetPredictions, outPred: SetPredictions): OodResult[] {
  const sIn = oodScores(inPred);
  const sOut = oodScores(outPred);
  return OOD_SCORES.filter((s) => sIn[s] && sOut[s]).map((score) => ({
    set, score, auroc: auroc(sIn[score]!, sOut[score]!), aupr: aupr(sIn[score]!, sOut[score]!, { positive: 'out' }),
    nIn: inPred.labels.length, nOut: outPred.labels.length,
  }));
}

export interface EvaluationSets {
  /** The unshifted test split. */
  clean: ImageSplit;
  /** Shifted test sets by name ('rotate-90', 'contrast-3'); produced on first use (`get`), then cached by the caller. */
  shifts: { name: string; get(): ImageSplit }[];
  /** Out-of-distribution sets by name. */
  ood: { name: string; split: ImageSplit }[];
  validation?: ImageSplit;
}

export interface PredictorEvaluation {
  clean: ShiftMetrics;
  /** Metrics per shifted set, by name. */
  shifts: Record<string, ShiftMetrics>;
  /** Reliability bins of the clean set and of each set named in `reliabilityOf`. */
  reliability: Record<string, CalibrationBin[]>;
  ood: OodResult[];
  /** Entropy of every example of the clean and OOD sets (for histograms), by set name. */
  entropy: Record<string, Float64Array>;
  validation: ShiftMetrics | null;
  seconds: number;
}

/** Run one predictor through the whole protocol. */
export function evaluatePredictor(
  p: Predictor, ds: ImageDataset, sets: EvaluationSets,
  opts: { eceBins: number; reliabilityOf?: string[]; normalize?: NormalizeMode },
): PredictorEvaluation {
  const t0 = Date.now();
  const undo = p.prepare?.();
  try {
    const run = (split: ImageSplit) => predictSplit(p, ds, split, { normalize: opts.normalize });
    const cleanPred = run(sets.clean);
    const clean = setMetrics(cleanPred, opts.eceBins);
    const reliability: Record<string, CalibrationBin[]> = { clean: clean.bins };
    const shifts: Record<string, ShiftMetrics> = {};
    for (const s of sets.shifts) {
      const m = setMetrics(run(s.get()), opts.eceBins);
      shifts[s.name] = m.metrics;
      if (opts.reliabilityOf?.includes(s.name)) reliability[s.name] = m.bins;
    }
    const entropy: Record<string, Float64Array> = { clean: predictiveEntropy(cleanPred.probs, cleanPred.numClasses) };
    const ood: OodResult[] = [];
    for (const o of sets.ood) {
      const outPred = run(o.split);
      ood.push(...oodDetection(o.name, cleanPred, outPred));
      entropy[o.name] = predictiveEntropy(outPred.probs, outPred.numClasses);
    }
    const validation = sets.validation ? setMetrics(run(sets.validation), opts.eceBins).metrics : null;
    return { clean: clean.metrics, shifts, reliability, ood, entropy, validation, seconds: (Date.now() - t0) / 1000 };
  } finally {
    undo?.();
  }
}
