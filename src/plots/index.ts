/**
 * Figures and tables for experiments and notebooks: vega-lite spec builders (pure data -> spec),
 * rendering to SVG/PNG, saving, and showing in tslab notebooks.
 */
export { colorFor, colorScale } from './palette';
export { theme, FONT } from './theme';
export { weightHistogram, type WeightHistogramOptions } from './histogram';
export type { Row } from './types';
export { curves, type CurvesOptions } from './curves';
export { methodBars, type MethodBarsOptions } from './methodBars';
export { sqStages, type SqStagesOptions } from './sqStages';
export { renderSvg, renderPng, svgToPng, type PngOptions } from './render';
export { savePlot, type SavedPlot } from './save';
export { showPlot, type ShowOptions } from './show';
export { liveCurves, type LiveCurves } from './liveCurves';
export { toDataFrame, writeCsv, readCsv, showTable, tableHtml, type TableOptions } from './table';
export type { TopLevelSpec } from 'vega-lite';
