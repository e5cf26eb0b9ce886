/**
 * Packed models of a finished experiment run (`npm run export`, src/cli/export.ts): rebuild the trained model
 * of one variant from the run's `run.json` configuration and its checkpoint `<run>/checkpoints/<variant>`,
 * exactly as the experiment built it, pack it (src/export, docs/packed-format.md), and keep the file only
 * when the loaded file reproduces the checkpoint model's logits bit for bit on MNIST test images.
 *
 *   rebuildVariant   the model of one variant with its checkpoint's weights (and the data set of the run)
 *   exportVariant    rebuild, pack, verify, write <run>/models/<variant>.qnnp (or --out) and models.json
 *   exportAll        every variant that has a checkpoint, and <run>/models.json
 *
 * Which experiments: lenet-mnist, mary-lenet-mnist, mary-lenet-mnist-ablation, zoo-mnist, the CIFAR zoo and SQ
 * experiments and mary-densenet40-cifar10 (the last four need their data set, as the run did).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { recalibrateBatchNorm, setMode, trainedModes } from '../bayes';
import { batches, holdOutValidation, loadDataset, numBatches, type ImageDataset, type NormalizeMode } from '../data';
import { PACKED_EXTENSION, loadPacked, packModel, unpackPosterior } from '../export';
import { buildModel, methodOptions, methodPreset, type ModelName } from '../models';
import { quantizedLayers } from '../layers';
import { sqRatioSchedule } from '../quantizers';
import { summary } from '../summary';
import { evaluate, hasCheckpoint, loadCheckpoint } from '../train';
import type { Config } from './config';
import { getExperiment } from './run';
import { loadCifarForExperiment, type CifarDataConfig } from './cifarData';
import { checkMaryOptions } from './maryCommon';
import { buildMaryLenet, type MaryLenetMnistConfig } from './maryLenetMnist';
import { ABLATION_ROWS } from './maryLenetAblation';

export { PACKED_EXTENSION };

export interface RunInfo {
  dir: string;
  experiment: string;
  config: Config;
  smoke: boolean;
  /** run.json as written by runExperiment. */
  run: Record<string, unknown>;
  /** summary.json, when present. */
  summary: Record<string, unknown> | null;
  /** Configuration keys run.json lacks (an older run), taken from the experiment's current defaults. */
  filledFromDefaults: string[];
}

function readJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file} is not JSON (${(e as Error).message})`);
  }
}

const SUPPORTED = [
  'lenet-mnist', 'mary-lenet-mnist', 'mary-lenet-mnist-ablation', 'zoo-mnist', 'zoo-resnet23-cifar10', 'sq-vgg9-cifar10',
  'sq-resnet56-cifar10', 'mary-densenet40-cifar10',
];
const ZOO = ['zoo-mnist', 'zoo-resnet23-cifar10', 'sq-vgg9-cifar10', 'sq-resnet56-cifar10'];

/** Read `<dir>/run.json` (and summary.json): which experiment, with which configuration. */
export function readRunInfo(dir: string): RunInfo {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new Error(`${dir} is not a folder (give the results folder of a run, e.g. results/zoo-mnist).`);
  const runFile = path.join(abs, 'run.json');
  if (!fs.existsSync(runFile)) {
    throw new Error(`${runFile} does not exist: the run has not finished (runExperiment writes run.json at the end), ` +
      'or this is not a results folder. Export needs the configuration run.json records.');
  }
  const run = readJson(runFile);
  const config = run.config;
  if (config == null || typeof config !== 'object' || Array.isArray(config)) {
    throw new Error(`${runFile} has no configuration ("config"): it was written before runs recorded their configuration, ` +
      'so the model cannot be rebuilt from it.');
  }
  const summaryFile = path.join(abs, 'summary.json');
  const summaryJson = fs.existsSync(summaryFile) ? readJson(summaryFile) : null;
  const experiment = String(run.experiment ?? summaryJson?.experiment ?? '');
  if (!SUPPORTED.includes(experiment)) {
    throw new Error(`${runFile}: experiment '${experiment || '(none)'}' is not one export knows how to rebuild (known: ${SUPPORTED.join(', ')}).`);
  }
  // Runs written before an option existed lack its key: the experiment ran with the default of its time, which
  // is taken to be today's (a wrong guess shows up as a checkpoint of another shape, or a differing accuracy).
  const defaults = getExperiment(experiment).defaults;
  const missing = Object.keys(defaults).filter((k) => !(k in (config as Config)));
  return {
    dir: abs, experiment, config: { ...Object.fromEntries(missing.map((k) => [k, defaults[k]])), ...(config as Config) },
    smoke: run.smoke === true, run, summary: summaryJson, filledFromDefaults: missing,
  };
}

/** Names of the folders under `<dir>/checkpoints/` that hold a checkpoint. */
export function checkpointFolders(dir: string): string[] {
  const root = path.join(dir, 'checkpoints');
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root).filter((n) => hasCheckpoint(path.join(root, n))).sort();
}

/** The last SQ stage's checkpoint folder of a method. */
const lastSqStage = (method: string) => `${method}-stage${sqRatioSchedule.length}`;

/** The checkpoint folder of a variant (SQ methods: the last ratio stage). */
function checkpointFolderOf(info: RunInfo, variant: string): string {
  return ZOO.includes(info.experiment) && variant.startsWith('sq-') ? lastSqStage(variant) : variant;
}

/**
 * The variants of a run that have a checkpoint and can be exported (intermediate SQ stages cannot), in
 * summary.json's order, then the others (e.g. the float net a Bayesian run started from) by name.
 */
export function exportableVariants(info: RunInfo): string[] {
  const out: string[] = [];
  for (const f of checkpointFolders(info.dir)) {
    const m = /^(sq-[a-z]+)-stage(\d+)$/.exec(f);
    if (m && ZOO.includes(info.experiment)) {
      if (f === lastSqStage(m[1])) out.push(m[1]);
      continue;
    }
    out.push(f);
  }
  const listed = summaryVariants(info);
  const rank = (v: string) => (listed.includes(v) ? listed.indexOf(v) : listed.length);
  return out.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** The variant names summary.json lists. */
function summaryVariants(info: RunInfo): string[] {
  const v = info.summary?.variants;
  return Array.isArray(v) ? v.map((x) => String((x as { name?: unknown }).name)) : [];
}

function summaryVariant(info: RunInfo, variant: string): Record<string, unknown> | null {
  const v = info.summary?.variants;
  if (!Array.isArray(v)) return null;
  return (v.find((x) => (x as { name?: unknown }).name === variant) as Record<string, unknown> | undefined) ?? null;
}

/** Load the run's data set as the experiment did (limits, validation split). */
export async function loadRunDataset(info: RunInfo): Promise<ImageDataset> {
  const cfg = info.config;
  const limits = { limitTrain: (cfg.limitTrain as number) || undefined, limitTest: (cfg.limitTest as number) || undefined };
  switch (info.experiment) {
    case 'lenet-mnist':
    case 'mary-lenet-mnist':
    case 'mary-lenet-mnist-ablation':
    case 'zoo-mnist':
      return holdOutValidation(await loadDataset(String(cfg.dataset), limits), Number(cfg.validation ?? 0));
    default:
      return loadCifarForExperiment(cfg as unknown as CifarDataConfig, info.dir);
  }
}

export interface RebuiltVariant {
  variant: string;
  model: tf.LayersModel;
  kind: 'float' | 'quantized' | 'bayesian';
  /** Quantization method (zoo variants), or 'bayesian-M<M>'. */
  method: string;
  normalize: NormalizeMode;
  /** Bayesian: the trained deterministic and Monte-Carlo modes. */
  trainForward?: string;
  sampleMode?: string;
  /** The checkpoint's epoch (epochs completed). */
  epoch: number;
  checkpointDir: string;
  /** What was done beyond loading the checkpoint (e.g. batch norm re-estimated). */
  notes: string[];
}

const shapeOf = (ds: ImageDataset) => ({ inputShape: [ds.height, ds.width, ds.channels] as [number, number, number], numClasses: ds.numClasses });

function unknownVariant(info: RunInfo, variant: string, why: string): Error {
  const have = exportableVariants(info);
  return new Error(`Unknown variant '${variant}' of ${path.relative(process.cwd(), info.dir) || info.dir} (${info.experiment}): ${why}. ` +
    `Variants with a checkpoint: ${have.length ? have.join(', ') : 'none'}` +
    `${summaryVariants(info).length ? `; summary.json lists: ${summaryVariants(info).join(', ')}` : ''}.`);
}

/** What a variant name means in its experiment: checked before any data is loaded. */
type VariantSpec =
  | { type: 'float' }
  | { type: 'mary'; cfg: MaryLenetMnistConfig; M: number }
  | { type: 'mary-densenet' }
  | { type: 'zoo' };

/** Parse a variant name of the run's experiment; throws a clear error for an unknown one. */
export function resolveVariant(info: RunInfo, variant: string): VariantSpec {
  const cfg = info.config;
  const exp = info.experiment;
  if (exp === 'lenet-mnist') {
    if (variant !== 'fp') throw unknownVariant(info, variant, "lenet-mnist trains the variant 'fp' only");
    return { type: 'float' };
  }
  if (exp === 'mary-lenet-mnist') {
    if (variant === 'fp') return { type: 'float' };
    const m = /^M(\d+)-(spikeslab|gaussian)$/.exec(variant);
    if (!m) throw unknownVariant(info, variant, "its variants are 'fp' and M<M>-<prior> (e.g. M3-spikeslab)");
    return { type: 'mary', cfg: cfg as MaryLenetMnistConfig, M: Number(m[1]) };
  }
  if (exp === 'mary-lenet-mnist-ablation') {
    if (variant === 'fp') return { type: 'float' };
    const m = /^(.+)-s(\d+)$/.exec(variant);
    if (!m || !ABLATION_ROWS[m[1]]) throw unknownVariant(info, variant, `its variants are 'fp' and <row>-s<seed> with the rows ${Object.keys(ABLATION_ROWS).join(', ')}`);
    return { type: 'mary', cfg: { ...(cfg as MaryLenetMnistConfig), ...ABLATION_ROWS[m[1]].overrides, seed: Number(m[2]) } as MaryLenetMnistConfig, M: 3 };
  }
  if (exp === 'mary-densenet40-cifar10') {
    const m = /^M(\d+)-(spikeslab|gaussian)$/.exec(variant);
    if (!m || Number(m[1]) !== cfg.M) throw unknownVariant(info, variant, `its variants are M${cfg.M}-spikeslab and M${cfg.M}-gaussian`);
    return { type: 'mary-densenet' };
  }
  const stage = /^(sq-[a-z]+)-stage(\d+)$/.exec(variant);
  if (stage) {
    throw new Error(`'${variant}' is an intermediate stochastic-quantization stage: its channel selection is drawn at random and not ` +
      `kept in checkpoints, so it cannot be rebuilt. Export '${stage[1]}' (the last stage, ratio 1, every channel quantized).`);
  }
  const methods = [...((cfg.methods as string[] | undefined) ?? []), ...((cfg.longRunMethods as string[] | undefined) ?? [])];
  if (!methods.includes(variant)) throw unknownVariant(info, variant, `the run trained the methods ${[...new Set(methods)].join(', ')}`);
  return { type: 'zoo' };
}

/** The model of `variant` as the experiment built it (weights not loaded yet). */
function buildVariantModel(info: RunInfo, variant: string, ds: ImageDataset): Omit<RebuiltVariant, 'epoch' | 'checkpointDir' | 'notes'> {
  const cfg = info.config;
  const exp = info.experiment;
  const normalize = ((cfg.normalize as NormalizeMode | undefined) ?? 'unit');
  const spec = resolveVariant(info, variant);
  if (spec.type === 'float') {
    return { variant, model: buildModel('lenet5', { seed: cfg.seed as number, ...shapeOf(ds) }), kind: 'float', method: 'fp', normalize };
  }
  if (spec.type === 'mary') {
    const { trainForward } = checkMaryOptions(spec.cfg, spec.cfg.priors);
    // initFromFloat only sets the starting weights, which the checkpoint overwrites: build without it.
    const model = buildMaryLenet({ ...spec.cfg, initFromFloat: false }, ds, spec.M, null);
    return { variant, model, kind: 'bayesian', method: `bayesian-M${spec.M}`, normalize, trainForward, sampleMode: trainedModes(trainForward).sample };
  }
  if (spec.type === 'mary-densenet') {
    const { trainForward, freezeLayerOptions } = checkMaryOptions(cfg as never, cfg.priors as string[]);
    const model = buildModel('mary-densenet40', {
      M: cfg.M as number, depth: cfg.depth as number, growthRate: cfg.growthRate as number, seed: cfg.seed as number, ...shapeOf(ds),
      logSigma2Init: cfg.logSigma2Init as number, trainForward, ...freezeLayerOptions,
    });
    return { variant, model, kind: 'bayesian', method: `bayesian-M${cfg.M}`, normalize, trainForward, sampleMode: trainedModes(trainForward).sample };
  }
  // The quantizer zoo (zooCommon.trainMethod): the method's preset and model options, INQ's fixing schedule.
  methodPreset(variant);
  const opts = methodOptions(variant);
  const batchSize = cfg.batchSize as number;
  if (variant === 'inq' && opts.kernelQuantizer) {
    const spe = numBatches(ds, 'train', { batchSize });
    const steps = exp === 'zoo-mnist'
      ? (cfg.inqEpochs as number[]).map((e) => e * spe)
      : ((cfg.inqSteps as number[]).length > 0 ? (cfg.inqSteps as number[]) : [1, 2, 3, 4, 5].map((e) => e * spe));
    opts.kernelQuantizer.options = { ...opts.kernelQuantizer.options, schedule: steps };
  }
  const modelName = (exp === 'zoo-mnist' ? 'lenet5' : cfg.model) as ModelName;
  const extra = (cfg.modelOptions as Record<string, Record<string, unknown>> | undefined)?.[variant];
  const model = buildModel(modelName, { ...opts, ...extra, seed: cfg.seed as number, ...shapeOf(ds) } as never);
  if (variant.startsWith('sq-')) for (const l of quantizedLayers(model)) l.kernelQuantizer?.setRatio?.(sqRatioSchedule[sqRatioSchedule.length - 1]);
  return { variant, model, kind: variant === 'fp' ? 'float' : 'quantized', method: variant, normalize };
}

/**
 * The trained model of `variant`: built as the experiment built it, with the weights (and layer state) of its
 * checkpoint. Bayesian variants are put in their deployed 'quantized' mode; one trained around the means
 * (trainForward 'mean') gets its batch-norm statistics re-estimated for the quantized weights, as the experiment
 * did to report its quantized accuracy (5,000 training images in a fixed order, see recalibrateBatchNorm).
 */
export async function rebuildVariant(info: RunInfo, variant: string, ds: ImageDataset): Promise<RebuiltVariant> {
  const folder = checkpointFolderOf(info, variant);
  const checkpointDir = path.join(info.dir, 'checkpoints', folder);
  const built = buildVariantModel(info, variant, ds);
  try {
    if (!hasCheckpoint(checkpointDir)) throw missingCheckpoint(info, variant, checkpointDir);
    const state = await loadCheckpoint(checkpointDir, built.model, null, (m) => console.warn(`warning: ${m}`));
    const notes: string[] = [];
    if (built.kind === 'bayesian') {
      setMode(built.model, 'quantized');
      if (built.trainForward === 'mean') {
        recalibrateBatchNorm(built.model, ds, 'quantized', { normalize: built.normalize });
        notes.push('batch norm re-estimated for the quantized weights (trained around the means; as the experiment evaluated it)');
      }
    }
    return { ...built, epoch: state.epoch, checkpointDir, notes };
  } catch (e) {
    built.model.dispose();
    throw e;
  }
}

function missingCheckpoint(info: RunInfo, variant: string, checkpointDir: string): Error {
  return new Error(`No checkpoint for variant '${variant}': ${path.relative(process.cwd(), checkpointDir) || checkpointDir} holds none ` +
    '(checkpoints are not committed; they exist only on the machine that trained the run). ' +
    `Variants with a checkpoint here: ${exportableVariants(info).join(', ') || 'none'}.`);
}

/** The first `n` test images of the run's data set, normalized as in training. */
export function testImages(ds: ImageDataset, n: number, normalize: NormalizeMode): { x: tf.Tensor4D; labels: number[] } {
  const it = batches(ds, 'test', { batchSize: Math.min(n, ds.test.count), normalize });
  const b = it.next().value as { x: tf.Tensor4D; y: tf.Tensor2D };
  const labels = Array.from(tf.tidy(() => tf.argMax(b.y, -1)).dataSync());
  b.y.dispose();
  return { x: b.x, labels };
}

function logitsOf(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => Float32Array.from((model.predict(x) as tf.Tensor).dataSync() as Float32Array));
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

export interface ExportOptions {
  /** Output file (default `<run>/models/<variant>.qnnp`). */
  out?: string;
  /** Bits of the σ section of Bayesian models (default 8; 32 = float32; 0 = no σ section). */
  sigmaBits?: number;
  /** Test images on which the file must reproduce the checkpoint model's logits bit for bit (default 16). */
  checkImages?: number;
  /** Evaluate the rebuilt model on the run's test split and compare with summary.json (default true). */
  evaluate?: boolean;
  /** The run's data set, when already loaded (exportAll loads it once). */
  ds?: ImageDataset;
  log?: (line: string) => void;
  /** Test hook: replaces the packed bytes before they are written and verified (to check that a mismatch is refused). */
  afterPack?: (bytes: Uint8Array) => Uint8Array;
}

export interface ExportedModel {
  variant: string;
  /** The packed file, relative to the run folder when inside it. */
  file: string;
  bytes: number;
  /** Bytes of the optional σ section (Bayesian models; 0 without). */
  sigmaBytes: number;
  /** summary(): the model at its real bit-widths, and the same parameters in float32, KiB. */
  summaryKiB: number;
  float32KiB: number;
  kind: RebuiltVariant['kind'];
  method: string;
  /** Accuracy of the rebuilt model on the run's test split (null with evaluate: false) and summary.json's. */
  testAccuracy: number | null;
  summaryTestAccuracy: number | null;
  testCount: number | null;
  /** Test images whose logits were compared bit for bit. */
  checkedImages: number;
  epoch: number;
}

const kib = (bytes: number) => bytes / 1024;

/** M and the prior of a Bayesian variant, for the metadata (from its method and name). */
function bayesNames(variant: string, r: RebuiltVariant): { M?: number; prior?: string } {
  if (r.kind !== 'bayesian') return {};
  const M = Number(/^bayesian-M(\d+)$/.exec(r.method)?.[1]);
  const prior = /(spikeslab|gaussian)/.exec(variant)?.[1] ?? (/-s\d+$/.test(variant) ? 'spikeslab' : undefined);
  return { ...(Number.isFinite(M) ? { M } : {}), ...(prior ? { prior } : {}) };
}

/** The path of a file relative to the run folder when inside it, else absolute. */
function relToRun(info: RunInfo, file: string): string {
  const rel = path.relative(info.dir, path.resolve(file));
  return rel.startsWith('..') || path.isAbsolute(rel) ? path.resolve(file) : rel.split(path.sep).join('/');
}

/** Rebuild, pack, verify and write one variant (see the file comment). */
export async function exportVariant(dir: string | RunInfo, variant: string, opts: ExportOptions = {}): Promise<ExportedModel> {
  const info = typeof dir === 'string' ? readRunInfo(dir) : dir;
  const log = opts.log ?? ((l: string) => console.log(l));
  const out = path.resolve(opts.out ?? path.join(info.dir, 'models', `${variant}${PACKED_EXTENSION}`));
  const sigmaBits = opts.sigmaBits ?? 8;
  if (!(sigmaBits === 0 || sigmaBits === 32 || (Number.isInteger(sigmaBits) && sigmaBits >= 2 && sigmaBits <= 16))) {
    throw new Error(`--sigma-bits must be 0 (no σ), 2 to 16, or 32 (float32), got ${sigmaBits}`);
  }
  // An unknown variant or a missing checkpoint fails before any data is loaded.
  resolveVariant(info, variant);
  const checkpointDir = path.join(info.dir, 'checkpoints', checkpointFolderOf(info, variant));
  if (!hasCheckpoint(checkpointDir)) throw missingCheckpoint(info, variant, checkpointDir);
  const ds = opts.ds ?? await loadRunDataset(info);
  const r = await rebuildVariant(info, variant, ds);
  if (info.filledFromDefaults.length) r.notes.push(`run.json lacks ${info.filledFromDefaults.join(', ')}: taken from the experiment's current defaults`);
  const tmp = `${out}.tmp-${process.pid}`;
  const { x, labels } = testImages(ds, opts.checkImages ?? 16, r.normalize);
  try {
    const sum = summary(r.model);
    const reported = summaryVariant(info, variant);
    let testAccuracy: number | null = null;
    let testCount: number | null = null;
    if (opts.evaluate !== false) {
      const ev = evaluate(r.model, batches(ds, 'test', { batchSize: 500, shuffle: false, normalize: r.normalize }));
      testAccuracy = ev.accuracy;
      testCount = ds.test.count;
    }
    const summaryTestAccuracy = typeof reported?.testAccuracy === 'number' ? reported.testAccuracy : null;
    const expected = logitsOf(r.model, x);
    const packed = packModel(r.model, {
      sigmaBits: r.kind === 'bayesian' ? sigmaBits : 0,
      trainedSampleMode: r.sampleMode,
      metadata: {
        experiment: info.experiment, variant, kind: r.kind, method: r.method, smoke: info.smoke,
        run: path.basename(info.dir), commit: info.run.commit ?? null, checkpointEpoch: r.epoch,
        dataset: ds.name, classNames: ds.classNames,
        input: { height: ds.height, width: ds.width, channels: ds.channels, normalize: r.normalize, mean: ds.mean, std: ds.std },
        ...(r.trainForward ? { trainForward: r.trainForward, trainedSampleMode: r.sampleMode } : {}),
        ...bayesNames(variant, r),
        testAccuracy, testCount, summaryTestAccuracy,
        summaryKiB: sum.modelSizeKiB, float32KiB: sum.float32SizeKiB,
        ...(r.notes.length ? { notes: r.notes } : {}),
        exportedAt: new Date().toISOString(),
      },
    });
    const bytes = opts.afterPack ? opts.afterPack(packed) : packed;
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(tmp, bytes);
    // Verify the file as written: load it and compare logits bit for bit.
    let loaded: tf.LayersModel;
    try {
      loaded = await loadPacked(tmp);
    } catch (e) {
      throw new Error(`${variant}: the packed file does not load (${(e as Error).message}); the file was not kept.`);
    }
    let same: boolean;
    try {
      same = sameBits(expected, logitsOf(loaded, x));
    } finally {
      loaded.dispose();
    }
    if (!same) {
      throw new Error(`${variant}: the packed model does not reproduce the checkpoint model's logits bit for bit on ` +
        `${labels.length} test images; the file was not kept.`);
    }
    const posterior = unpackPosterior(new Uint8Array(fs.readFileSync(tmp)), tmp);
    if (r.kind === 'bayesian' && sigmaBits > 0 && !posterior) throw new Error(`${variant}: the σ section is missing from the packed file; the file was not kept.`);
    fs.renameSync(tmp, out);
    const result: ExportedModel = {
      variant, file: relToRun(info, out), bytes: bytes.length, sigmaBytes: posterior?.bytes ?? 0,
      summaryKiB: sum.modelSizeKiB, float32KiB: sum.float32SizeKiB, kind: r.kind, method: r.method,
      testAccuracy, summaryTestAccuracy, testCount, checkedImages: labels.length, epoch: r.epoch,
    };
    const pct = (a: number | null) => (a == null ? '?' : `${(100 * a).toFixed(2)} %`);
    log(`${variant}: ${path.relative(process.cwd(), out) || out} ${bytes.length} B (${kib(bytes.length).toFixed(1)} KiB` +
      `${result.sigmaBytes ? `, of which σ ${kib(result.sigmaBytes).toFixed(1)} KiB` : ''}); summary() ${sum.modelSizeKiB.toFixed(1)} KiB, ` +
      `float32 ${sum.float32SizeKiB.toFixed(1)} KiB; logits identical on ${labels.length} test images` +
      (testAccuracy != null ? `; test accuracy ${pct(testAccuracy)} on ${testCount} images (summary.json: ${pct(summaryTestAccuracy)})` : ''));
    for (const n of r.notes) log(`  note: ${n}`);
    if (testAccuracy != null && summaryTestAccuracy != null && Math.abs(testAccuracy - summaryTestAccuracy) * (testCount as number) > 0.5) {
      log(`  warning: the rebuilt model's test accuracy differs from summary.json by ${Math.round(Math.abs(testAccuracy - summaryTestAccuracy) * (testCount as number))} ` +
        'images (another backend, or a checkpoint that is not the final one?)');
    }
    return result;
  } finally {
    fs.rmSync(tmp, { force: true });
    x.dispose();
    r.model.dispose();
  }
}

