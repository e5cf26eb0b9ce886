/**
 * The notebook generator (scripts/build-notebooks.ts) and the notebook sources in notebooks/src/: the percent
 * format round-trips, a notebook edited in Jupyter is detected and never overwritten without --force, and the
 * sources follow the tslab rules that tsc cannot check (notebooks/README.md).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import * as ts from 'typescript';
import { cellsHash, cellsOfIpynb, main, notebookState, parseSource, toIpynb, toSource, type Cell } from '../scripts/build-notebooks';

const root = path.resolve(__dirname, '..');
const srcDir = path.join(root, 'notebooks', 'src');
const sources = fs.readdirSync(srcDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort();

test('percent format: markers, markdown comments, blank lines around cells', () => {
  const cells = parseSource([
    '', '// %% [markdown]', '// # Title', '//', '// text with `code` and ${x}', '', '// %%', 'const a = 1;', '', 'console.log(a);', '', '',
    '// %%', '// a comment in code', 'await f();', '',
  ].join('\n'));
  assert.deepEqual(cells, [
    { type: 'markdown', source: '# Title\n\ntext with `code` and ${x}' },
    { type: 'code', source: 'const a = 1;\n\nconsole.log(a);' },
    { type: 'code', source: '// a comment in code\nawait f();' },
  ]);
  assert.deepEqual(parseSource(toSource(cells)), cells);
});

test('percent format: malformed sources are refused with the line', () => {
  assert.throws(() => parseSource('const a = 1;\n// %%\nb();\n', 'x.ts'), /x\.ts:1: text before the first/);
  assert.throws(() => parseSource('// %% [markdown]\n# not a comment\n', 'x.ts'), /x\.ts:2: a markdown cell holds only comment lines/);
  assert.throws(() => parseSource('// %% [raw]\nx\n', 'x.ts'), /x\.ts:1: unknown cell marker/);
  assert.throws(() => parseSource('// %%\n\n// %%\na();\n', 'x.ts'), /x\.ts:1: empty cell/);
});

test('every notebook source round-trips through the percent format and the .ipynb', () => {
  assert.ok(sources.length >= 7, `notebook sources in notebooks/src: ${sources.join(', ')}`);
  for (const f of sources) {
    const cells = parseSource(fs.readFileSync(path.join(srcDir, f), 'utf8'), f);
    assert.deepEqual(parseSource(toSource(cells)), cells, f);
    assert.deepEqual(cellsOfIpynb(toIpynb(f.slice(0, -3), cells)), cells, f);
  }
});

test('notebookState: current, stale, missing, edited', () => {
  const before: Cell[] = [{ type: 'markdown', source: '# A' }, { type: 'code', source: 'const a = 1;' }];
  const after: Cell[] = [{ type: 'markdown', source: '# A' }, { type: 'code', source: 'const a = 2;' }];
  const built = toIpynb('x', before);
  assert.equal(notebookState(built, built, cellsHash(before)), 'current');
  assert.equal(notebookState(null, built, undefined), 'missing');
  // The source changed since the last build: the notebook holds the recorded cells.
  assert.equal(notebookState(built, toIpynb('x', after), cellsHash(before)), 'stale');
  // Run and saved in Jupyter (outputs, metadata) but the cells are the source's: nothing to lose.
  const executed = JSON.parse(built);
  executed.cells[1].outputs = [{ output_type: 'stream', name: 'stdout', text: ['1\n'] }];
  executed.metadata.language_info.version = '5.0.5';
  assert.equal(notebookState(JSON.stringify(executed), built, cellsHash(before)), 'stale');
  // A cell edited in Jupyter: neither the source's cells nor the recorded ones.
  const edited = JSON.parse(built);
  edited.cells[1].source = ['const a = 3;'];
  assert.equal(notebookState(JSON.stringify(edited), built, cellsHash(before)), 'edited');
  // The same edit copied into the source: the notebook is current in substance.
  assert.equal(notebookState(JSON.stringify(edited), toIpynb('x', [before[0], { type: 'code', source: 'const a = 3;' }]), cellsHash(before)), 'stale');
  assert.equal(notebookState('{ not json', built, cellsHash(before)), 'edited');
});

test('build, --check, an edit in Jupyter, --force, --pull (in a temporary project)', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qnnlab-notebooks-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const log: string[] = [];
  t.mock.method(console, 'log', (...a: unknown[]) => log.push(a.join(' ')));
  t.mock.method(console, 'error', (...a: unknown[]) => log.push(a.join(' ')));
  const src = path.join(dir, 'notebooks', 'src', '01-x.ts');
  const ipynb = path.join(dir, 'notebooks', '01-x.ipynb');
  fs.mkdirSync(path.dirname(src), { recursive: true });
  fs.writeFileSync(src, '// %% [markdown]\n// # X\n\n// %%\nconst a = 1;\n');
  const run = (...argv: string[]) => {
    log.length = 0;
    return main(argv, dir);
  };

  assert.equal(run('--check'), 1);
  assert.match(log.join('\n'), /notebooks\/01-x\.ipynb is missing/);
  assert.equal(run(), 0);
  assert.equal(run('--check'), 0, log.join('\n'));
  const built = fs.readFileSync(ipynb, 'utf8');

  // The source changes: stale, and the build rewrites the notebook.
  fs.writeFileSync(src, '// %% [markdown]\n// # X\n\n// %%\nconst a = 2;\n');
  assert.equal(run('--check'), 1);
  assert.match(log.join('\n'), /01-x\.ipynb is stale/);
  assert.equal(run(), 0);
  assert.equal(run('--check'), 0, log.join('\n'));

  // A cell edited in Jupyter: --check names it, the build refuses, --force overwrites.
  const nb = JSON.parse(fs.readFileSync(ipynb, 'utf8'));
  nb.cells[1].source = ['const a = 3;'];
  fs.writeFileSync(ipynb, JSON.stringify(nb));
  assert.equal(run('--check'), 1);
  assert.match(log.join('\n'), /01-x\.ipynb was edited outside the generator \(in Jupyter\?\): cell 2 differs/);
  assert.match(log.join('\n'), /Copy the change into notebooks\/src\/01-x\.ts/);
  assert.equal(run(), 1);
  assert.match(log.join('\n'), /--force overwrites/);
  assert.equal(JSON.parse(fs.readFileSync(ipynb, 'utf8')).cells[1].source[0], 'const a = 3;', 'the edit is kept');
  // ... still refused after the source changes again, since the edit is in neither version.
  fs.writeFileSync(src, '// %% [markdown]\n// # X\n\n// %%\nconst a = 4;\n');
  assert.equal(run(), 1);
  // --pull takes the notebook's cells into the source; then the notebook is current.
  assert.equal(run('--pull', '01-x'), 0);
  assert.equal(fs.readFileSync(src, 'utf8'), '// %% [markdown]\n// # X\n\n// %%\nconst a = 3;\n');
  assert.equal(run(), 0);
  assert.equal(run('--check'), 0, log.join('\n'));
  // --force discards an edit.
  nb.cells[1].source = ['const a = 5;'];
  fs.writeFileSync(ipynb, JSON.stringify(nb));
  assert.equal(run('--force'), 0);
  assert.equal(fs.readFileSync(ipynb, 'utf8').replace('const a = 3;', 'X'), built.replace('const a = 1;', 'X'));

  // A notebook without a source.
  fs.writeFileSync(path.join(dir, 'notebooks', '02-y.ipynb'), built);
  assert.equal(run('--check'), 1);
  assert.match(log.join('\n'), /notebooks\/02-y\.ipynb has no source notebooks\/src\/02-y\.ts/);
});

/** Names declared at the top level of a cell (variables, functions, classes, imports). */
function topLevelNames(sf: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  const bind = (n: ts.BindingName) => {
    if (ts.isIdentifier(n)) names.add(n.text);
    else for (const e of n.elements) if (!ts.isOmittedExpression(e)) bind(e.name);
  };
  for (const s of sf.statements) {
    if (ts.isVariableStatement(s)) for (const d of s.declarationList.declarations) bind(d.name);
    else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s)) && s.name) names.add(s.name.text);
    else if (ts.isImportDeclaration(s) && s.importClause) {
      const c = s.importClause;
      if (c.name) names.add(c.name.text);
      const b = c.namedBindings;
      if (b && ts.isNamespaceImport(b)) names.add(b.name.text);
      else if (b) for (const e of b.elements) names.add(e.name.text);
    }
  }
  return names;
}

