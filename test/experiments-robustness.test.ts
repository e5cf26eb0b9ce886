/**
 * mary-robustness-mnist (issue 12) at CI size: every network family runs through the robustness protocol and the
 * summary carries its metrics; the float net loses accuracy under rotation; finished checkpoints of another run are
 * reused read-only when their fingerprint and epochs match, and trained anew when they do not.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runExperiment } from '../src/experiments/run';
import { readCsv } from '../src/plots/table';

function readJson(file: string) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `qnn-${name}-`));

async function smoke(overrides: Record<string, string>, name = 'mary-robustness-mnist', size: 'smoke' | 'full' = 'smoke') {
  const outDir = tmp(name);
  await runExperiment(name, { smoke: size === 'smoke', outDir, progress: 'none', overrides, backend: 'wasm' });
  return { outDir, summary: readJson(path.join(outDir, 'summary.json')), run: readJson(path.join(outDir, 'run.json')) };
}

interface Metrics { accuracy: number; nll: number; brier: number; ece: number; mce: number; meanConfidence: number; meanEntropy: number; meanMutualInformation: number | null; count: number }
interface Variant { name: string; kind: string; net: string; samples: number; testAccuracy: number; clean: Metrics; shifts: Record<string, Metrics>; ood: { set: string; score: string; auroc: number; aupr: number; nIn: number; nOut: number }[] }

/** Every file under `dir` with its SHA-256, to show that a reused run's checkpoints are left as they were. */
function digest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const file = path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
    out[path.relative(dir, file)] = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  }
  return out;
}

