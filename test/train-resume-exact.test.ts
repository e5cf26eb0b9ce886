/**
 * A resumed run must equal an uninterrupted one bit for bit (issue 17). Each test resumes in a new model and a new
 * optimizer, as a new process would: nothing may survive in memory. What a restore used to lose:
 *  - tfjs Adam's accumulated beta powers (setWeights resets them to pow(β, t + 1), which differs from the float32
 *    product the optimizer accumulates in the last bits);
 *  - the noise stream of the variational layers (restarted from its seed in a new process).
 * test/train-killresume.test.ts does the same with real processes and SIGKILL.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { adamAccumulatedBetaPower, fit, loadCheckpoint, makeOptimizer, saveCheckpoint, type FitConfig, type HistoryRow } from '../src/train';
import { VariationalDense } from '../src/bayes/variationalDense';
import { isVariationalLayer } from '../src/bayes/variationalLayer';
import { Rng } from '../src/util/random';
import { FlipRatio, type FlipRatioState } from '../src/quantizers';
import { quadrantDataset, tinyConvNet } from './helpers';

// 288 examples in batches of 32: 9 steps per epoch, 18 after two epochs, a step count at which tfjs's
// pow(0.999, 19) differs from Adam's accumulated product (checked in the first test).
const ds = quadrantDataset(288, 64);
const base: FitConfig = { epochs: 4, batchSize: 32, seed: 11, optimizer: { name: 'adam', lr: 0.01 }, progress: 'none' };

const strip = (h: HistoryRow[]) => h.map(({ seconds, ...rest }) => rest);
const weightsOf = (m: tf.LayersModel) => m.weights.map((w) => Array.from(w.read().dataSync()));
const made: string[] = [];
const tmp = (tag: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `qnn-exact-${tag}-`));
  made.push(dir);
  return dir;
};

/** A small Bayesian M = 3 net on the 8x8 images; log σ² -6 so the noise matters. */
function bayesNet(seed: number): tf.LayersModel {
  const rng = new Rng(seed);
  return tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [8, 8, 1] }),
      new VariationalDense({ M: 3, units: 16, seed: rng.nextSeed(), logSigma2Init: -6 }),
      tf.layers.reLU(),
      new VariationalDense({ M: 3, units: 4, seed: rng.nextSeed(), logSigma2Init: -6 }),
    ],
  });
}

/** Run `cfg` into `dir` and stop (as a crash would) right after the checkpoint of epoch `at`. */
async function crashAfter(at: number, model: tf.LayersModel, cfg: FitConfig, dir: string): Promise<void> {
  await assert.rejects(
    fit(model, ds, { ...cfg, checkpointDir: dir }, {
      onEpochEnd: (row) => {
        if (row.epoch === at) throw new Error('simulated crash');
      },
    }),
    /simulated crash/,
  );
}

/** Rewrite a checkpoint as the format-1 code wrote it: no checksums, no optimizer scalars, no layer state. */
function toFormat1(dir: string): void {
  fs.rmSync(path.join(dir, 'checkpoint.prev'), { recursive: true, force: true });
  const file = path.join(dir, 'checkpoint', 'state.json');
  const m = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const k of ['optimizerScalars', 'layerStates', 'tensorsBytes', 'tensorsSha256', 'stateSha256']) delete m[k];
  m.format = 'qnnlab-checkpoint-1';
  fs.writeFileSync(file, JSON.stringify(m));
}

test.before(async () => {
  await initEngine({ backend: 'wasm' });
});

test.after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

