/**
 * Preloaded into the tslab kernel (`node -r`, see tslab-kernel.sh). Two fixes for tslab 1.0.22; each one
 * does nothing if tslab is laid out differently (another version), so the kernel still starts.
 */
'use strict';
const fs = require('fs');
const path = require('path');

/** Loads a module of the project's tslab install, or null. */
function fromTslab(id) {
  try {
    return require(require.resolve(id, { paths: [path.dirname(require.resolve('tslab/package.json', { paths: [process.cwd()] }))] }));
  } catch {
    return null;
  }
}

/**
 * Folder imports: `import { curves } from './src/plots'` type-checks in tslab, but at run time tslab looks the
 * compiled module up as `<dir>/<id>.js` only (executor.js requireFromSideOutputs), misses `<id>/index.js`,
 * falls back to Node's require (which cannot load .ts) and fails with "Cannot find module './src/plots'".
 * Its path helper `normalizeJoin(dirname, id)` is looked up on the exports object at each call, so mapping a
 * relative id that names a folder with an index.ts to `<folder>/index` makes tslab append `.js` to the right name.
 */
function allowFolderImports() {
  const tspath = fromTslab('tslab/dist/tspath');
  if (!tspath || typeof tspath.normalizeJoin !== 'function') return;
  const original = tspath.normalizeJoin;
  tspath.normalizeJoin = function normalizeJoin(...parts) {
    const joined = original(...parts);
    const id = parts[parts.length - 1];
    const relative = parts.length === 2 && typeof id === 'string' && (id.startsWith('./') || id.startsWith('../'));
    if (relative && path.extname(joined) === '' && fs.existsSync(path.join(joined, 'index.ts'))) return original(joined, 'index');
    return joined;
  };
}

/**
 * Files written by a cell: TypeScript's watch program watches folders of failed module lookups (the project
 * root, since the kernel runs there). A cell that writes results (a new CSV or PNG under results/) fires such a
 * watcher, which schedules a rebuild through tslab's one-slot timer; the next cell then finds the slot taken
 * and every later cell fails with "unexpected error: Error: Unexpected pending rebuildTimer".
 * Folder watching only serves to notice a module that appears after a failed import (restart the kernel
 * then); edits to imported .ts files still reach tslab through its file watchers, which are kept.
 */
function ignoreFolderWatchers() {
  const ts = fromTslab('@tslab/typescript-for-tslab');
  if (!ts || !ts.sys) return;
  ts.sys.watchDirectory = () => ({ close() {} });
}

allowFolderImports();
ignoreFolderWatchers();
