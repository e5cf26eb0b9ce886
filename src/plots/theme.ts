import type { Config } from 'vega-lite';

/**
 * Shared look: white background (PNG must not be transparent in dark notebook themes), text >= 11 px,
 * and DejaVu Sans first because that is the font resvg finds on Linux; browsers fall back to their sans-serif.
 */
export const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

export const theme: Config = {
  background: 'white',
  font: FONT,
  padding: 8,
  title: { fontSize: 15, anchor: 'start', offset: 10 },
  axis: { labelFontSize: 12, titleFontSize: 13, titlePadding: 8, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 12, titleFontSize: 13, symbolSize: 120, labelLimit: 260 },
  header: { labelFontSize: 13, titleFontSize: 13 },
  text: { fontSize: 11 },
  view: { stroke: '#cccccc' },
};

/** "testAccuracy" -> "test accuracy", "quant_loss" -> "quant loss": a readable default axis title. */
export function humanize(field: string): string {
  // Units keep their case and go in parentheses: memoryKiB -> "memory (KiB)".
  const unit = /(KiB|MiB|KB|MB)$/.exec(field);
  if (unit && field.length > unit[0].length) return `${humanize(field.slice(0, -unit[0].length))} (${unit[0]})`;
  return field
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase();
}

/** Distinct values of one column, in first-seen order (that order becomes legend and colour order). */
export function distinct(rows: Array<Record<string, unknown>>, field: string): string[] {
  const seen = new Set<string>();
  for (const r of rows) if (r[field] != null) seen.add(String(r[field]));
  return [...seen];
}

/** Columns that hold a share of something (accuracy, error, flip ratio, sparsity); not e.g. a learning rate. */
export function isFractionColumn(field: string): boolean {
  return /acc|error|ratio|sparsity/i.test(field);
}

/**
 * Accuracy-like values in [0, 1] are shown as percentages; the title says the unit either way,
 * because a bare "accuracy" axis from 0 to 1 reads ambiguously next to one from 0 to 100.
 */
export function quantityAxis(field: string, values: number[], title?: string): { title: string; format?: string } {
  const base = title ?? humanize(field);
  const isRatio = isFractionColumn(field) && values.length > 0 && values.every((v) => v >= 0 && v <= 1);
  if (isRatio) return { title: title ?? `${base} (%)`, format: '.1~%' }; // ~ trims: 90%, 90.5%
  return { title: base };
}

/** The finite numbers of one column (missing epochs and NaN are skipped, not plotted as zero). */
export function numbers(rows: Array<Record<string, unknown>>, field: string): number[] {
  return rows.map((r) => r[field]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}
