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

test('robustness tables: means over the rotated and the corrupted sets, AUROC by score, σ per layer', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qnnlab-tables-'));
  fs.mkdirSync(path.join(dir, 'mary-robustness-mnist'));
  const m = (accuracy: number, ece: number, mi: number | null = null) => ({ accuracy, nll: 2 * (1 - accuracy), brier: 1 - accuracy, ece, meanMutualInformation: mi });
  fs.writeFileSync(path.join(dir, 'mary-robustness-mnist', 'summary.json'), JSON.stringify({
    experiment: 'mary-robustness-mnist',
    variants: [{
      name: 'paper-M2-spikeslab-mc', kind: 'bayes-mc', clean: m(0.99, 0.01, 0.002),
      // rotate-0 is the clean set and stays out of the rotated mean: (0.8 + 0.4) / 2 = 60 %; ECE (0.1 + 0.3) / 2.
      shifts: { 'rotate-0': m(0.99, 0.01, 0.002), 'rotate-90': m(0.8, 0.1, 0.05), 'rotate-180': m(0.4, 0.3, 0.09), 'contrast-5': m(0.5, 0.2), 'gaussian-noise-5': m(0.7, 0.1) },
      ood: [{ set: 'fashion-mnist', score: 'max-softmax', auroc: 0.9123 }, { set: 'fashion-mnist', score: 'mutual-information', auroc: 0.6 }],
    }],
    nets: [{ name: 'paper-M2-spikeslab', family: 'bayesian', epochs: 50, sigma: [{ name: 'conv1', median: 0.0136, p90: 0.02, initial: 0.0067379 }], sigmaAtInitial: false }],
  }));
  const shifts = renderTable('robustness-shifts', dir).split('\n');
  assert.equal(shifts.length, 3);
  assert.equal(shifts[2], '| `paper-M2-spikeslab-mc` | bayes-mc | 99.00 % | 0.020 | 0.010 | 0.0100 | 60.00 % | 0.800 | 0.400 | 0.2000 | 60.00 % | 0.800 | 0.400 | 0.1500 |');
  const ood = renderTable('robustness-ood', dir).split('\n');
  assert.match(ood[0], /fashion-mnist: AUROC MSP \| fashion-mnist: AUROC H \| fashion-mnist: AUROC MI \| mean MI, clean \| mean MI, rotated 90°/);
  assert.equal(ood[2], '| `paper-M2-spikeslab-mc` | 0.912 | – | 0.600 | 0.0020 | 0.050 |');
  const sigma = renderTable('robustness-sigma', dir).split('\n');
  assert.equal(sigma[2], '| paper-M2-spikeslab | 50 | 0.014 (0.020) | 0.0067 | no |');
});
