import * as fs from 'fs';
import * as path from 'path';
import type { TopLevelSpec } from 'vega-lite';
import { renderSvg, svgToPng, type PngOptions } from './render';

export interface SavedPlot {
  svg: string;
  png: string;
  spec: string;
}

/**
 * Writes `<base>.svg`, `<base>.png` and `<base>.vl.json` (the spec, so a figure can be restyled or opened in
 * the vega editor without rerunning the experiment). Creates missing folders.
 */
export async function savePlot(spec: TopLevelSpec, base: string, opts: PngOptions = {}): Promise<SavedPlot> {
  fs.mkdirSync(path.dirname(path.resolve(base)), { recursive: true });
  const svg = await renderSvg(spec);
  const out = { svg: `${base}.svg`, png: `${base}.png`, spec: `${base}.vl.json` };
  fs.writeFileSync(out.svg, svg);
  fs.writeFileSync(out.png, svgToPng(svg, opts));
  fs.writeFileSync(out.spec, JSON.stringify(spec, null, 1) + '\n');
  return out;
}