test('mary-robustness-mnist --smoke: every family through shifts and OOD sets, metrics in range, the float net hurt by rotation', async () => {
  const { outDir, summary, run } = await smoke({});
  assert.equal(summary.experiment, 'mary-robustness-mnist');
  assert.equal(run.backend, 'wasm');
  const variants = summary.variants as Variant[];
  assert.deepEqual(variants.map((v) => v.name), [
    'fp', 'twn', 'ste-M3-noprior', 'qnnlab-M3-spikeslab-q', 'qnnlab-M3-spikeslab-mc', 'paper-M3-spikeslab-q', 'paper-M3-spikeslab-mean',
    'paper-M3-spikeslab-mc', 'dropout-det', 'mc-dropout', 'ensemble',
  ]);
  const shifts = ['rotate-0', 'rotate-90', 'rotate-180', 'gaussian-noise-5', 'contrast-5'];
  assert.deepEqual(summary.sets.shifts, shifts);
  assert.deepEqual(summary.sets.ood, [{ name: 'fashion-mnist', count: 300 }, { name: 'uniform-noise', count: 300 }]);
  for (const v of variants) {
    const distribution = v.kind !== 'deterministic';
    assert.deepEqual(Object.keys(v.shifts), shifts, v.name);
    assert.deepEqual(v.shifts['rotate-0'], v.clean, `${v.name}: rotation by 0 is the clean test set`);
    assert.equal(v.testAccuracy, v.clean.accuracy);
    for (const m of [v.clean, ...Object.values(v.shifts)]) {
      assert.equal(m.count, 300);
      assert.ok(m.accuracy >= 0 && m.accuracy <= 1, `${v.name} accuracy ${m.accuracy}`);
      assert.ok(m.ece >= 0 && m.ece <= 1 && m.mce >= m.ece - 1e-12, `${v.name} ECE ${m.ece}, MCE ${m.mce}`);
      assert.ok(m.brier >= 0 && m.brier <= 2, `${v.name} Brier ${m.brier}`);
      assert.ok(m.nll >= 0 && Number.isFinite(m.nll), `${v.name} NLL ${m.nll}`);
      assert.ok(m.meanEntropy >= 0 && m.meanEntropy <= Math.log(10) + 1e-9);
      if (distribution) assert.ok(m.meanMutualInformation! >= 0, `${v.name}: mutual information ${m.meanMutualInformation}`);
      else assert.equal(m.meanMutualInformation, null, `${v.name}: no predictive distribution, no mutual information`);
    }
    // Two OOD sets × (max-softmax, entropy, and mutual information for predictors with a distribution).
    assert.equal(v.ood.length, distribution ? 6 : 4, v.name);
    for (const o of v.ood) {
      assert.ok(o.auroc >= 0 && o.auroc <= 1 && o.aupr >= 0 && o.aupr <= 1, `${v.name} ${o.set} ${o.score}: ${o.auroc}, ${o.aupr}`);
      assert.equal(o.nIn, 300);
      assert.equal(o.nOut, 300);
    }
  }
  const byName = Object.fromEntries(variants.map((v) => [v.name, v]));
  assert.equal(byName['qnnlab-M3-spikeslab-mc'].samples, 3);
  assert.equal(byName.ensemble.samples, 2);
  // With a meaning: the float net learns at this size, and turning the digits upside down costs it accuracy
  // (0, 1 and 8 survive a half turn, 6 and 9 swap): tens of points, far beyond the noise of 300 images.
  const fp = byName.fp;
  assert.ok(fp.clean.accuracy > 0.6, `the float net learns (chance 0.1): ${fp.clean.accuracy}`);
  assert.ok(fp.shifts['rotate-180'].accuracy < fp.clean.accuracy - 0.2, `rotate-180 ${fp.shifts['rotate-180'].accuracy} vs clean ${fp.clean.accuracy}`);

  // Bayesian nets report σ per layer and whether it left its initial value; a σ at its initial value is said in the notes.
  const nets = summary.nets as Array<{ name: string; family: string; source: string; sigma?: { median: number; p90: number; initial: number }[]; sigmaAtInitial?: boolean }>;
  const bayes = nets.filter((n) => n.family === 'bayesian');
  assert.deepEqual(bayes.map((n) => n.name), ['qnnlab-M3-spikeslab', 'paper-M3-spikeslab']);
  for (const n of bayes) {
    assert.equal(n.source, 'trained');
    assert.equal(n.sigma!.length, 5);
    assert.equal(typeof n.sigmaAtInitial, 'boolean');
    const noted = (summary.notes as string[]).some((s) => s.startsWith(`${n.name}: the posterior σ is at its initial value`));
    assert.equal(noted, n.sigmaAtInitial, `${n.name}: the note follows sigmaAtInitial`);
  }
  assert.equal(nets.filter((n) => n.family === 'ensemble').length, 2);

  // Tables and figures.
  const rows = await readCsv(path.join(outDir, 'shift-metrics.csv'));
  assert.equal(rows.length, variants.length * (1 + shifts.length));
  const ood = await readCsv(path.join(outDir, 'ood.csv'));
  assert.equal(ood.length, variants.reduce((s, v) => s + v.ood.length, 0));
  assert.equal((summary.oodTable as unknown[]).length, ood.length);
  const training = await readCsv(path.join(outDir, 'metrics.csv'));
  assert.ok(training.every((r) => Number(r.epoch) >= 1), 'metrics.csv holds the training epochs');
  for (const fig of ['rotation-baselines', 'rotation-qnnlab', 'rotation-paper', 'corruptions-baselines', 'reliability', 'entropy', 'ood-auroc']) {
    assert.ok(summary.figures.includes(fig), fig);
    for (const ext of ['svg', 'png', 'vl.json']) assert.ok(fs.existsSync(path.join(outDir, `${fig}.${ext}`)), `${fig}.${ext}`);
  }

  // A rerun in the same folder loads every net from its checkpoint and every evaluation from its saved file: the
  // same numbers without the Monte-Carlo passes. An evaluation saved with other weights or settings is redone.
  const evalDir = path.join(outDir, 'checkpoints', 'evaluations');
  assert.deepEqual(fs.readdirSync(evalDir).sort(), variants.map((v) => `${v.name}.json`).sort());
  const tampered = path.join(evalDir, 'ensemble.json');
  fs.writeFileSync(tampered, JSON.stringify({ ...readJson(tampered), key: 'another key' }));
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    await runExperiment('mary-robustness-mnist', { smoke: true, outDir, progress: 'log', overrides: {}, backend: 'wasm' });
  } finally {
    console.log = log;
  }
  const again = readJson(path.join(outDir, 'summary.json'));
  const untimed = (vs: Variant[]) => vs.map(({ seconds: _s, ...v }: Variant & { seconds?: number }) => v);
  assert.deepEqual(untimed(again.variants), untimed(variants), 'the same metrics, to the bit (the redone one too)');
  const savedLines = lines.filter((l) => l.endsWith('(saved evaluation)'));
  assert.equal(savedLines.length, variants.length - 1, lines.join('\n'));
  assert.ok(lines.some((l) => /^ensemble: evaluating again: .*other weights or evaluation settings/.test(l)), lines.join('\n'));
  assert.notEqual(readJson(tampered).key, 'another key', 'the redone evaluation was saved');
});

