/**
 * Parser fuzzing (issue 17): seeded random truncations and byte flips of valid files in every format qnnlab reads —
 * IDX (MNIST), CIFAR-10 binary batches, checkpoints, packed models. Every mutated input must end in a clear Error
 * (not a TypeError/RangeError/SyntaxError from deep inside; naming the file) or in a load that is correct. Formats
 * with a checksum must refuse every flip; IDX and CIFAR (no checksum) must refuse header flips and truncations,
 * and a flip in the body must change exactly that pixel or label (a label out of range is refused).
 *
 * QNNLAB_FUZZ_CASES=<n> sets the cases per format (default 250); QNNLAB_FUZZ_SEED=<s> the seed (default 17).
 * scripts/fuzz-parsers.sh runs a long campaign. docs/fuzzing.md describes it.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { writeIdx } from '../src/data/idx';
import { loadMnist } from '../src/data/mnist';
import { loadCifar, CIFAR_LAYOUT, CIFAR_PIXELS, CIFAR_PLANE } from '../src/data/cifar';
import { writeCifarFixture } from '../src/data/cifarFixture';
import { saveCheckpoint, loadCheckpoint } from '../src/train/checkpoint';
import { lenet5, methodOptions } from '../src/models';
import { packModel, unpackModel, PackedFormatError } from '../src/export';
import { Rng } from '../src/util/random';
import { tinyConvNet } from './helpers';

const CASES = Math.max(1, Number(process.env.QNNLAB_FUZZ_CASES ?? 250));
const SEED = Number(process.env.QNNLAB_FUZZ_SEED ?? 17);
/** One case may not take longer than this (a loaded 2-core machine; a clean case takes milliseconds). */
const CASE_LIMIT_MS = 5000;
/** The whole test: a hang inside a synchronous parser cannot be interrupted per case, node:test ends it here. */
const TEST_TIMEOUT_MS = Math.max(120_000, CASES * 2000);

test.before(async () => {
  await initEngine({ backend: process.env.QNNLAB_BACKEND ?? 'wasm' });
});

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qnnlab-fuzz-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

type Mutation = { kind: 'truncate'; length: number } | { kind: 'flip'; pos: number; xor: number };

/** A random truncation (to a shorter length, 0 included) or a byte flip (xor with a non-zero byte). */
function mutation(rng: Rng, length: number): Mutation {
  if (rng.next() < 0.3) return { kind: 'truncate', length: rng.int(length) };
  return { kind: 'flip', pos: rng.int(length), xor: 1 + rng.int(255) };
}

function apply(bytes: Uint8Array, m: Mutation): Uint8Array {
  if (m.kind === 'truncate') return bytes.slice(0, m.length);
  const out = Uint8Array.from(bytes);
  out[m.pos] ^= m.xor;
  return out;
}

const describe = (m: Mutation) => (m.kind === 'truncate' ? `truncated to ${m.length} bytes` : `byte ${m.pos} xor 0x${m.xor.toString(16)}`);

/**
 * Run `load`; returns the value, or the error when it threw a clear one: an Error that is not a TypeError,
 * RangeError or SyntaxError (those come from deep inside, not from a check) and whose message names `names`.
 */
function run<T>(label: string, names: string, load: () => T): { value?: T; error?: Error; ms: number } {
  const t0 = performance.now();
  let out: { value?: T; error?: Error };
  try {
    out = { value: load() };
  } catch (e) {
    assert.ok(e instanceof Error, `${label}: threw a non-Error ${String(e)}`);
    assert.ok(!(e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError),
      `${label}: unclear ${e.name} from inside the parser: ${e.message}\n${e.stack}`);
    assert.ok(e.message.includes(names), `${label}: the error does not name ${names}: ${e.message}`);
    out = { error: e };
  }
  const ms = performance.now() - t0;
  assert.ok(ms < CASE_LIMIT_MS, `${label}: took ${ms.toFixed(0)} ms (limit ${CASE_LIMIT_MS} ms)`);
  return { ...out, ms };
}

async function runAsync<T>(label: string, names: string, load: () => Promise<T>): Promise<{ value?: T; error?: Error }> {
  const t0 = performance.now();
  let out: { value?: T; error?: Error };
  try {
    out = { value: await load() };
  } catch (e) {
    assert.ok(e instanceof Error, `${label}: threw a non-Error ${String(e)}`);
    assert.ok(!(e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError),
      `${label}: unclear ${e.name} from inside the parser: ${e.message}\n${e.stack}`);
    assert.ok(e.message.includes(names), `${label}: the error does not name ${names}: ${e.message}`);
    out = { error: e };
  }
  const ms = performance.now() - t0;
  assert.ok(ms < CASE_LIMIT_MS, `${label}: took ${ms.toFixed(0)} ms (limit ${CASE_LIMIT_MS} ms)`);
  return out;
}

