/** Every generated table in README.md and results/*\/README.md equals what its committed summary.json produces. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { regenerateTables, renderTable, tableFiles } from '../src/experiments/tables';

test('committed README tables match their summaries (npm run results -- --write-readmes regenerates them)', () => {
  let tables = 0;
  for (const f of tableFiles('.')) {
    const text = fs.readFileSync(f, 'utf8');
    tables += (text.match(/<!-- table: /g) ?? []).length;
    assert.equal(regenerateTables(text), text, `${f} has a table that differs from its summary.json: run \`npm run results -- --write-readmes\``);
  }
  assert.ok(tables >= 1, 'the README holds at least one generated table');
});

test('tables are computed from the summary, ratios from unrounded values', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qnnlab-tables-'));
  fs.mkdirSync(path.join(dir, 'mary-lenet-mnist-qnnlab'));
  fs.writeFileSync(path.join(dir, 'mary-lenet-mnist-qnnlab', 'summary.json'), JSON.stringify({
    experiment: 'mary-lenet-mnist', variants: [
      { name: 'fp', validationAccuracy: 0.99, testAccuracy: 0.9912, epochs: 12 },
      {
        name: 'M3-spikeslab', M: 3, prior: 'spikeslab', epochs: 8, validationAccuracy: 0.9888, testAccuracy: 0.98876,
        trainedMode: 'quantized', testAccuracyMc: 0.9881, quantizationLoss: [30, 3, 0.4449, 0.01], memoryKiB: 19.53,
        sigma: [{ median: 0.0067, p90: 0.007, initial: 0.0067379 }],
      },
    ],
  }));
  const table = renderTable('mary-recipes', dir);
  const lines = table.split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[2], /^\| float LeNet-5 \| 12 \| 99\.00 % \| 99\.12 % \|/);
  // 0.4449 / 30 = 1.483 % (from the unrounded loss; the shown 0.44 / 30 would give 1.467 %)
  assert.match(lines[3], /qnnlab: M = 3, spike-and-slab \| 8 \| 98\.88 % \| 98\.88 % \| 98\.88 % \(Q\(θ\)\) \| 98\.81 % \| 30\.0 → 3\.00 → 0\.44 → 0\.010 \| 1\.5 % \| 0\.0067 \(= init\) \| 19\.5 KiB \|/);
  const md = `x\n<!-- table: mary-recipes -->\nstale\n<!-- /table -->\ny`;
  assert.equal(regenerateTables(md, dir), `x\n<!-- table: mary-recipes -->\n${table}\n<!-- /table -->\ny`);
  assert.throws(() => renderTable('nope', dir), /Unknown table 'nope'/);
});