test('notebook sources follow the tslab rules tsc cannot check', () => {
  const problems: string[] = [];
  for (const f of sources) {
    const cells = parseSource(fs.readFileSync(path.join(srcDir, f), 'utf8'), f).filter((c) => c.type === 'code');
    const earlier = new Set<string>();
    cells.forEach((cell, i) => {
      const sf = ts.createSourceFile(`${f}#${i}`, cell.source, ts.ScriptTarget.ES2022, true);
      const own = topLevelNames(sf);
      const visit = (n: ts.Node) => {
        // tslab 1.0.22: `{ rows }` naming a variable of an earlier cell fails at run time ("rows is not defined").
        if (ts.isShorthandPropertyAssignment(n) && earlier.has(n.name.text) && !own.has(n.name.text)) {
          problems.push(`${f}, code cell ${i + 1}: shorthand property { ${n.name.text} } names a variable of an earlier cell; write { ${n.name.text}: ${n.name.text} }`);
        }
        ts.forEachChild(n, visit);
      };
      visit(sf);
      for (const s of sf.statements) {
        if (ts.isImportDeclaration(s) && ts.isStringLiteral(s.moduleSpecifier) && s.moduleSpecifier.text.startsWith('../')) {
          problems.push(`${f}, code cell ${i + 1}: import '${s.moduleSpecifier.text}': the kernel runs in the project root, import './src/...'`);
        }
      }
      for (const name of own) earlier.add(name);
    });
  }
  assert.deepEqual(problems, []);
});
