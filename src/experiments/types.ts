import type { EngineInfo } from '../engine';
import type { HistoryRow } from '../train';
import type { Config } from './config';
import type { Schema } from './validate';

/** One trained variant's line in summary.json (extra fields per experiment). */
export interface VariantSummary {
  name: string;
  testAccuracy: number;
  [key: string]: unknown;
}

export interface ExperimentContext {
  /** Folder for metrics.csv, summary.json, figures and checkpoints. */
  outDir: string;
  smoke: boolean;
  /** Continue from checkpoints found in outDir (default) or start over. */
  resume: boolean;
  engine: EngineInfo;
  /** Live training-curve view (nodeplotlib), only with --live. */
  live: { update(rows: HistoryRow[]): void } | null;
  progress: 'auto' | 'bar' | 'log' | 'none';
  /** Called with every finished epoch row, e.g. by notebooks to redraw curves in place. */
  onEpoch?: (row: HistoryRow, all: HistoryRow[]) => void;
}

export interface ExperimentResult {
  history: HistoryRow[];
  variants: VariantSummary[];
  /** Paths of written figures (without extension) relative to outDir. */
  figures: string[];
  /** Free-form extra data kept in summary.json (tables, levels, ...). */
  extra?: Record<string, unknown>;
}

export interface Experiment<C extends Config = Config> {
  name: string;
  description: string;
  /** Full configuration, faithful to the source it reproduces. */
  defaults: C;
  /** Overrides for the CI-sized run (--smoke): same code path, minutes on CPU. */
  smoke: Partial<C>;
  /**
   * Named blocks of defaults (e.g. training recipes) chosen by the config key `key`: the chosen block is merged
   * over `defaults` before --smoke and the command-line overrides, so any single knob can still be overridden.
   */
  presets?: { key: string; names: string[]; values(name: string): Partial<C> };
  /**
   * Rules of this experiment's options (range, integer-ness, known names; helpers in validate.ts), by config key, for
   * the options the shared rules (COMMON_RULES in validate.ts) do not cover or cover with another meaning. Applied
   * with the shared ones when the configuration is resolved, before any data loads.
   */
  options?: Schema;
  /** Checks between options (e.g. one needs another), run after the rules pass; throw a message naming the options. */
  check?(config: C): void;
  run(config: C, ctx: ExperimentContext): Promise<ExperimentResult>;
}