test('the cause: tfjs Adam setWeights resets the accumulated beta powers; checkpoints keep them exactly', async () => {
  const live = makeOptimizer(base.optimizer) as tf.AdamOptimizer;
  const v = tf.variable(tf.scalar(1));
  const g = tf.scalar(0.5);
  for (let i = 0; i < 18; i++) live.applyGradients([{ name: v.name, tensor: g }]);
  const acc = (o: tf.Optimizer, k: 'accBeta1' | 'accBeta2') => (o as unknown as Record<string, tf.Variable>)[k].dataSync()[0];
  // Adam's own product equals the float32 replay...
  assert.equal(acc(live, 'accBeta1'), adamAccumulatedBetaPower(0.9, 18));
  assert.equal(acc(live, 'accBeta2'), adamAccumulatedBetaPower(0.999, 18));
  // ...but a new optimizer given getWeights() through setWeights holds pow(β, 19), which differs.
  const viaSetWeights = makeOptimizer(base.optimizer);
  await viaSetWeights.setWeights(await live.getWeights());
  assert.notEqual(acc(viaSetWeights, 'accBeta2'), acc(live, 'accBeta2'));
  // A checkpoint round trip restores both exactly.
  const dir = tmp('adam');
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
  await saveCheckpoint(dir, model, live, { epoch: 1, step: 18, rngState: 0, history: [] });
  const restored = makeOptimizer(base.optimizer);
  await loadCheckpoint(dir, model, restored);
  assert.equal(acc(restored, 'accBeta1'), acc(live, 'accBeta1'));
  assert.equal(acc(restored, 'accBeta2'), acc(live, 'accBeta2'));
  assert.equal(restored.iterations, 18);
  tf.dispose([v, g]);
  [live, viaSetWeights, restored].forEach((o) => o.dispose());
  model.dispose();
});

test('Adam: a run stopped after epoch 2 and resumed in a new model and optimizer equals the uninterrupted run', async () => {
  const m1 = tinyConvNet();
  const full = await fit(m1, ds, { ...base, checkpointDir: tmp('adam-a') });
  const dir = tmp('adam-b');
  const m2 = tinyConvNet();
  await crashAfter(2, m2, base, dir);
  m2.dispose();
  const m3 = tinyConvNet(99); // another init: everything must come from the checkpoint
  const resumed = await fit(m3, ds, { ...base, checkpointDir: dir, resume: true });
  assert.equal(resumed.resumedFromEpoch, 2);
  assert.deepEqual(strip(resumed.history), strip(full.history));
  assert.deepEqual(weightsOf(m3), weightsOf(m1));
  [m1, m3].forEach((m) => m.dispose());
  [full, resumed].forEach((r) => r.optimizer.dispose());
});

test('Bayesian layers: the noise stream is checkpointed; restarting it from its seed (the old behaviour) is detected', async () => {
  const m1 = bayesNet(5);
  const full = await fit(m1, ds, { ...base, checkpointDir: tmp('bayes-a') });
  const dir = tmp('bayes-b');
  const m2 = bayesNet(5);
  await crashAfter(2, m2, base, dir);
  m2.dispose();
  const state = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint', 'state.json'), 'utf8'));
  assert.deepEqual(state.layerStates.map((s: { index: number; className: string }) => [s.index, s.className]),
    [[1, 'VariationalDense'], [3, 'VariationalDense']]);

  const old = tmp('bayes-old');
  fs.cpSync(dir, old, { recursive: true });
  const m3 = bayesNet(6);
  const resumed = await fit(m3, ds, { ...base, checkpointDir: dir, resume: true });
  assert.equal(resumed.resumedFromEpoch, 2);
  assert.deepEqual(strip(resumed.history), strip(full.history));
  assert.deepEqual(weightsOf(m3), weightsOf(m1));

  // The old behaviour: the resumed process starts the layers' noise from their seed. The test would see it.
  toFormat1(old);
  const m4 = bayesNet(5);
  for (const l of m4.layers) if (isVariationalLayer(l)) l.reconstructCheckpointState = () => {};
  const fromSeed = await fit(m4, ds, { ...base, checkpointDir: old, resume: true });
  assert.deepEqual(strip(fromSeed.history).slice(0, 2), strip(full.history).slice(0, 2));
  assert.notDeepEqual(strip(fromSeed.history).slice(2), strip(full.history).slice(2));
  [m1, m3, m4].forEach((m) => m.dispose());
  [full, resumed, fromSeed].forEach((r) => r.optimizer.dispose());
});

