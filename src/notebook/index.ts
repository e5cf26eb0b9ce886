/**
 * Helpers for the TypeScript notebooks (tslab kernel). Notebooks import them as './src/notebook'
 * because the kernel wrapper (scripts/tslab-kernel.sh) starts tslab in the project root.
 */
import type { Display } from 'tslab';

export type { Display };

/** How big a notebook's experiment should be: 'ci' for the headless test run, 'full' to reproduce results. */
export type Size = 'ci' | 'full';

/** QNNLAB_SIZE=ci|full (default 'full'); anything else is an error rather than a silent full run in CI. */
export function size(): Size {
  const raw = (process.env.QNNLAB_SIZE ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'full') return 'full';
  if (raw === 'ci') return 'ci';
  throw new Error(`QNNLAB_SIZE must be 'ci' or 'full', got '${process.env.QNNLAB_SIZE}'`);
}

/** Pick a value by size: `bySize({ ci: 1, full: 30 })` epochs. */
export function bySize<T>(choices: Record<Size, T>): T {
  return choices[size()];
}

export { isNotebook, notebookDisplay, newNotebookDisplay } from '../plots/display';
