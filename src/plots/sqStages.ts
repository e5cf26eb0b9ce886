import type { TopLevelSpec } from 'vega-lite';
import { colorScale } from './palette';
import { distinct, humanize, numbers, quantityAxis, theme } from './theme';
import type { Row } from './types';

export interface SqStagesOptions {
  rows: Row[];
  /** SQ ratio of the stage, in [0, 1] (default 'ratio'). */
  x?: string;
  /** Accuracy after the stage (default 'testAccuracy'). */
  y?: string;
  /** Line per method, e.g. SQ-BWN vs SQ-TWN (default 'method'). */
  color?: string;
  /** Horizontal reference lines, e.g. the full-precision or plain BWN accuracy. */
  baselines?: Array<{ name: string; value: number }>;
  title?: string;
  titles?: Record<string, string>;
  width?: number;
  height?: number;
}

/**
 * Accuracy after each stochastic-quantization stage (SQ ratio 50% -> 75% -> 87.5% -> 100%), one line per
 * method, with dashed baselines in the baseline method's colour.
 */
export function sqStages(opts: SqStagesOptions): TopLevelSpec {
  const x = opts.x ?? 'ratio';
  const y = opts.y ?? 'testAccuracy';
  const color = opts.color ?? 'method';
  const t = opts.titles ?? {};
  const baselines = opts.baselines ?? [];
  const yAxis = quantityAxis(y, [...numbers(opts.rows, y), ...baselines.map((b) => b.value)], t[y]);
  const names = [...distinct(opts.rows, color), ...baselines.map((b) => b.name)];
  const scale = colorScale(names);
  const yEnc = { field: y, type: 'quantitative' as const, title: yAxis.title, axis: { format: yAxis.format }, scale: { zero: false } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: opts.title ?? `${humanize(y)} after each SQ stage`,
    config: theme,
    width: opts.width ?? 380,
    height: opts.height ?? 250,
    layer: [
      {
        data: { values: opts.rows },
        mark: { type: 'line', point: { size: 40 }, strokeWidth: 2 },
        encoding: {
          x: { field: x, type: 'quantitative', title: t[x] ?? 'SQ ratio (share of weights quantized, %)', axis: { format: '.1~%', values: distinct(opts.rows, x).map(Number) }, scale: { zero: false } },
          y: yEnc,
          color: { field: color, type: 'nominal', title: humanize(color), scale },
        },
      },
      {
        data: { values: baselines.map((b) => ({ [color]: b.name, [y]: b.value })) },
        mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5 },
        encoding: { y: yEnc, color: { field: color, type: 'nominal', scale } },
      },
    ],
  } as TopLevelSpec;
}
