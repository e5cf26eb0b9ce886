import type { TopLevelSpec } from 'vega-lite';
import type { UnitSpec } from 'vega-lite/build/src/spec';
import type { Field } from 'vega-lite/build/src/channeldef';
import { colorScale } from './palette';
import { distinct, humanize, numbers, quantityAxis, theme } from './theme';
import type { Row } from './types';

export interface MethodBarsOptions {
  rows: Row[];
  /** Category column (default 'method'). */
  x?: string;
  /** Value column (default 'testAccuracy'). */
  y?: string;
  /** Optional second panel, e.g. 'memoryKB'; its title should carry the unit (see `titles`). */
  memory?: string;
  /** Optional column with a ± spread of y (e.g. the std over seeds), drawn as error bars. */
  error?: string;
  title?: string;
  titles?: Record<string, string>;
  width?: number;
  height?: number;
}

/** One bar per method in the method's palette colour, with the value printed on the bar. */
function barPanel(rows: Row[], x: string, y: string, title: string | undefined, error: string | undefined, width: number, height: number): UnitSpec<Field> {
  const axis = quantityAxis(y, numbers(rows, y), title);
  const names = distinct(rows, x);
  const enc = {
    x: { field: x, type: 'nominal' as const, sort: names, title: humanize(x), axis: { labelAngle: -30, labelLimit: 260 } },
    y: { field: y, type: 'quantitative' as const, title: axis.title, axis: { format: axis.format } },
  };
  const layers: Array<UnitSpec<Field>> = [
    { mark: { type: 'bar' }, encoding: { ...enc, color: { field: x, type: 'nominal', scale: colorScale(names), legend: null } } },
    { mark: { type: 'text', dy: -7, fontSize: 11 }, encoding: { ...enc, text: { field: y, type: 'quantitative', format: axis.format ? '.1%' : ',.4~g' } } },
  ];
  if (error) {
    layers.push({
      transform: [{ calculate: `datum[${JSON.stringify(y)}] - datum[${JSON.stringify(error)}]`, as: '_lo' }, { calculate: `datum[${JSON.stringify(y)}] + datum[${JSON.stringify(error)}]`, as: '_hi' }],
      mark: { type: 'rule', color: 'black' },
      encoding: { x: enc.x, y: { field: '_lo', type: 'quantitative' }, y2: { field: '_hi' } },
    });
  }
  // A layered unit: vega-lite accepts {layer, width, height} where a unit is expected inside hconcat.
  return { layer: layers, width, height } as unknown as UnitSpec<Field>;
}

/** Test accuracy per method (and optionally the model memory per method, side by side). */
export function methodBars(opts: MethodBarsOptions): TopLevelSpec {
  const x = opts.x ?? 'method';
  const y = opts.y ?? 'testAccuracy';
  const t = opts.titles ?? {};
  const width = opts.width ?? Math.max(220, 45 * distinct(opts.rows, x).length);
  const height = opts.height ?? 240;
  const panels = [barPanel(opts.rows, x, y, t[y], opts.error, width, height)];
  if (opts.memory) panels.push(barPanel(opts.rows, x, opts.memory, t[opts.memory], undefined, width, height));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: opts.title ?? `${humanize(y)} by ${humanize(x)}`,
    config: theme,
    data: { values: opts.rows },
    hconcat: panels,
  } as TopLevelSpec;
}