export interface ModelsJson {
  experiment: string;
  run: string;
  generatedBy: string;
  models: ExportedModel[];
}

/** Add (or replace) the entries of `models` in `<run>/models.json`. */
export function updateModelsJson(info: RunInfo, models: ExportedModel[]): string {
  const file = path.join(info.dir, 'models.json');
  let prev: ModelsJson | null = null;
  try {
    prev = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelsJson;
  } catch {
    prev = null;
  }
  const byVariant = new Map((prev?.models ?? []).map((m) => [m.variant, m]));
  for (const m of models) byVariant.set(m.variant, m);
  const order = exportableVariants(info);
  const rank = (v: string) => (order.indexOf(v) < 0 ? order.length : order.indexOf(v));
  const json: ModelsJson = {
    experiment: info.experiment, run: path.basename(info.dir), generatedBy: 'npm run export (src/cli/export.ts)',
    models: [...byVariant.values()].sort((a, b) => rank(a.variant) - rank(b.variant) || a.variant.localeCompare(b.variant)),
  };
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(json, null, 2) + '\n');
  fs.renameSync(tmp, file);
  return file;
}

/** Export every variant of a run that has a checkpoint into `<run>/models/`, and write `<run>/models.json`. */
export async function exportAll(dir: string, opts: Omit<ExportOptions, 'out' | 'ds'> = {}): Promise<{ models: ExportedModel[]; modelsJson: string }> {
  const info = readRunInfo(dir);
  const variants = exportableVariants(info);
  if (variants.length === 0) throw new Error(`${path.join(info.dir, 'checkpoints')} holds no checkpoint: nothing to export.`);
  const ds = await loadRunDataset(info);
  const models: ExportedModel[] = [];
  for (const v of variants) models.push(await exportVariant(info, v, { ...opts, ds }));
  return { models, modelsJson: updateModelsJson(info, models) };
}
