/**
 * Runs a named experiment: resolves its config (defaults, --smoke, command-line overrides) and checks every option
 * (validate.ts), then initializes the engine, trains, and writes metrics.csv, summary.json and run.json (provenance)
 * into the output folder. A bad option fails before the engine starts and before any data loads.
 */
import * as path from 'node:path';
import { initEngine } from '../engine';
import { applyOverrides, deepMerge, type Config } from './config';
import { provenance } from './provenance';
import { writeJson, writeMetrics } from './outputs';
import { experiments } from './registry';
import { validateConfig } from './validate';
import type { Experiment, ExperimentContext, ExperimentResult } from './types';

export interface RunOptions {
  overrides?: Record<string, string>;
  smoke?: boolean;
  live?: boolean;
  /** Output folder; default results/<name> (full) or build/smoke/<name> (smoke, never committed). */
  outDir?: string;
  /** Ignore existing checkpoints and train from scratch. */
  fresh?: boolean;
  progress?: ExperimentContext['progress'];
  backend?: string;
  onEpoch?: ExperimentContext['onEpoch'];
}

export function getExperiment(name: string): Experiment<Config> {
  const exp = experiments.find((e) => e.name === name);
  if (!exp) {
    throw new Error(`Unknown experiment '${name}'. Available: ${experiments.map((e) => e.name).join(', ')}. ` +
      'Run `npm run experiment -- --list` for descriptions.');
  }
  return exp as unknown as Experiment<Config>;
}

/**
 * The configuration a run uses: the defaults, the chosen preset, --smoke, the overrides; then every option is checked
 * (validateConfig: rules, then the checks between options), unless `validate: false`.
 */
export function resolveConfig(exp: Experiment<Config>, opts: RunOptions & { validate?: boolean }): Config {
  let base = exp.defaults;
  if (exp.presets) {
    const { key, names, values } = exp.presets;
    const chosen = opts.overrides?.[key] ?? String(exp.defaults[key]);
    if (!names.includes(chosen)) throw new Error(`--${key} must be one of ${names.join(', ')}, got '${chosen}'`);
    base = deepMerge(base, { ...values(chosen), [key]: chosen });
  }
  if (opts.smoke) base = deepMerge(base, exp.smoke);
  const config = applyOverrides(base, opts.overrides ?? {});
  if (opts.validate !== false) validateConfig(exp, config);
  return config;
}

export async function runExperiment(name: string, opts: RunOptions = {}): Promise<ExperimentResult & { outDir: string }> {
  const exp = getExperiment(name);
  const config = resolveConfig(exp, opts); // every option checked here, before the engine and the data
  const engine = await initEngine({ backend: opts.backend, verbose: opts.progress !== 'none' });
  const outDir = path.resolve(opts.outDir ?? (opts.smoke ? path.join('build', 'smoke', name) : path.join('results', name)));
  let live: ExperimentContext['live'] = null;
  let closeLive: (() => Promise<void> | void) | null = null;
  if (opts.live) {
    const { startLiveView } = await import('../live/liveView');
    const view = await startLiveView({ title: `${name} — training curves` });
    live = view;
    closeLive = () => view.close();
  }
  const ctx: ExperimentContext = {
    outDir, smoke: !!opts.smoke, resume: !opts.fresh, engine, live, progress: opts.progress ?? 'auto', onEpoch: opts.onEpoch,
  };
  const started = Date.now();
  const prov = provenance(engine, name, opts.overrides ?? {}, !!opts.smoke);
  try {
    const result = await exp.run(config, ctx);
    await writeMetrics(outDir, result.history);
    writeJson(path.join(outDir, 'summary.json'), {
      experiment: name, smoke: ctx.smoke, variants: result.variants, figures: result.figures, ...result.extra,
    });
    writeJson(path.join(outDir, 'run.json'), { ...prov, experiment: name, smoke: ctx.smoke, config, seconds: (Date.now() - started) / 1000 });
    return { ...result, outDir };
  } finally {
    await closeLive?.();
  }
}
