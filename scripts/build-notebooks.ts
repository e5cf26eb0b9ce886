/**
 * Generates notebooks/NAME.ipynb (without outputs) from its source notebooks/src/NAME.ts, a TypeScript file in
 * jupytext's percent format, which `npm run typecheck` type-checks (notebooks/tsconfig.json):
 *
 *   // %%                 starts a code cell: the lines up to the next marker, as they are
 *   // %% [markdown]      starts a markdown cell: comment lines, `// ` (or a bare `//`) removed
 *
 * Blank lines around a cell are dropped; nothing but blank lines may come before the first marker.
 *
 *   npx tsx scripts/build-notebooks.ts              # (re)write every notebook whose source changed
 *   npx tsx scripts/build-notebooks.ts --check      # exit 1 when a notebook is stale, missing or was edited
 *   npx tsx scripts/build-notebooks.ts --force      # also overwrite notebooks edited outside this script
 *   npx tsx scripts/build-notebooks.ts --pull NAME  # write notebooks/NAME.ipynb's cells into notebooks/src/NAME.ts
 *
 * Edits made in Jupyter: notebooks/src/built.json records a hash of the cells of every notebook as this script
 * last wrote them. A notebook whose cells match neither that hash nor its source was edited outside the
 * generator: --check says so, and the build refuses to overwrite it (the edit would be lost) unless --force.
 * Copy the change into the source (or --pull it), then build.
 *
 * Executed copies (notebooks/executed/, `npm run notebooks:render`) are not written here; --check only notes
 * the ones whose cells no longer match their source.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type CellType = 'markdown' | 'code';
export interface Cell {
  type: CellType;
  source: string;
}

const MARKER = /^\/\/ %%(?: \[(markdown)\])?[ \t]*$/;

/** Cells of a percent-format source; `file` only names the source in errors. */
export function parseSource(text: string, file = 'source'): Cell[] {
  const cells: Cell[] = [];
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  let current: (Cell & { line: number }) | null = null;
  lines.forEach((line, i) => {
    const m = MARKER.exec(line);
    if (m) {
      if (current) cells.push(current);
      current = { type: m[1] ? 'markdown' : 'code', source: '', line: i + 1 };
      return;
    }
    if (line.startsWith('// %%')) throw new Error(`${file}:${i + 1}: unknown cell marker '${line}' (use '// %%' or '// %% [markdown]')`);
    if (!current) {
      if (line.trim() !== '') throw new Error(`${file}:${i + 1}: text before the first '// %%' marker`);
      return;
    }
    if (current.type === 'markdown' && line.trim() !== '') {
      if (line !== '//' && !line.startsWith('// ')) {
        throw new Error(`${file}:${i + 1}: a markdown cell holds only comment lines ('// text' or '//'), got '${line}'`);
      }
      line = line.slice(3);
    }
    current.source += `${line}\n`;
  });
  if (current) cells.push(current);
  return cells.map((c) => {
    const source = c.source.replace(/^\n+/, '').replace(/\s+$/, '');
    if (source === '') throw new Error(`${file}:${(c as Cell & { line: number }).line}: empty cell`);
    return { type: c.type, source };
  });
}

/** The percent-format source of `cells` (what --pull writes); parseSource(toSource(c)) equals c. */
export function toSource(cells: Cell[]): string {
  const parts = cells.map((c) => (c.type === 'markdown'
    ? `// %% [markdown]\n${c.source.split('\n').map((l) => (l === '' ? '//' : `// ${l}`)).join('\n')}`
    : `// %%\n${c.source}`));
  return `${parts.join('\n\n')}\n`;
}

