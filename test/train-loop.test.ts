import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { fit, lrAt, NonFiniteLossError, type FitConfig, type HistoryRow } from '../src/train';
import { quadrantDataset, tinyConvNet } from './helpers';

const base: FitConfig = {
  epochs: 3, batchSize: 32, seed: 11, optimizer: { name: 'adam', lr: 0.01 }, progress: 'none',
};

const strip = (h: HistoryRow[]) => h.map(({ seconds, ...rest }) => rest);

test.before(async () => {
  await initEngine({ backend: 'wasm' });
});

test('fit learns the synthetic task and records one row per epoch', async () => {
  const ds = quadrantDataset(512, 128);
  const model = tinyConvNet();
  const { history } = await fit(model, ds, base);
  assert.equal(history.length, 3);
  assert.deepEqual(history.map((r) => r.epoch), [1, 2, 3]);
  assert.ok((history[2].testAccuracy as number) > 0.9, `test accuracy ${history[2].testAccuracy}`);
  assert.ok((history[2].trainLoss as number) < (history[0].trainLoss as number));
  model.dispose();
});

test('same seed gives the same history; a different seed does not', async () => {
  const ds = quadrantDataset(256, 64);
  const run = async (seed: number) => {
    const m = tinyConvNet();
    const { history } = await fit(m, ds, { ...base, epochs: 2, seed });
    m.dispose();
    return strip(history);
  };
  const a = await run(5);
  const b = await run(5);
  const c = await run(6);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('a run killed after epoch 2 and resumed ends with the same history as an uninterrupted one', async () => {
  const ds = quadrantDataset(256, 64);
  const dirA = fs.mkdtempSync(path.join(os.tmpdir(), 'qnn-ckpt-a-'));
  const dirB = fs.mkdtempSync(path.join(os.tmpdir(), 'qnn-ckpt-b-'));
  const cfg = { ...base, epochs: 4, optimizer: { name: 'sgd' as const, lr: 0.05, momentum: 0.9, weightDecay: 1e-4 }, clipNorm: 5 };

  const m1 = tinyConvNet();
  const full = await fit(m1, ds, { ...cfg, checkpointDir: dirA });
  m1.dispose();

  const m2 = tinyConvNet();
  await assert.rejects(
    fit(m2, ds, { ...cfg, checkpointDir: dirB }, {
      onEpochEnd: (row) => {
        if (row.epoch === 2) throw new Error('simulated crash');
      },
    }),
    /simulated crash/,
  );
  m2.dispose();
  const m3 = tinyConvNet(99); // different init: everything must come from the checkpoint
  const resumed = await fit(m3, ds, { ...cfg, checkpointDir: dirB, resume: true });
  assert.equal(resumed.resumedFromEpoch, 2);
  assert.deepEqual(strip(resumed.history), strip(full.history));
  m3.dispose();
});

test('tensor count does not grow across training steps', async () => {
  const ds = quadrantDataset(128, 32);
  const model = tinyConvNet();
  const counts: number[] = [];
  await fit(model, ds, { ...base, epochs: 1, batchSize: 16 }, {
    afterStep: () => {
      counts.push(tf.memory().numTensors);
    },
  });
  assert.equal(counts.length, 8);
  // After the optimizer has created its slots on step 1, nothing may accumulate.
  assert.deepEqual(new Set(counts.slice(1)).size, 1, `tensor counts per step: ${counts}`);
  model.dispose();
});

test('a NaN loss stops with a clear error', async () => {
  const ds = quadrantDataset(64, 16);
  const model = tinyConvNet();
  await assert.rejects(
    fit(model, ds, { ...base, epochs: 1 }, { extraLoss: () => tf.scalar(NaN) }),
    (e: Error) => e instanceof NonFiniteLossError && /loss became NaN at epoch 1, step 1/.test(e.message),
  );
  model.dispose();
});

test('bad hyperparameters are rejected with the name of the option', async () => {
  const ds = quadrantDataset(16, 16);
  const model = tinyConvNet();
  await assert.rejects(fit(model, ds, { ...base, epochs: 0 }), /epochs must be a positive integer/);
  await assert.rejects(fit(model, ds, { ...base, optimizer: { name: 'adam', lr: -1 } }), /lr must be a positive number/);
  await assert.rejects(fit(model, ds, { ...base, resume: true }), /resume needs checkpointDir/);
  model.dispose();
});

test('learning-rate schedules', () => {
  assert.equal(lrAt(0.1, { name: 'step', stepSize: 2, gamma: 0.1 }, 3), 0.1 * 0.1);
  assert.ok(Math.abs(lrAt(0.1, { name: 'multistep', milestones: [2, 4], gamma: 0.1 }, 4) - 0.001) < 1e-12);
  assert.equal(lrAt(0.1, { name: 'multistep', milestones: [2, 4], gamma: 0.1 }, 1), 0.1);
  // Chien & Chang's LeNet rule (train_nonsymLeNet_cifar10.py): from epoch 50 on, lr -= 0.001/200 per epoch.
  assert.equal(lrAt(1e-3, { name: 'linearDecay', start: 50, decrement: 0.001 / 200 }, 49), 1e-3);
  assert.ok(Math.abs(lrAt(1e-3, { name: 'linearDecay', start: 50, decrement: 0.001 / 200 }, 51) - (1e-3 - 2 * 0.001 / 200)) < 1e-15);
  assert.equal(lrAt(1e-3, { name: 'linearDecay', start: 0, decrement: 1 }, 5), 0);
});

test('setLearningRate changes the step size of every optimizer', async () => {
  const { makeOptimizer, setLearningRate } = await import('../src/train');
  for (const cfg of [{ name: 'sgd' as const, lr: 1 }, { name: 'sgd' as const, lr: 1, momentum: 0.5 }, { name: 'adam' as const, lr: 1 }]) {
    const opt = makeOptimizer(cfg);
    setLearningRate(opt, 0.25);
    const v = tf.variable(tf.scalar(0));
    opt.applyGradients([{ name: v.name, tensor: tf.scalar(1) }]);
    // First step: SGD/momentum move by lr*g, Adam by lr*sign(g) (bias-corrected m/sqrt(v) = 1).
    assert.ok(Math.abs(v.dataSync()[0] + 0.25) < 1e-4, `${cfg.name}: ${v.dataSync()[0]}`);
    v.dispose();
    opt.dispose();
  }
});

test('resuming a checkpoint written under other settings is a clear error', async () => {
  const ds = quadrantDataset(64, 16);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qnn-ckpt-fp-'));
  const m1 = tinyConvNet();
  await fit(m1, ds, { ...base, epochs: 1, checkpointDir: dir });
  m1.dispose();
  const m2 = tinyConvNet();
  await assert.rejects(
    fit(m2, ds, { ...base, epochs: 2, batchSize: 16, checkpointDir: dir, resume: true }),
    /written with other settings .*Use --fresh/,
  );
  // More epochs with the same settings is a continuation, not a conflict.
  const r = await fit(m2, ds, { ...base, epochs: 2, checkpointDir: dir, resume: true });
  assert.equal(r.resumedFromEpoch, 1);
  m2.dispose();
});
