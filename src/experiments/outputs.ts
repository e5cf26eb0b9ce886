/** Writing an experiment's results: metrics.csv (one row per epoch and variant), summary.json, run.json. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HistoryRow } from '../train';
import { writeCsv } from '../plots/table';

export function writeJson(file: string, data: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

/** Union of the keys of all rows, in first-seen order, so variants with extra metrics share one CSV. */
export function normalizeRows(rows: HistoryRow[]): HistoryRow[] {
  const keys: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  return rows.map((r) => Object.fromEntries(keys.map((k) => [k, r[k] ?? ''])) as HistoryRow);
}

export async function writeMetrics(outDir: string, history: HistoryRow[]): Promise<string> {
  const file = path.join(outDir, 'metrics.csv');
  await writeCsv(normalizeRows(history), file);
  return file;
}