test('a format-1 checkpoint (no optimizer scalars, no layer state, no checksums) still resumes exactly', async () => {
  // The missing state is reconstructed from the step count: Adam's product replayed in float32, each layer's
  // noise stream advanced by one draw per step.
  const m1 = bayesNet(8);
  const full = await fit(m1, ds, { ...base, checkpointDir: tmp('f1-a') });
  const dir = tmp('f1-b');
  const m2 = bayesNet(8);
  await crashAfter(2, m2, base, dir);
  m2.dispose();
  toFormat1(dir);
  // The same seeds, as a rerun of the same command builds: the noise stream is replayed from the layers' seeds.
  const m3 = bayesNet(8);
  for (const w of m3.weights) tf.tidy(() => { w.write(tf.zerosLike(w.read())); }); // but no weights: those come from the checkpoint
  const resumed = await fit(m3, ds, { ...base, checkpointDir: dir, resume: true });
  assert.equal(resumed.resumedFromEpoch, 2);
  assert.deepEqual(strip(resumed.history), strip(full.history));
  assert.deepEqual(weightsOf(m3), weightsOf(m1));
  [m1, m3].forEach((m) => m.dispose());
  [full, resumed].forEach((r) => r.optimizer.dispose());
});

test('a checkpoint written by the format-1 code (test/fixtures/checkpoint-format1) loads and resumes', async () => {
  const dir = tmp('fixture');
  fs.cpSync(path.join(__dirname, 'fixtures', 'checkpoint-format1'), dir, { recursive: true });
  const saved = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint', 'state.json'), 'utf8'));
  assert.equal(saved.format, 'qnnlab-checkpoint-1');
  const bin = fs.readFileSync(path.join(dir, 'checkpoint', 'tensors.bin'));

  const model = tinyConvNet(99);
  const opt = makeOptimizer(base.optimizer);
  const warnings: string[] = [];
  const st = await loadCheckpoint(dir, model, opt, (m) => warnings.push(m));
  assert.equal(st.legacy, true);
  assert.equal(st.epoch, 2);
  assert.equal(st.step, 18);
  assert.deepEqual(warnings, []);
  model.weights.forEach((w, i) => {
    const e = saved.modelTensors[i];
    const want = new Float32Array(bin.buffer.slice(bin.byteOffset + e.offset, bin.byteOffset + e.offset + w.read().size * 4));
    assert.deepEqual(Array.from(w.read().dataSync()), Array.from(want), e.name);
  });
  assert.equal(opt.iterations, 18);
  const acc2 = (opt as unknown as Record<string, tf.Variable>).accBeta2.dataSync()[0];
  assert.equal(acc2, adamAccumulatedBetaPower(0.999, 18));
  assert.notEqual(acc2, Math.fround(Math.pow(0.999, 19)));
  opt.dispose();

  const r = await fit(model, ds, { ...base, checkpointDir: dir, resume: true });
  assert.equal(r.resumedFromEpoch, 2);
  assert.equal(r.history.length, 4);
  assert.deepEqual(r.history.slice(0, 2), saved.history);
  // The next save writes format 2 and keeps the format-1 checkpoint as the previous one.
  const now = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint', 'state.json'), 'utf8'));
  assert.equal(now.format, 'qnnlab-checkpoint-2');
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint.prev', 'state.json'), 'utf8')).epoch, 3);
  r.optimizer.dispose();
  model.dispose();
});

