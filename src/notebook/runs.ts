/**
 * Running an experiment from a notebook, with the same code path as `npm run experiment`:
 *  - CI size (QNNLAB_SIZE=ci): the experiment's smoke preset, trained now into build/notebooks-smoke/<name>/;
 *  - full size: the committed results in results/<name>/ are loaded when their configuration equals the one
 *    asked for (and RETRAIN is false); otherwise the full experiment is trained. A configuration that differs
 *    from the defaults trains into build/notebooks-runs/<name>-<hash>/, so committed results are never
 *    overwritten by a notebook experiment, and re-running the notebook loads that run instead of training again.
 *    Committed results of the default configuration are loaded even when the experiment gained options since
 *    they were trained (a note names the keys that differ; RETRAIN retrains).
 * While training, a curves chart redraws in place after every epoch (liveCurves).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { Config } from '../experiments/config';
import { getExperiment, resolveConfig, runExperiment } from '../experiments/run';
import { canonical } from '../util/canonical';
import type { VariantSummary } from '../experiments/types';
import { liveCurves, readCsv, showPlot, type CurvesOptions, type Row, type TopLevelSpec } from '../plots';
import { hasCheckpoint, loadCheckpoint } from '../train';
import { size as currentSize, type Size } from './index';

export interface RunRequest {
  /** Hyperparameters that differ from the experiment's defaults (plain data: numbers, strings, booleans, arrays). */
  hyper?: Config;
  /**
   * CI size only, on top of the experiment's smoke preset: keeps the notebook's CI run to a few minutes.
   * In CI size, `hyper` keys that the smoke preset sets (epochs, limitTrain, ...) are left to the preset.
   */
  ci?: Config;
  /** Train even when a finished run with the same configuration exists. */
  retrain?: boolean;
  /** The chart redrawn after every epoch while training (default: test accuracy by variant). */
  live?: Omit<CurvesOptions, 'rows'> | null;
  /** Default: size() (QNNLAB_SIZE). */
  size?: Size;
  /** Per-epoch log lines under the chart (default true). */
  log?: boolean;
  /** Folder under results/ that holds the committed run of this configuration (default: the experiment's name). */
  resultsName?: string;
}

export interface NotebookRun {
  name: string;
  /** 'smoke': trained now at CI size; 'trained': trained now at full size; 'loaded': a finished run read from disk. */
  source: 'smoke' | 'trained' | 'loaded';
  outDir: string;
  config: Config;
  /** One row per epoch and variant (metrics.csv). */
  history: Row[];
  variants: VariantSummary[];
  /** summary.json (variants, figures and the experiment's extra fields). */
  summary: Record<string, unknown>;
  /** run.json: command, commit, backend, machine, seconds. */
  provenance: Record<string, unknown>;
  figures: string[];
}

/** Config (nested plain data) -> the CLI's `--key value` strings: dotted keys, arrays comma-joined. */
export function toOverrides(cfg: Config, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(cfg)) {
    if (v === undefined) continue;
    if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, toOverrides(v as Config, `${prefix}${k}.`));
    else out[`${prefix}${k}`] = Array.isArray(v) ? v.join(',') : String(v);
  }
  return out;
}

function readJson(file: string): Record<string, unknown> | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** Top-level keys whose values differ between two configs (missing on either side included). */
function differingKeys(a: Config, b: Config): string[] {
  const keys = [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])];
  return keys.filter((k) => canonical(a?.[k]) !== canonical(b?.[k]));
}

/**
 * A finished, full-size run in `dir` whose configuration is `config`, or null. With `anyConfig`, a finished
 * run with another configuration counts too (committed results written before an option was added to the
 * experiment): it is loaded with a note naming the keys that differ, rather than retrained for hours.
 */
function finishedRun(dir: string, config: Config, anyConfig = false): { summary: Record<string, unknown>; run: Record<string, unknown> } | null {
  const summary = readJson(path.join(dir, 'summary.json'));
  const run = readJson(path.join(dir, 'run.json'));
  if (!summary || !run || summary.smoke || !fs.existsSync(path.join(dir, 'metrics.csv'))) return null;
  const diff = differingKeys(run.config as Config, config);
  if (diff.length === 0) return { summary, run };
  if (!anyConfig) return null;
  console.log(`note: ${path.relative(process.cwd(), dir)} was trained with a different configuration in ${diff.join(', ')} ` +
    '(the experiment changed since); loading it anyway. RETRAIN = true trains the current configuration.');
  return { summary, run };
}

async function load(name: string, dir: string, found: { summary: Record<string, unknown>; run: Record<string, unknown> }): Promise<NotebookRun> {
  const history = await readCsv(path.join(dir, 'metrics.csv'));
  return {
    name, source: 'loaded', outDir: dir, config: found.run.config as Config, history,
    variants: (found.summary.variants ?? []) as VariantSummary[], summary: found.summary, provenance: found.run,
    figures: (found.summary.figures ?? []) as string[],
  };
}

