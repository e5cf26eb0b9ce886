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

/**
 * tslab's kernel module, but only if the kernel already loaded it: looking it up in require.cache instead of
 * requiring it keeps plain Node (CLI, tests) from loading tslab's bundled TypeScript compiler just to ask.
 */
function tslabKernel(): { lastWriteDisplayData: unknown } | undefined {
  try {
    return require.cache[require.resolve('tslab/dist/jupyter')]?.exports;
  } catch {
    return undefined;
  }
}

/** True inside a tslab notebook cell (the kernel has a display channel), false in plain Node. */
export function isNotebook(): boolean {
  return tslabKernel()?.lastWriteDisplayData != null;
}

/** tslab's `display` (rich output of the current cell), or null outside a notebook. */
export function notebookDisplay(): Display | null {
  if (!isNotebook()) return null;
  return (require('tslab') as typeof import('tslab')).display;
}

/** A display that later calls overwrite in place (tslab `newDisplay()`), or null outside a notebook. */
export function newNotebookDisplay(): Display | null {
  if (!isNotebook()) return null;
  return (require('tslab') as typeof import('tslab')).newDisplay();
}