test('checkpoints inside an epoch: a run stopped mid-epoch resumes at the next batch and equals the uninterrupted run', async () => {
  const cfg: FitConfig = { ...base, epochs: 3 };
  // A loss term that depends on the batch index, as the KL warm-up does: hooks must see the right index after a resume.
  const hooksFor = (m: tf.LayersModel, starts: number[]) => ({
    beforeEpoch: ({ batch }: { batch: number }) => {
      starts.push(batch);
    },
    extraLoss: ({ batch }: { batch: number }) => tf.mul(1e-3 * (batch + 1), tf.sum(tf.square(m.trainableWeights[0].read()))) as tf.Scalar,
  });
  const m1 = bayesNet(12);
  const full = await fit(m1, ds, cfg, hooksFor(m1, []));
  const dir = tmp('mid');
  const m2 = bayesNet(12);
  await assert.rejects(fit(m2, ds, { ...cfg, checkpointDir: dir, checkpointEverySteps: 4 }, {
    ...hooksFor(m2, []),
    afterStep: ({ step }) => {
      if (step === 14) throw new Error('simulated crash'); // epoch 2 is steps 10-18; the last checkpoint was at step 12
    },
  }), /simulated crash/);
  m2.dispose();
  const saved = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint', 'state.json'), 'utf8'));
  assert.equal(saved.epoch, 1);
  assert.equal(saved.step, 12);
  assert.equal(saved.partialEpoch.batches, 3);
  const m3 = bayesNet(13);
  const starts: number[] = [];
  const resumed = await fit(m3, ds, { ...cfg, checkpointDir: dir, resume: true }, hooksFor(m3, starts));
  assert.equal(resumed.resumedFromEpoch, 1);
  assert.deepEqual(starts, [3, 0]);
  assert.deepEqual(strip(resumed.history), strip(full.history));
  assert.deepEqual(weightsOf(m3), weightsOf(m1));
  [m1, m3].forEach((m) => m.dispose());
  [full, resumed].forEach((r) => r.optimizer.dispose());
});

test('hook state (the flip ratio\'s previous codes) is checkpointed: a resumed run\'s per-epoch metrics equal the uninterrupted run\'s', async () => {
  /** Per-epoch flip ratio of sign(conv kernel), with the hooks that carry its state through a checkpoint. */
  const flipHooks = (m: tf.LayersModel, withState: boolean) => {
    const fr = new FlipRatio();
    return {
      fr,
      hooks: {
        epochMetrics: () => {
          const code = tf.sign(m.layers[0].getWeights()[0]);
          const v = fr.update(code);
          code.dispose();
          return { flipRatio: v };
        },
        ...(withState ? { checkpointState: () => fr.state(), restoreState: (s: unknown) => s && fr.setState(s as FlipRatioState) } : {}),
      },
    };
  };
  const m1 = tinyConvNet();
  const a = flipHooks(m1, true);
  const full = await fit(m1, ds, { ...base, checkpointDir: tmp('flip-a') }, a.hooks);
  assert.ok(full.history.slice(1).every((r) => Number.isFinite(r.flipRatio as number)));

  for (const withState of [true, false]) {
    const dir = tmp(`flip-${withState}`);
    const m2 = tinyConvNet();
    const b = flipHooks(m2, withState);
    await assert.rejects(fit(m2, ds, { ...base, checkpointDir: dir }, {
      ...b.hooks, onEpochEnd: (row) => { if (row.epoch === 2) throw new Error('simulated crash'); },
    }), /simulated crash/);
    const m3 = tinyConvNet(99);
    const c = flipHooks(m3, withState);
    const resumed = await fit(m3, ds, { ...base, checkpointDir: dir, resume: true }, c.hooks);
    // The checkpoint keeps the history as JSON, where epoch 1's NaN (no previous codes) becomes null.
    const json = (h: HistoryRow[]) => JSON.parse(JSON.stringify(strip(h)));
    if (withState) assert.deepEqual(json(resumed.history), json(full.history));
    else assert.ok(Number.isNaN(resumed.history[2].flipRatio as number), 'without the state the first resumed epoch has nothing to compare with');
    [m2, m3].forEach((m) => m.dispose());
    [b.fr, c.fr].forEach((f) => f.dispose());
    resumed.optimizer.dispose();
  }
  m1.dispose();
  a.fr.dispose();
  full.optimizer.dispose();
});
