import type { TopLevelSpec } from 'vega-lite';
import { notebookDisplay } from './display';
import { renderPng, renderSvg } from './render';

export interface ShowOptions {
  /** 'png' (default) embeds well in saved notebooks and HTML exports; 'svg' stays sharp when zoomed. */
  format?: 'png' | 'svg';
  /** PNG pixel scale (default 1.5). */
  scale?: number;
}

/** The spec's title as plain text, for the message printed outside notebooks. */
function titleOf(spec: TopLevelSpec): string {
  const t = (spec as { title?: unknown }).title;
  if (typeof t === 'string') return t;
  if (t && typeof t === 'object' && typeof (t as { text?: unknown }).text === 'string') return (t as { text: string }).text;
  return 'untitled plot';
}

/**
 * Renders the chart into the current notebook cell. Outside a notebook it only prints one line,
 * so shared code can call it unconditionally (use savePlot to keep the figure).
 */
export async function showPlot(spec: TopLevelSpec, opts: ShowOptions = {}): Promise<void> {
  const display = notebookDisplay();
  if (!display) {
    console.log(`[plot] "${titleOf(spec)}" not shown: not running in a tslab notebook (savePlot writes files)`);
    return;
  }
  if (opts.format === 'svg') display.svg(await renderSvg(spec));
  else display.png(await renderPng(spec, { scale: opts.scale ?? 1.5 }));
}
