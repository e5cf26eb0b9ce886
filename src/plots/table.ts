import * as fs from 'fs';
import * as path from 'path';
import type { DataFrame } from 'danfojs-node';
import { notebookDisplay } from './display';
import type { Row } from './types';

/**
 * Result tables: rows (plain objects) <-> danfojs DataFrames and CSV files, and HTML tables in notebooks.
 * danfojs-node is required inside the functions: it loads a second copy of tfjs (aliased for tfjs-node),
 * which takes about a second and should only happen when a table is actually used.
 */
type Danfo = typeof import('danfojs-node');
const danfo = (): Danfo => require('danfojs-node');

/** Every column that appears in any row, in first-seen order (rows from different runs may differ). */
export function columnsOf(rows: Row[]): string[] {
  const cols = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) cols.add(k);
  return [...cols];
}

/** Rows with the same columns everywhere; missing cells become null (danfo infers columns from row 0). */
function rectangular(rows: Row[]): Row[] {
  const cols = columnsOf(rows);
  return rows.map((r) => Object.fromEntries(cols.map((c) => [c, r[c] ?? null])));
}

export function toDataFrame(rows: Row[]): DataFrame {
  if (rows.length === 0) throw new Error('toDataFrame: no rows');
  return new (danfo().DataFrame)(rectangular(rows));
}

/** RFC 4180 quoting: danfo's toCSV joins cells with the separator and does not quote them itself. */
function csvCell(v: Row[string]): Row[string] {
  if (typeof v !== 'string' || !/[",\n\r]/.test(v)) return v;
  return `"${v.replace(/"/g, '""')}"`;
}

/** Writes rows as CSV (header + one line per row) through danfo's toCSV; creates missing folders. */
export function writeCsv(rows: Row[], file: string): void {
  if (!file.endsWith('.csv')) throw new Error(`writeCsv: '${file}' must end in .csv`); // danfo would append it silently
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const quoted = rectangular(rows).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, csvCell(v)])));
  danfo().toCSV(toDataFrame(quoted), { filePath: file });
}

/** Reads a CSV written by writeCsv back into rows (numbers typed as numbers). */
export async function readCsv(file: string): Promise<Row[]> {
  const d = danfo();
  const df = (await d.readCSV(file)) as DataFrame;
  return d.toJSON(df, { format: 'column' }) as Row[];
}

export interface TableOptions {
  /** Significant digits for numbers (default 4). */
  digits?: number;
  caption?: string;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function formatCell(v: Row[string], digits: number): string {
  if (v == null) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Number(v.toPrecision(digits)).toString();
  return escapeHtml(v);
}

/** A plain HTML table (numbers right-aligned), readable in Jupyter and in nbconvert's HTML export. */
export function tableHtml(rows: Row[], opts: TableOptions = {}): string {
  const cols = columnsOf(rows);
  const digits = opts.digits ?? 4;
  const head = cols.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows
    .map((r) => '<tr>' + cols.map((c) => `<td style="text-align:${typeof r[c] === 'number' ? 'right' : 'left'}">${formatCell(r[c], digits)}</td>`).join('') + '</tr>')
    .join('\n');
  const caption = opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : '';
  return `<table>${caption}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
}

/** Shows rows as an HTML table in a notebook; prints console.table outside one. */
export function showTable(rows: Row[], opts: TableOptions = {}): void {
  const display = notebookDisplay();
  if (display) display.html(tableHtml(rows, opts));
  else {
    if (opts.caption) console.log(opts.caption);
    console.table(rows);
  }
}
