import { newNotebookDisplay } from './display';
import { curves, type CurvesOptions } from './curves';
import type { Row } from './types';
import { renderPng } from './render';

export interface LiveCurves {
  /** False outside a notebook: updates are then ignored. */
  readonly active: boolean;
  /**
   * Redraws the chart with all rows so far (call it at the end of each epoch). Safe to call without await:
   * renders never overlap, a burst of updates draws only the newest rows, and errors are logged, not thrown.
   */
  update(rows: Row[]): Promise<void>;
}

/**
 * A curves chart that redraws in place in its notebook cell (tslab `newDisplay()`), e.g. loss and accuracy
 * growing epoch by epoch during training. Outside a notebook it does nothing (the CLI has its own progress output).
 */
export function liveCurves(opts: Omit<CurvesOptions, 'rows'> & { scale?: number }): LiveCurves {
  const display = newNotebookDisplay();
  let latest: Row[] | null = null;
  let running: Promise<void> | null = null;

  // Draw until no newer rows arrived while drawing.
  async function drain(): Promise<void> {
    while (latest) {
      const rows = latest;
      latest = null;
      try {
        display!.png(await renderPng(curves({ ...opts, rows }), { scale: opts.scale ?? 1.5 }));
      } catch (e) {
        console.error(`liveCurves: could not draw: ${(e as Error).message}`);
      }
    }
    running = null;
  }

  return {
    active: display != null,
    update(rows: Row[]): Promise<void> {
      if (!display || rows.length === 0) return Promise.resolve();
      latest = rows.slice(); // the caller may keep pushing into its array
      running ??= drain();
      return running;
    },
  };
}
