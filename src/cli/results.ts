/**
 * npm run results -- <experiment> [--dir results]: prints the variants of results/<experiment>/summary.json as a
 * Markdown table (accuracies in %, lists shortened), with the provenance from run.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';

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
  .argument('<experiment>')
  .option('--dir <dir>', 'results folder', 'results')
  .option('--fields <list>', 'comma-separated fields (default: all scalar fields)')
  .action((name: string, opts: { dir: string; fields?: string }) => {
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