/** nbformat 4.5 JSON as Jupyter writes it: sorted keys, one-space indent, source as a list of lines. */
export function toIpynb(name: string, cells: Cell[]): string {
  const slug = name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40);
  const json = {
    cells: cells.map((c, i) => {
      const lines = c.source.split('\n').map((l, k, all) => (k < all.length - 1 ? `${l}\n` : l));
      const base = { cell_type: c.type, id: `${slug}-${String(i + 1).padStart(2, '0')}`, metadata: {}, source: lines };
      return c.type === 'code' ? { ...base, execution_count: null, outputs: [] } : base;
    }),
    metadata: {
      kernelspec: { display_name: 'TypeScript', language: 'typescript', name: 'tslab' },
      language_info: { codemirror_mode: { mode: 'typescript', name: 'javascript', typescript: true }, file_extension: '.ts', mimetype: 'text/typescript', name: 'typescript', version: '5.0.4' },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
  return `${JSON.stringify(sortKeys(json), null, 1)}\n`;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  }
  return v;
}

/** The cells of a notebook file's JSON (markdown and code; raw cells count as code), outputs ignored. */
export function cellsOfIpynb(json: string): Cell[] {
  const nb = JSON.parse(json) as { cells?: { cell_type: string; source: string | string[] }[] };
  return (nb.cells ?? []).map((c) => ({
    type: c.cell_type === 'markdown' ? 'markdown' : 'code',
    source: (Array.isArray(c.source) ? c.source.join('') : c.source).replace(/\s+$/, ''),
  }));
}

/** What "the same cells" means: equal types and sources (ids, metadata and outputs do not count). */
export function cellsHash(cells: Cell[]): string {
  return crypto.createHash('sha256').update(JSON.stringify(cells.map((c) => [c.type, c.source]))).digest('hex');
}

/** 1-based numbers of the cells that differ between two versions (cells present in only one count). */
export function differingCells(a: Cell[], b: Cell[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i]?.type !== b[i]?.type || a[i]?.source !== b[i]?.source) out.push(i + 1);
  }
  return out;
}

export type State = 'current' | 'stale' | 'missing' | 'edited';

/**
 * Compares notebooks/NAME.ipynb with what its source produces. 'edited': its cells match neither the source
 * nor the hash recorded when this script last wrote it, so overwriting would lose an edit made elsewhere.
 */
export function notebookState(current: string | null, generated: string, recorded: string | undefined): State {
  if (current === null) return 'missing';
  if (current === generated) return 'current';
  let cells: Cell[];
  try {
    cells = cellsOfIpynb(current);
  } catch {
    return 'edited'; // not JSON: never overwritten silently
  }
  const h = cellsHash(cells);
  return h === cellsHash(cellsOfIpynb(generated)) || h === recorded ? 'stale' : 'edited';
}