function tally(name: string, counts: Record<string, number>, t0: number): void {
  console.log(`fuzz ${name}: ${CASES} cases in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(counts)}`);
}

// ---------------------------------------------------------------------------------------------------- IDX (MNIST)

test(`fuzz IDX (MNIST layout): ${CASES} truncations and flips`, { timeout: TEST_TIMEOUT_MS }, () => {
  const H = 3;
  const W = 4; // not square: a swapped height and width is visible
  const rng = new Rng(SEED);
  const files = {
    'train-images-idx3-ubyte': { dims: [5, H, W], data: Uint8Array.from({ length: 5 * H * W }, () => rng.int(256)) },
    'train-labels-idx1-ubyte': { dims: [5], data: Uint8Array.from({ length: 5 }, () => rng.int(10)) },
    't10k-images-idx3-ubyte': { dims: [4, H, W], data: Uint8Array.from({ length: 4 * H * W }, () => rng.int(256)) },
    't10k-labels-idx1-ubyte': { dims: [4], data: Uint8Array.from({ length: 4 }, () => rng.int(10)) },
  };
  const names = Object.keys(files) as (keyof typeof files)[];
  const dir = path.join(tmp, 'idx');
  fs.mkdirSync(dir);
  const original = new Map<string, Uint8Array>();
  for (const n of names) {
    writeIdx(path.join(dir, n), files[n].dims, files[n].data);
    original.set(n, new Uint8Array(fs.readFileSync(path.join(dir, n))));
  }
  const base = loadMnist({ dir });
  assert.equal(base.height, H);
  assert.equal(base.width, W);
  const counts: Record<string, number> = { refused: 0, loadedChanged: 0, labelRefused: 0 };
  const t0 = performance.now();
  for (let c = 0; c < CASES; c++) {
    const name = names[rng.int(names.length)];
    const bytes = original.get(name) as Uint8Array;
    const m = mutation(rng, bytes.length);
    const label = `IDX case ${c}: ${name} ${describe(m)}`;
    fs.writeFileSync(path.join(dir, name), apply(bytes, m));
    const headerBytes = 4 + 4 * files[name].dims.length;
    const r = run(label, dir, () => loadMnist({ dir }));
    fs.writeFileSync(path.join(dir, name), bytes);
    if (m.kind === 'truncate' || m.pos < headerBytes) {
      assert.ok(r.error, `${label}: a truncation or a header flip was loaded`);
      counts.refused++;
      continue;
    }
    // A flip in the body: exactly that byte changes, or a label out of range is refused.
    const i = m.pos - headerBytes;
    const isLabels = name.includes('labels');
    const newValue = files[name].data[i] ^ m.xor;
    if (isLabels && newValue >= 10) {
      assert.ok(r.error && /out of range 0\.\.9/.test(r.error.message), `${label}: label ${newValue} not refused: ${r.error?.message}`);
      counts.labelRefused++;
      continue;
    }
    assert.ok(r.value, `${label}: a body flip was refused: ${r.error?.message}`);
    const got = r.value;
    const split = name.startsWith('train') ? 'train' : 'test';
    for (const s of ['train', 'test'] as const) {
      const want = { images: base[s].images.slice(), labels: base[s].labels.slice() };
      if (s === split) (isLabels ? want.labels : want.images)[i] = newValue;
      assert.deepEqual(got[s].images, want.images, `${label}: ${s} images`);
      assert.deepEqual(got[s].labels, want.labels, `${label}: ${s} labels`);
    }
    counts.loadedChanged++;
  }
  tally('IDX', counts, t0);
});

test(`fuzz gzip IDX: ${CASES} truncations and flips of a .gz labels file`, { timeout: TEST_TIMEOUT_MS }, () => {
  const dir = path.join(tmp, 'idx-gz');
  fs.mkdirSync(dir);
  const rng = new Rng(SEED + 4);
  const sets = { 'train-images-idx3-ubyte': [3, 2, 2], 'train-labels-idx1-ubyte': [3], 't10k-images-idx3-ubyte': [2, 2, 2], 't10k-labels-idx1-ubyte': [2] };
  for (const [n, dims] of Object.entries(sets)) {
    const size = dims.reduce((a, b) => a * b, 1);
    writeIdx(path.join(dir, `${n}.gz`), dims, Uint8Array.from({ length: size }, () => rng.int(dims.length === 1 ? 10 : 256)), { gzip: true });
  }
  const file = path.join(dir, 'train-labels-idx1-ubyte.gz');
  const bytes = new Uint8Array(fs.readFileSync(file));
  const base = loadMnist({ dir });
  const counts: Record<string, number> = { refused: 0, loadedIdentical: 0 };
  const t0 = performance.now();
  for (let c = 0; c < CASES; c++) {
    const m = mutation(rng, bytes.length);
    const label = `gzip IDX case ${c}: ${describe(m)}`;
    fs.writeFileSync(file, apply(bytes, m));
    const r = run(label, dir, () => loadMnist({ dir }));
    fs.writeFileSync(file, bytes);
    if (r.error) {
      counts.refused++;
      continue;
    }
    // gzip has a CRC-32 of the data: only a flip of a byte it does not cover (mtime, extra flags, OS) may load.
    assert.equal(m.kind, 'flip', `${label}: a truncation was loaded`);
    assert.ok(m.kind === 'flip' && m.pos >= 4 && m.pos <= 9, `${label}: a flip outside gzip's mtime/xfl/os bytes was loaded`);
    assert.deepEqual(r.value?.train.labels, base.train.labels, label);
    counts.loadedIdentical++;
  }
  tally('gzip IDX', counts, t0);
});

