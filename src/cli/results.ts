/**
 * npm run results -- <experiment> [--dir results]: prints the variants of results/<experiment>/summary.json as a
 * Markdown table (accuracies in %, lists shortened), with the provenance from run.json.
 * npm run results -- --table NAME: prints one of the generated README tables (src/experiments/tables.ts).
 * npm run results -- --write-readmes: regenerates every marked table in README.md and results/*\/README.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { regenerateTables, renderTable, tableFiles, TABLES } from '../experiments/tables';

function cell(v: unknown): string {
  if (v == null) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(4);
  if (Array.isArray(v)) {
    const flat = v.map((x) => (Array.isArray(x) ? `[${x.map((y) => cell(y)).join(', ')}]` : cell(x)));
    return flat.join(', ');
  }
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

const program = new Command('results')
  .argument('[experiment]')
  .option('--dir <dir>', 'results folder', 'results')
  .option('--fields <list>', 'comma-separated fields (default: all scalar fields)')
  .option('--table <name>', `print a generated table (${Object.keys(TABLES).join(', ')})`)
  .option('--write-readmes', 'regenerate the marked tables in README.md and results/*/README.md')
  .action((name: string | undefined, opts: { dir: string; fields?: string; table?: string; writeReadmes?: boolean }) => {
    if (opts.table) {
      console.log(renderTable(opts.table, opts.dir));
      return;
    }
    if (opts.writeReadmes) {
      for (const f of tableFiles('.')) {
        const text = fs.readFileSync(f, 'utf8');
        const next = regenerateTables(text, opts.dir);
        if (next !== text) {
          fs.writeFileSync(f, next);
          console.log(`updated ${f}`);
        }
      }
      return;
    }
    if (!name) {
      console.error('Usage: npm run results -- <experiment> | --table NAME | --write-readmes');
      process.exit(1);
    }
    const file = path.join(opts.dir, name, 'summary.json');
    if (!fs.existsSync(file)) {
      console.error(`No ${file}: run \`npm run experiment -- ${name}\` first.`);
      process.exit(1);
    }
    const summary = JSON.parse(fs.readFileSync(file, 'utf8'));
    const variants: Record<string, unknown>[] = summary.variants;
    const fields = opts.fields
      ? opts.fields.split(',')
      : [...new Set(variants.flatMap((v) => Object.keys(v).filter((k) => typeof v[k] !== 'object' || v[k] === null)))];
    console.log(`| ${fields.join(' | ')} |\n|${fields.map(() => '---').join('|')}|`);
    for (const v of variants) console.log(`| ${fields.map((f) => cell(v[f])).join(' | ')} |`);
    const runFile = path.join(opts.dir, name, 'run.json');
    if (fs.existsSync(runFile)) {
      const run = JSON.parse(fs.readFileSync(runFile, 'utf8'));
      console.log(`\n${run.command} — commit ${String(run.commit).slice(0, 7)}, backend ${run.backend}, ${run.date}`);
    }
  });
program.parse();