/** "results/x (trained 2026-11-20 on wasm, 812 s, commit 1a2b3c4)": where loaded numbers come from. */
export function describeRun(run: NotebookRun): string {
  const p = run.provenance;
  const rel = path.relative(process.cwd(), run.outDir) || '.';
  const date = typeof p.date === 'string' ? p.date.slice(0, 10) : '?';
  const commit = typeof p.commit === 'string' ? `, commit ${p.commit.slice(0, 7)}` : '';
  const secs = typeof p.seconds === 'number' ? `, ${Math.round(p.seconds)} s` : '';
  const how = run.source === 'loaded' ? 'loaded' : run.source === 'smoke' ? 'trained now at CI size' : 'trained now';
  return `${run.name}: ${how} -> ${rel} (${date} on ${p.backend ?? '?'}${secs}${commit})`;
}

/**
 * Train (or load) the experiment `name` as the notebook's size asks; see the file comment.
 * @example const run = await trainOrLoad('mary-lenet-mnist', { hyper: HYPER, ci: CI, retrain: RETRAIN, live: {...} })
 */
export async function trainOrLoad(name: string, req: RunRequest = {}): Promise<NotebookRun> {
  const exp = getExperiment(name);
  const sz = req.size ?? currentSize();
  const hyper = req.hyper ?? {};
  let overrides: Record<string, string>;
  let outDir: string;
  if (sz === 'ci') {
    const kept = Object.fromEntries(Object.entries(hyper).filter(([k]) => !(k in (exp.smoke as Config))));
    overrides = toOverrides({ ...kept, ...(req.ci ?? {}) });
    outDir = path.resolve('build', 'notebooks-smoke', req.resultsName ?? name);
  } else {
    overrides = toOverrides(hyper);
    const config = resolveConfig(exp, { overrides });
    // The standard configuration: the defaults, or the chosen preset's (e.g. a recipe) defaults.
    const presetKey = exp.presets?.key;
    const standard = resolveConfig(exp, { overrides: presetKey && overrides[presetKey] ? { [presetKey]: overrides[presetKey] } : {} });
    const isDefault = canonical(config) === canonical(standard);
    const hash = crypto.createHash('sha256').update(canonical(config)).digest('hex').slice(0, 8);
    const committed = path.resolve('results', req.resultsName ?? name);
    const found = req.retrain ? null : finishedRun(committed, config, isDefault);
    if (found) {
      const run = await load(name, committed, found);
      console.log(describeRun(run));
      return run;
    }
    outDir = isDefault ? committed : path.resolve('build', 'notebooks-runs', `${name}-${hash}`);
    if (!isDefault) console.log(`${name}: configuration differs from the defaults; training into ${path.relative(process.cwd(), outDir)}`);
  }

  const live = req.live === null ? null : liveCurves({ x: 'epoch', y: ['testAccuracy'], color: 'variant', ...(req.live ?? {}) });
  const rows: Row[] = [];
  let pending: Promise<void> = Promise.resolve();
  const result = await runExperiment(name, {
    smoke: sz === 'ci', outDir, overrides, fresh: sz === 'ci' || !!req.retrain,
    progress: req.log === false ? 'none' : 'log',
    onEpoch: (row) => {
      rows.push(row);
      if (live) pending = live.update(rows);
    },
  });
  await pending; // the last redraw, so the chart shows every epoch before the cell ends
  const found = { summary: readJson(path.join(outDir, 'summary.json')) ?? {}, run: readJson(path.join(outDir, 'run.json')) ?? {} };
  const run: NotebookRun = {
    name, source: sz === 'ci' ? 'smoke' : 'trained', outDir, config: found.run.config as Config,
    history: result.history as Row[], variants: result.variants, summary: found.summary, provenance: found.run,
    figures: result.figures,
  };
  console.log(describeRun(run));
  return run;
}

/** The saved vega-lite spec `<outDir>/<figure>.vl.json` of a run (figures are saved by every run, any size). */
export function savedSpec(run: NotebookRun, figure: string): TopLevelSpec {
  const file = path.join(run.outDir, `${figure}.vl.json`);
  if (!fs.existsSync(file)) {
    throw new Error(`No figure '${figure}' in ${run.outDir}; this run saved: ${run.figures.join(', ') || 'none'}.`);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as TopLevelSpec;
}

/** Shows a figure the experiment saved (re-rendered from its .vl.json spec). */
export async function showFigure(run: NotebookRun, figure: string): Promise<void> {
  await showPlot(savedSpec(run, figure));
}

/** The last history row of each variant (final epoch), in first-seen order. */
export function lastRows(history: Row[], variant = 'variant'): Row[] {
  const last = new Map<string, Row>();
  for (const r of history) last.set(String(r[variant]), r);
  return [...last.values()];
}

/**
 * Loads the weights of one trained variant from the run's checkpoint into `model` (built with the same
 * options). False when no checkpoint is on disk: results/ does not commit checkpoints, only a local run has them.
 */
export async function restoreWeights(run: NotebookRun, variant: string, model: tf.LayersModel): Promise<boolean> {
  const dir = path.join(run.outDir, 'checkpoints', variant);
  if (!hasCheckpoint(dir)) return false;
  await loadCheckpoint(dir, model, null);
  return true;
}