// ---------------------------------------------------------------------------------------------------- CIFAR-10

test(`fuzz CIFAR-10 binary batches: ${CASES} truncations and flips`, { timeout: TEST_TIMEOUT_MS }, () => {
  const dir = path.join(tmp, 'cifar');
  const perFile = 2;
  writeCifarFixture(dir, { kind: 'cifar10', trainPerFile: perFile, test: perFile, seed: SEED });
  const l = CIFAR_LAYOUT.cifar10;
  const files = [...l.train, ...l.test];
  const original = new Map(files.map((f) => [f, new Uint8Array(fs.readFileSync(path.join(dir, f)))]));
  const base = loadCifar('cifar10', { dir });
  const rng = new Rng(SEED + 1);
  const counts: Record<string, number> = { refused: 0, loadedWholeRecords: 0, loadedChanged: 0, labelRefused: 0 };
  const t0 = performance.now();
  for (let c = 0; c < CASES; c++) {
    const f = rng.int(files.length);
    const name = files[f];
    const bytes = original.get(name) as Uint8Array;
    const m = mutation(rng, bytes.length);
    // A quarter of the flips hit a label byte (2 bytes in 6146 would almost never be hit otherwise).
    if (m.kind === 'flip' && rng.next() < 0.25) m.pos -= m.pos % l.recordBytes;
    const label = `CIFAR case ${c}: ${name} ${describe(m)}`;
    fs.writeFileSync(path.join(dir, name), apply(bytes, m));
    const r = run(label, path.join(dir, name), () => loadCifar('cifar10', { dir }));
    fs.writeFileSync(path.join(dir, name), bytes);
    const isTest = f >= l.train.length;
    const first = isTest ? 0 : f * perFile; // index of the file's first record in its split
    if (m.kind === 'truncate') {
      if (m.length === 0 || m.length % l.recordBytes !== 0) {
        assert.ok(r.error && /not a whole number of 3073-byte records/.test(r.error.message), `${label}: not refused: ${r.error?.message}`);
        counts.refused++;
        continue;
      }
      // Whole records cut off: a shorter file of the same format, which loads with fewer records.
      assert.ok(r.value, `${label}: ${r.error?.message}`);
      counts.loadedWholeRecords++;
      continue;
    }
    const rec = Math.floor(m.pos / l.recordBytes);
    const within = m.pos % l.recordBytes;
    const newValue = bytes[m.pos] ^ m.xor;
    if (within === 0 && newValue >= 10) {
      assert.ok(r.error && /label \d+ is out of range 0\.\.9/.test(r.error.message), `${label}: not refused: ${r.error?.message}`);
      counts.labelRefused++;
      continue;
    }
    assert.ok(r.value, `${label}: a body flip was refused: ${r.error?.message}`);
    const split = isTest ? 'test' : 'train';
    const want = { images: base[split].images.slice(), labels: base[split].labels.slice() };
    if (within === 0) want.labels[first + rec] = newValue;
    else {
      const p = within - 1; // planar CHW -> interleaved HWC
      want.images[(first + rec) * CIFAR_PIXELS + 3 * (p % CIFAR_PLANE) + Math.floor(p / CIFAR_PLANE)] = newValue;
    }
    assert.deepEqual(r.value[split].images, want.images, `${label}: images`);
    assert.deepEqual(r.value[split].labels, want.labels, `${label}: labels`);
    const other = isTest ? 'train' : 'test';
    assert.deepEqual(r.value[other].images, base[other].images, `${label}: the other split`);
    counts.loadedChanged++;
  }
  tally('CIFAR-10', counts, t0);
});

// ---------------------------------------------------------------------------------------------------- checkpoints

