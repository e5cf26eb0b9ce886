import type { TopLevelSpec } from 'vega-lite';
import { FONT } from './theme';

/**
 * Spec -> SVG with vega's headless View (renderer 'none': no canvas package needed), then SVG -> PNG with
 * resvg. vega, vega-lite and resvg are required on first use so that importing src/plots stays cheap.
 */

/** The vega-lite spec compiled to a vega spec, rendered to an SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vl: typeof import('vega-lite') = require('vega-lite');
  const vega: typeof import('vega') = require('vega');
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize(); // drops timers and listeners so the process can exit
  }
}

export interface PngOptions {
  /** Pixel scale over the SVG's CSS size (default 2: crisp in notebooks and papers). */
  scale?: number;
}

/** PNG bytes of an SVG; fonts come from the system, DejaVu Sans first (else resvg falls back to a serif). */
export function svgToPng(svg: string, opts: PngOptions = {}): Buffer {
  const { Resvg }: typeof import('@resvg/resvg-js') = require('@resvg/resvg-js');
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: opts.scale ?? 2 },
    font: { loadSystemFonts: true, defaultFontFamily: FONT.split(',')[0], sansSerifFamily: FONT.split(',')[0] },
    background: 'white',
  });
  return resvg.render().asPng();
}

/** The spec rendered to PNG bytes. */
export async function renderPng(spec: TopLevelSpec, opts: PngOptions = {}): Promise<Buffer> {
  return svgToPng(await renderSvg(spec), opts);
}
