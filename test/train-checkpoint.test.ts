/**
 * Checkpoint safety (issue 17): checksums detect a flipped byte and a truncated file, loading falls back to the
 * previous checkpoint with a message naming the bad file, and fails clearly when there is none; a crash between
 * the writer's renames leaves a loadable checkpoint. docs/checkpoints.md describes the format.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { fit, hasCheckpoint, loadCheckpoint, makeOptimizer, type FitConfig, type HistoryRow } from '../src/train';
import { quadrantDataset, tinyConvNet } from './helpers';

const ds = quadrantDataset(128, 32);
const base: FitConfig = { epochs: 2, batchSize: 32, seed: 4, optimizer: { name: 'adam', lr: 0.01 }, progress: 'none' };
const strip = (h: HistoryRow[]) => h.map(({ seconds, ...rest }) => rest);
const weightsOf = (m: tf.LayersModel) => m.weights.map((w) => Array.from(w.read().dataSync()));

let pristine = ''; // checkpoint (epoch 2) and checkpoint.prev (epoch 1) of one run
let weightsAfter: number[][][] = []; // the model's weights after epoch 1 and after epoch 2

const made: string[] = [];

function copy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qnn-ckpt-safe-'));
  made.push(dir);
  fs.cpSync(pristine, dir, { recursive: true });
  return dir;
}

function flipByte(file: string, at: number): void {
  const b = fs.readFileSync(file);
  b[at] ^= 0x10;
  fs.writeFileSync(file, b);
}

async function load(dir: string) {
  const model = tinyConvNet(42);
  const opt = makeOptimizer(base.optimizer);
  const warnings: string[] = [];
  try {
    const st = await loadCheckpoint(dir, model, opt, (m) => warnings.push(m));
    return { st, warnings, weights: weightsOf(model) };
  } finally {
    model.dispose();
    opt.dispose();
  }
}

test.before(async () => {
  await initEngine({ backend: 'wasm' });
  pristine = fs.mkdtempSync(path.join(os.tmpdir(), 'qnn-ckpt-pristine-'));
  const model = tinyConvNet();
  const r = await fit(model, ds, { ...base, checkpointDir: pristine }, {
    onEpochEnd: () => {
      weightsAfter.push(weightsOf(model));
    },
  });
  r.optimizer.dispose();
  model.dispose();
});

test.after(() => {
  for (const d of [pristine, ...made]) fs.rmSync(d, { recursive: true, force: true });
});

test('every save keeps the previous checkpoint; state.json records the SHA-256 of tensors.bin and of itself', () => {
  assert.deepEqual(fs.readdirSync(pristine).sort(), ['checkpoint', 'checkpoint.prev']);
  for (const [folder, epoch] of [['checkpoint', 2], ['checkpoint.prev', 1]] as const) {
    const text = fs.readFileSync(path.join(pristine, folder, 'state.json'), 'utf8');
    const m = JSON.parse(text);
    assert.equal(m.format, 'qnnlab-checkpoint-2');
    assert.equal(m.epoch, epoch);
    const bin = fs.readFileSync(path.join(pristine, folder, 'tensors.bin'));
    assert.equal(m.tensorsBytes, bin.byteLength);
    assert.equal(m.tensorsSha256, crypto.createHash('sha256').update(bin).digest('hex'));
    const { stateSha256, ...body } = m;
    assert.equal(stateSha256, crypto.createHash('sha256').update(JSON.stringify(body)).digest('hex'));
    assert.deepEqual(Object.keys(m.optimizerScalars), ['accBeta1', 'accBeta2']);
  }
});

test('a flipped byte in tensors.bin is detected and loading falls back to the previous checkpoint, naming the file', async () => {
  const dir = copy();
  flipByte(path.join(dir, 'checkpoint', 'tensors.bin'), 100);
  const { st, warnings, weights } = await load(dir);
  assert.equal(st.epoch, 1);
  assert.equal(st.source, path.join(dir, 'checkpoint.prev'));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], new RegExp(`${path.join(dir, 'checkpoint', 'tensors.bin')} is corrupt \\(SHA-256 mismatch`));
  assert.match(warnings[0], /Resuming from .*checkpoint\.prev \(epoch 1\) instead/);
  assert.deepEqual(weights, weightsAfter[0]);
});

test('a truncated tensors.bin is detected', async () => {
  const dir = copy();
  const file = path.join(dir, 'checkpoint', 'tensors.bin');
  fs.truncateSync(file, fs.statSync(file).size - 7);
  const { st, warnings } = await load(dir);
  assert.equal(st.epoch, 1);
  assert.match(warnings[0], new RegExp(`${file} is truncated or padded \\(\\d+ bytes, .* records \\d+\\)`));
});

test('a changed digit in state.json is detected', async () => {
  const dir = copy();
  const file = path.join(dir, 'checkpoint', 'state.json');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"step":8', '"step":9'));
  const { st, warnings } = await load(dir);
  assert.equal(st.epoch, 1);
  assert.match(warnings[0], new RegExp(`${file} is corrupt \\(its SHA-256 does not match`));
});

test('a format tag flipped from 2 to 1 does not switch the checksums off', async () => {
  const dir = copy();
  const file = path.join(dir, 'checkpoint', 'state.json');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('qnnlab-checkpoint-2', 'qnnlab-checkpoint-1'));
  const { st, warnings } = await load(dir);
  assert.equal(st.epoch, 1, 'falls back to the previous checkpoint');
  assert.match(warnings[0], new RegExp(`${file} is corrupt \\(format 1 with format-2 checksums\\)`));
});

test('a cut state.json (invalid JSON) is detected', async () => {
  const dir = copy();
  const file = path.join(dir, 'checkpoint', 'state.json');
  fs.truncateSync(file, 50);
  const { st, warnings } = await load(dir);
  assert.equal(st.epoch, 1);
  assert.match(warnings[0], new RegExp(`${file} is corrupt`));
});

test('with no usable checkpoint loading fails with an error naming every damaged file', async () => {
  const dir = copy();
  flipByte(path.join(dir, 'checkpoint', 'tensors.bin'), 3);
  fs.truncateSync(path.join(dir, 'checkpoint.prev', 'tensors.bin'), 10);
  await assert.rejects(load(dir), (e: Error) =>
    /^No usable checkpoint in /.test(e.message) &&
    e.message.includes(`${path.join(dir, 'checkpoint', 'tensors.bin')} is corrupt`) &&
    e.message.includes(`${path.join(dir, 'checkpoint.prev', 'tensors.bin')} is truncated`) &&
    /--fresh/.test(e.message));
  // Without a previous checkpoint too.
  const lone = copy();
  fs.rmSync(path.join(lone, 'checkpoint.prev'), { recursive: true });
  flipByte(path.join(lone, 'checkpoint', 'tensors.bin'), 3);
  await assert.rejects(load(lone), new RegExp(`No usable checkpoint in .*${path.join(lone, 'checkpoint', 'tensors.bin')} is corrupt`));
});

test('a crash between the renames (only checkpoint.prev and a dead writer\'s temporary folder) still loads', async () => {
  const dir = copy();
  fs.renameSync(path.join(dir, 'checkpoint'), path.join(dir, 'checkpoint.tmp-999999999'));
  assert.equal(hasCheckpoint(dir), true);
  const { st, warnings } = await load(dir);
  assert.equal(st.epoch, 1);
  assert.deepEqual(warnings, []);
  // The format-1 writer's window: only checkpoint.old.
  const old = copy();
  fs.rmSync(path.join(old, 'checkpoint.prev'), { recursive: true });
  fs.renameSync(path.join(old, 'checkpoint'), path.join(old, 'checkpoint.old'));
  assert.equal((await load(old)).st.epoch, 2);
});

test('fit resumes from the previous checkpoint when the newest is damaged, ends equal to the uninterrupted run, and keeps a good previous checkpoint', async () => {
  const cfg = { ...base, epochs: 3 };
  const m1 = tinyConvNet();
  const full = await fit(m1, ds, cfg);
  const dir = copy();
  flipByte(path.join(dir, 'checkpoint', 'tensors.bin'), 200);
  const warn = console.warn;
  const warnings: string[] = [];
  console.warn = (m: string) => warnings.push(m);
  const m2 = tinyConvNet(42);
  let resumed;
  try {
    resumed = await fit(m2, ds, { ...cfg, checkpointDir: dir, resume: true });
  } finally {
    console.warn = warn;
  }
  assert.equal(resumed.resumedFromEpoch, 1);
  assert.deepEqual(strip(resumed.history), strip(full.history));
  assert.deepEqual(weightsOf(m2), weightsOf(m1));
  assert.match(warnings[0], /checkpoint\/tensors\.bin is corrupt .*Resuming from .*checkpoint\.prev \(epoch 1\)/);
  // The next save set the damaged folder aside instead of keeping it as the previous checkpoint.
  assert.match(warnings[1], /checkpoint\/tensors\.bin is corrupt .*moved it to .*checkpoint\.corrupt/);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['checkpoint', 'checkpoint.corrupt', 'checkpoint.prev']);
  const { st } = await load(dir);
  assert.equal(st.epoch, 3);
  [m1, m2].forEach((m) => m.dispose());
  [full, resumed].forEach((r) => r.optimizer.dispose());
});

test('checkpoints inside epochs leak no tensors and bad periods are rejected', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qnn-ckpt-mid-'));
  made.push(dir);
  const model = tinyConvNet();
  const counts: number[] = [];
  const r = await fit(model, ds, { ...base, epochs: 1, batchSize: 16, checkpointDir: dir, checkpointEverySteps: 1 }, {
    afterStep: () => {
      counts.push(tf.memory().numTensors);
    },
  });
  assert.equal(counts.length, 8);
  assert.equal(new Set(counts.slice(1)).size, 1, `tensor counts per step: ${counts}`);
  // The last mid-epoch checkpoint (after 7 of 8 batches) is the previous one; the newest is the epoch's.
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint.prev', 'state.json'), 'utf8')).partialEpoch.batches, 7);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint', 'state.json'), 'utf8')).partialEpoch, undefined);
  await assert.rejects(fit(model, ds, { ...base, checkpointEverySteps: 1.5 }), /checkpointEverySteps must be a non-negative integer/);
  await assert.rejects(fit(model, ds, { ...base, checkpointEveryMinutes: -1 }), /checkpointEveryMinutes must be >= 0/);
  r.optimizer.dispose();
  model.dispose();
});
