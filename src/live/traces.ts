import type { Plot, Layout } from 'nodeplotlib';
import { colorScale } from '../plots/palette';
import { isFractionColumn } from '../plots/theme';
import type { Row } from '../plots/types';

/** One chart of the live page: one or more metrics against the x column. */
export interface Panel {
  title: string;
  y: string[];
}

/**
 * Plotly traces for one panel: one line per (variant, metric), coloured by variant with the same palette as
 * the static figures; the second metric of a panel (e.g. test after train) is dashed.
 */
export function panelTraces(rows: Row[], panel: Panel, x: string, color: string): Plot[] {
  const variants = [...new Set(rows.map((r) => String(r[color] ?? '')))];
  const scale = colorScale(variants.map((v) => v || 'run'));
  const traces: Plot[] = [];
  variants.forEach((variant, v) => {
    panel.y.forEach((metric, i) => {
      const points = rows.filter((r) => String(r[color] ?? '') === variant && typeof r[metric] === 'number' && Number.isFinite(r[metric]));
      if (points.length === 0) return;
      const name = [variant, panel.y.length > 1 ? metric : ''].filter(Boolean).join(' · ') || metric;
      traces.push({
        type: 'scatter',
        mode: 'lines+markers',
        name,
        x: points.map((r) => r[x] as number),
        y: points.map((r) => r[metric] as number),
        line: { color: scale.range[v], dash: i === 0 ? 'solid' : 'dash', width: 2 },
      });
    });
  });
  return traces;
}

/** Titles carry the unit; accuracy-like panels show percentages like the static figures. */
export function panelLayout(panel: Panel, x: string, title: string): Layout {
  return {
    title: { text: `${title}: ${panel.title}` },
    xaxis: { title: { text: x } },
    yaxis: { title: { text: panel.title }, tickformat: panel.y.every(isFractionColumn) ? '.1%' : undefined },
    font: { size: 13 },
    height: 420,
  };
}