test(`fuzz checkpoints: ${CASES} truncations and flips of state.json and tensors.bin`, { timeout: TEST_TIMEOUT_MS }, async () => {
  const src = path.join(tmp, 'ckpt-src');
  const model = tinyConvNet(5);
  const optimizer = tf.train.adam(0.01);
  // One step, so that Adam has its slots and accumulated β powers.
  const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 3);
  optimizer.minimize(() => tf.mean(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar);
  x.dispose();
  await saveCheckpoint(src, model, optimizer, { epoch: 3, step: 12, rngState: 12345, history: [{ epoch: 1, loss: 0.5 }] });
  const folder = path.join(src, 'checkpoint');
  const files = ['state.json', 'tensors.bin'];
  const original = new Map(files.map((f) => [f, new Uint8Array(fs.readFileSync(path.join(folder, f)))]));
  const want = model.weights.map((w) => Float32Array.from(w.read().dataSync()));
  const wantOpt = (await optimizer.getWeights()).map((n) => Float32Array.from(n.tensor.dataSync()));
  model.dispose();
  optimizer.dispose();

  const dir = path.join(tmp, 'ckpt-case');
  const caseFolder = path.join(dir, 'checkpoint');
  fs.mkdirSync(caseFolder, { recursive: true });
  const target = tinyConvNet(9);
  const opt = tf.train.adam(0.01);
  // The unmutated copy loads (so the refusals below are the mutations' doing).
  for (const f of files) fs.writeFileSync(path.join(caseFolder, f), original.get(f) as Uint8Array);
  await loadCheckpoint(dir, target, opt);
  target.weights.forEach((w, i) => assert.deepEqual(Float32Array.from(w.read().dataSync()), want[i], `unmutated: weight ${i}`));
  const counts: Record<string, number> = { refused: 0, loadedIdentical: 0 };
  const t0 = performance.now();
  for (let c = 0; c < CASES; c++) {
    const name = files[rng().int(files.length)];
    const bytes = original.get(name) as Uint8Array;
    const m = mutation(rng(), bytes.length);
    const label = `checkpoint case ${c}: ${name} ${describe(m)}`;
    for (const f of files) fs.writeFileSync(path.join(caseFolder, f), f === name ? apply(bytes, m) : (original.get(f) as Uint8Array));
    const warnings: string[] = [];
    const r = await runAsync(label, dir, () => loadCheckpoint(dir, target, opt, (w) => warnings.push(w)));
    if (r.error) {
      counts.refused++;
      continue;
    }
    // Loaded: only a flip that leaves the content identical may get through (checked bit for bit).
    assert.equal(m.kind, 'flip', `${label}: a truncation was loaded`);
    const loaded = r.value as Awaited<ReturnType<typeof loadCheckpoint>>;
    assert.deepEqual([loaded.epoch, loaded.step, loaded.rngState, loaded.history], [3, 12, 12345, [{ epoch: 1, loss: 0.5 }]], label);
    target.weights.forEach((w, i) => assert.deepEqual(Float32Array.from(w.read().dataSync()), want[i], `${label}: weight ${i}`));
    const got = await opt.getWeights();
    got.forEach((n, i) => assert.deepEqual(Float32Array.from(n.tensor.dataSync()), wantOpt[i], `${label}: optimizer slot ${i}`));
    counts.loadedIdentical++;
    console.log(`  ${label}: loaded, content identical`);
  }
  target.dispose();
  opt.dispose();
  tally('checkpoint', counts, t0);
  assert.ok(counts.refused >= CASES * 0.9, 'nearly every mutation of a checksummed checkpoint is refused');
});

let ckptRng: Rng | null = null;
function rng(): Rng {
  ckptRng ??= new Rng(SEED + 2);
  return ckptRng;
}

// ---------------------------------------------------------------------------------------------------- packed models

test(`fuzz packed models: ${CASES} truncations and flips of a packed ternary LeNet-5`, { timeout: TEST_TIMEOUT_MS }, () => {
  const model = lenet5({ ...methodOptions('twn'), seed: 1 });
  const bytes = packModel(model);
  model.dispose();
  const rng = new Rng(SEED + 3);
  const counts: Record<string, number> = { refused: 0 };
  const t0 = performance.now();
  for (let c = 0; c < CASES; c++) {
    // Half the flips in the first 64 bytes (prefix and start of the header), where the checks differ most.
    const m = mutation(rng, rng.next() < 0.5 ? Math.min(64, bytes.length) : bytes.length);
    const label = `packed case ${c}: ${describe(m)}`;
    const tensors = tf.memory().numTensors;
    const r = run(label, 'packed model', () => unpackModel(apply(bytes, m)));
    assert.ok(r.error instanceof PackedFormatError, `${label}: not refused with a PackedFormatError (${r.error?.message ?? 'loaded'})`);
    assert.equal(tf.memory().numTensors, tensors, `${label}: a tensor was created before the refusal`);
    counts.refused++;
  }
  tally('packed', counts, t0);
});