// ---------------------------------------------------------------------------------------------------------
/** The command line; `root` is the project folder (tests pass a temporary one). Returns the exit code. */
export function main(argv: string[], root = path.resolve(__dirname, '..')): number {
  const nbDir = path.join(root, 'notebooks');
  const srcDir = path.join(nbDir, 'src');
  const recordFile = path.join(srcDir, 'built.json');
  const rel = (p: string) => path.relative(root, p);
  const check = argv.includes('--check');
  const force = argv.includes('--force');
  const pull = argv.indexOf('--pull');

  if (pull >= 0) {
    const name = (argv[pull + 1] ?? '').replace(/^notebooks\//, '').replace(/\.(ipynb|ts)$/, '');
    const ipynb = path.join(nbDir, `${name}.ipynb`);
    if (!name || !fs.existsSync(ipynb)) {
      console.error(`--pull needs the name of a notebook in notebooks/, e.g. --pull 00-quickstart (got '${argv[pull + 1] ?? ''}')`);
      return 2;
    }
    const target = path.join(srcDir, `${name}.ts`);
    fs.writeFileSync(target, toSource(cellsOfIpynb(fs.readFileSync(ipynb, 'utf8'))));
    console.log(`wrote ${rel(target)} from ${rel(ipynb)}: review it with git diff, then run npx tsx scripts/build-notebooks.ts`);
    return 0;
  }

  const names = fs.readdirSync(srcDir).filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts')).map((f) => f.slice(0, -3)).sort();
  const recorded = (fs.existsSync(recordFile) ? JSON.parse(fs.readFileSync(recordFile, 'utf8')) : {}) as Record<string, string>;
  const record: Record<string, string> = {};
  let problems = 0;
  let refused = 0;
  const fail = (msg: string) => {
    console.error(msg);
    problems++;
  };

  for (const name of names) {
    const srcFile = path.join(srcDir, `${name}.ts`);
    const file = path.join(nbDir, `${name}.ipynb`);
    let cells: Cell[];
    try {
      cells = parseSource(fs.readFileSync(srcFile, 'utf8'), rel(srcFile));
    } catch (e) {
      fail((e as Error).message);
      if (recorded[name]) record[name] = recorded[name];
      continue;
    }
    const generated = toIpynb(name, cells);
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
    const state = notebookState(current, generated, recorded[name]);
    const edited = () => {
      const which = differingCells(cellsOfIpynb(current ?? '{}'), cells);
      return `${rel(file)} was edited outside the generator (in Jupyter?): ${which.length > 1 ? `cells ${which.join(', ')} differ` : `cell ${which[0]} differs`} ` +
        `from ${rel(srcFile)}, and not because the source changed. Copy the change into ${rel(srcFile)} ` +
        `(or take the notebook's cells with: npx tsx scripts/build-notebooks.ts --pull ${name}), then build; ` +
        '--force overwrites the notebook and loses the edit.';
    };
    record[name] = cellsHash(cells);
    if (check) {
      if (state === 'missing') fail(`${rel(file)} is missing: run npx tsx scripts/build-notebooks.ts`);
      else if (state === 'stale') fail(`${rel(file)} is stale: it differs from ${rel(srcFile)}; run npx tsx scripts/build-notebooks.ts`);
      else if (state === 'edited') fail(edited());
      else if (recorded[name] !== record[name]) fail(`${rel(recordFile)} is out of date for ${name}: run npx tsx scripts/build-notebooks.ts`);
      const executed = path.join(nbDir, 'executed', `${name}.ipynb`);
      if (fs.existsSync(executed) && cellsHash(cellsOfIpynb(fs.readFileSync(executed, 'utf8'))) !== record[name]) {
        console.log(`note: ${rel(executed)} was rendered from other cells than ${rel(srcFile)}'s; npm run notebooks:render -- ${name} renders it again`);
      }
      continue;
    }
    if (state === 'current') continue;
    if (state === 'edited' && !force) {
      console.error(edited());
      refused++;
      if (recorded[name]) record[name] = recorded[name];
      else delete record[name];
      continue;
    }
    fs.writeFileSync(file, generated);
    console.log(`wrote ${rel(file)} (${cells.length} cells)${state === 'edited' ? ', overwriting its edit (--force)' : ''}`);
  }

  for (const f of fs.readdirSync(nbDir).filter((x) => x.endsWith('.ipynb'))) {
    if (!names.includes(f.slice(0, -6))) fail(`notebooks/${f} has no source notebooks/src/${f.slice(0, -6)}.ts (take its cells with --pull ${f.slice(0, -6)})`);
  }
  const recordText = `{\n${Object.keys(record).sort().map((k) => `  ${JSON.stringify(k)}: ${JSON.stringify(record[k])}`).join(',\n')}\n}\n`;
  if (!check && (!fs.existsSync(recordFile) || fs.readFileSync(recordFile, 'utf8') !== recordText)) fs.writeFileSync(recordFile, recordText);
  if (check) {
    if (problems > 0) {
      console.error(`${problems} problem(s) with the notebooks in notebooks/ (sources: notebooks/src/*.ts, see notebooks/README.md)`);
      return 1;
    }
    console.log(`${names.length} notebooks match their sources in notebooks/src/.`);
    return 0;
  }
  return problems > 0 || refused > 0 ? 1 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