test('mary-robustness-mnist --reuseFrom: a finished mary-lenet-mnist run is loaded read-only when it matches, trained anew when it does not', async () => {
  // A mary-lenet-mnist run with this experiment's CI-size data and settings (qnnlab recipe, M = 3, spike-and-slab):
  // its full configuration made small, so that every other knob (the lr milestones included) is the recipe's.
  const source = await smoke({
    recipe: 'qnnlab', Ms: '3', priors: 'spikeslab', epochs: '1', fpEpochs: '4', fpMilestones: '', limitTrain: '2048', limitTest: '300',
    validation: '256', mcSamples: '2',
  }, 'mary-lenet-mnist', 'full');
  const checkpoints = path.join(source.outDir, 'checkpoints');
  const before = digest(checkpoints);
  const quick = { models: 'fp,bayesian', recipes: 'qnnlab', rotations: '0,180', corruptions: '', oodSets: '', reliabilityShift: '', reuseFrom: source.outDir };

  const reused = await smoke(quick);
  const nets = Object.fromEntries((reused.summary.nets as Array<{ name: string; source: string; checkpoint: string; configChecked?: boolean }>).map((n) => [n.name, n]));
  for (const [name, from] of [['fp', 'fp'], ['qnnlab-M3-spikeslab', 'M3-spikeslab']]) {
    assert.equal(nets[name].source, 'reused', name);
    assert.equal(nets[name].checkpoint, path.join(checkpoints, from));
    assert.equal(nets[name].configChecked, true, `${name}: the source run's run.json was compared`);
  }
  const own = path.join(reused.outDir, 'checkpoints');
  assert.deepEqual(fs.existsSync(own) ? fs.readdirSync(own) : [], ['evaluations'], 'nothing was trained: only the saved evaluations');
  const src = Object.fromEntries(source.summary.variants.map((v: { name: string; testAccuracy: number }) => [v.name, v.testAccuracy]));
  const got = Object.fromEntries(reused.summary.variants.map((v: { name: string; testAccuracy: number }) => [v.name, v.testAccuracy]));
  assert.equal(got.fp, src.fp, 'the same float net');
  assert.equal(got['qnnlab-M3-spikeslab-q'], src['M3-spikeslab'], 'the same deployed M = 3 net');
  assert.deepEqual(digest(checkpoints), before, 'the source checkpoints are unchanged');

  // Two epochs asked, one on disk: the Bayesian net trains here (from the reused float net), with a note saying why.
  const retrained = await smoke({ ...quick, models: 'bayesian', maryEpochs: '2' });
  const net = (retrained.summary.nets as Array<{ name: string; source: string; epochs: number }>).find((n) => n.name === 'qnnlab-M3-spikeslab')!;
  assert.equal(net.source, 'trained');
  assert.equal(net.epochs, 2);
  assert.ok((retrained.summary.notes as string[]).some((s) => /qnnlab-M3-spikeslab: not reused from .*M3-spikeslab: it has 1 of 2 epochs/.test(s)), retrained.summary.notes.join('\n'));
  assert.deepEqual(digest(checkpoints), before, 'the source checkpoints are still unchanged');
});
