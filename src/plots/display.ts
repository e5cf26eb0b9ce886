/**
 * The notebook display adapter: tslab's rich-output channel when running inside a tslab notebook cell, null in
 * plain Node (CLI, tests). Plots and tables render through it; nothing here depends on the notebooks.
 */
import type { Display } from 'tslab';

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
