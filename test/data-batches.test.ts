import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { batches, numBatches, writeExample, normalizationTable, type ImageDataset, type Batch, type BatchOptions } from '../src/data';

test.before(async () => {
  await initEngine({ backend: 'wasm' });
});

/**
 * n examples of h x w x c; every byte of example i is i (so a batch row tells which example it is),
 * label i % k.
 */
function synthetic(n: number, h = 2, w = 3, c = 1, k = 4): ImageDataset {
  const per = h * w * c;
  const images = new Uint8Array(n * per);
  for (let i = 0; i < n; i++) images.fill(i, i * per, (i + 1) * per);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % k);
  const split = { images, labels, count: n };
  return {
    name: 'mnist', height: h, width: w, channels: c, numClasses: k, classNames: ['a', 'b', 'c', 'd'].slice(0, k),
    train: split, test: split, mean: new Array(c).fill(0.5), std: new Array(c).fill(0.25), source: '(memory)',
  };
}

/** Run an epoch, read every batch back, dispose it. */
function collect(ds: ImageDataset, opts: BatchOptions, split: 'train' | 'test' = 'train') {
  const out: { x: Float32Array; y: Float32Array; labels: Uint8Array; size: number; shape: number[] }[] = [];
  for (const b of batches(ds, split, opts)) {
    out.push({ x: b.x.dataSync() as Float32Array, y: b.y.dataSync() as Float32Array, labels: b.labels, size: b.size, shape: b.x.shape });
    tf.dispose([b.x, b.y]);
  }
  return out;
}

/** Example ids of an epoch run with normalize 'none' (first byte of each row). */
function order(ds: ImageDataset, opts: BatchOptions): number[] {
  const per = ds.height * ds.width * ds.channels;
  return collect(ds, { ...opts, normalize: 'none' }).flatMap((b) => Array.from({ length: b.size }, (_, r) => b.x[r * per]));
}

test('batch sizes, partial last batch, dropRemainder, limit, numBatches', () => {
  const ds = synthetic(10);
  const sizes = (o: BatchOptions) => collect(ds, o).map((b) => b.size);
  assert.deepEqual(sizes({ batchSize: 4 }), [4, 4, 2]);
  assert.deepEqual(sizes({ batchSize: 4, dropRemainder: true }), [4, 4]);
  assert.deepEqual(sizes({ batchSize: 4, limit: 7 }), [4, 3]);
  assert.deepEqual(sizes({ batchSize: 5 }), [5, 5]);
  assert.equal(numBatches(ds, 'train', { batchSize: 4 }), 3);
  assert.equal(numBatches(ds, 'train', { batchSize: 4, dropRemainder: true }), 2);
  assert.equal(numBatches(ds, 'test', { batchSize: 4, limit: 7 }), 2);
  assert.equal(numBatches(ds, 'train', { batchSize: 20, dropRemainder: true }), 0);
  const first = collect(ds, { batchSize: 4 })[0];
  assert.deepEqual(first.shape, [4, 2, 3, 1]);
  assert.throws(() => batches(ds, 'train', { batchSize: 0 }), /batchSize must be a positive integer/);
  assert.throws(() => batches(ds, 'train', { batchSize: 2, augment: { padCrop: -1 } }), /padCrop must be a non-negative integer/);
});

test('one-hot labels match the integer labels; unshuffled order is file order', () => {
  const ds = synthetic(10);
  assert.deepEqual(order(ds, { batchSize: 3 }), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (const b of collect(ds, { batchSize: 3, shuffle: true, seed: 5 })) {
    for (let r = 0; r < b.size; r++) {
      const row = Array.from(b.y.subarray(r * 4, r * 4 + 4));
      assert.deepEqual(row, [0, 1, 2, 3].map((k) => (k === b.labels[r] ? 1 : 0)));
      assert.equal(b.labels[r], Math.round(b.x[r * 6] * 255) % 4); // unit-scaled byte i -> i/255, label i % 4
    }
  }
});

test('shuffling: deterministic per seed, different across seeds, each example exactly once', () => {
  const ds = synthetic(50);
  const a = order(ds, { batchSize: 8, shuffle: true, seed: 1 });
  assert.deepEqual(order(ds, { batchSize: 8, shuffle: true, seed: 1 }), a);
  const b = order(ds, { batchSize: 8, shuffle: true, seed: 2 });
  assert.notDeepEqual(a, b);
  assert.notDeepEqual(a, Array.from({ length: 50 }, (_, i) => i));
  for (const o of [a, b]) assert.deepEqual([...o].sort((p, q) => p - q), Array.from({ length: 50 }, (_, i) => i));
  // limit shuffles within the first `limit` examples
  const lim = order(ds, { batchSize: 8, shuffle: true, seed: 3, limit: 20 });
  assert.deepEqual([...lim].sort((p, q) => p - q), Array.from({ length: 20 }, (_, i) => i));
});

test('normalization: unit, none, meanstd (per channel)', () => {
  const ds = synthetic(3, 1, 2, 2);
  ds.mean = [0.5, 0.25];
  ds.std = [0.25, 0.5];
  const x = (normalize: BatchOptions['normalize']) => Array.from(collect(ds, { batchSize: 3, normalize })[0].x);
  const bytes = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2];
  assert.deepEqual(x('none'), bytes);
  assert.deepEqual(x(undefined), bytes.map((v) => Math.fround(v / 255)));
  const ms = x('meanstd');
  bytes.forEach((v, i) => {
    const c = i % 2;
    assert.ok(Math.abs(ms[i] - (v / 255 - ds.mean[c]) / ds.std[c]) < 1e-6, `element ${i}`);
  });
  assert.throws(() => normalizationTable('zscore' as never, [0], [1], 1), /normalize must be/);
});

/** A 3x3 two-channel image whose bytes are all distinct: channel 0 = 10*h + w + 1, channel 1 = 100 + that. */
function handMade(): Uint8Array {
  const img = new Uint8Array(18);
  for (let h = 0; h < 3; h++) for (let w = 0; w < 3; w++) {
    img[(h * 3 + w) * 2] = 10 * h + w + 1;
    img[(h * 3 + w) * 2 + 1] = 100 + 10 * h + w + 1;
  }
  return img;
}

test('crop and flip on a hand-made image', () => {
  const img = handMade();
  const table = normalizationTable('none', [], [], 2);
  const run = (dy: number, dx: number, flip: boolean) => {
    const out = new Float32Array(18);
    writeExample(img, 0, out, 0, 3, 3, 2, table, { dy, dx, flip });
    return Array.from({ length: 3 }, (_, h) => Array.from({ length: 3 }, (_, w) => out[(h * 3 + w) * 2]));
  };
  assert.deepEqual(run(0, 0, false), [[1, 2, 3], [11, 12, 13], [21, 22, 23]]);
  // Crop window moved down by 1 and right by 1: content shifts up-left, zero padding enters bottom-right.
  assert.deepEqual(run(1, 1, false), [[12, 13, 0], [22, 23, 0], [0, 0, 0]]);
  assert.deepEqual(run(-1, 0, false), [[0, 0, 0], [1, 2, 3], [11, 12, 13]]);
  assert.deepEqual(run(0, 0, true), [[3, 2, 1], [13, 12, 11], [23, 22, 21]]);
  // Crop, then mirror the cropped window.
  assert.deepEqual(run(0, 1, true), [[0, 3, 2], [0, 13, 12], [0, 23, 22]]);
  // Channel 1 follows channel 0; padding is byte 0 put through the normalization.
  const out = new Float32Array(18);
  writeExample(img, 0, out, 0, 3, 3, 2, normalizationTable('meanstd', [0.5, 0.5], [0.5, 0.5], 2), { dy: 0, dx: 1, flip: false });
  assert.ok(Math.abs(out[(0 * 3 + 0) * 2 + 1] - (102 / 255 - 0.5) / 0.5) < 1e-6);
  assert.equal(out[(0 * 3 + 2) * 2 + 1], -1);
});

test('augmented batches are one of the allowed crops/flips, vary with the seed, and are deterministic', () => {
  const img = handMade();
  const ds = synthetic(1, 3, 3, 2);
  ds.train = { images: img, labels: Uint8Array.from([0]), count: 1 };
  const table = normalizationTable('none', [], [], 2);
  const allowed = new Map<string, string>();
  for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) for (const flip of [false, true]) {
    const out = new Float32Array(18);
    writeExample(img, 0, out, 0, 3, 3, 2, table, { dy, dx, flip });
    allowed.set(Array.from(out).join(','), `${dy},${dx},${flip}`);
  }
  const seen = new Set<string>();
  const opts = (seed: number): BatchOptions => ({ batchSize: 1, seed, normalize: 'none', augment: { padCrop: 1, flip: true } });
  for (let seed = 0; seed < 200; seed++) {
    const key = Array.from(collect(ds, opts(seed))[0].x).join(',');
    assert.ok(allowed.has(key), `seed ${seed} produced an image that is no crop/flip of the input`);
    seen.add(allowed.get(key)!);
  }
  assert.equal(seen.size, 18, `all 9 offsets x 2 flips occur over 200 seeds (saw ${seen.size})`);
  assert.deepEqual(collect(ds, opts(7))[0].x, collect(ds, opts(7))[0].x);
  // flip only: identity or mirror, never a shift
  const flips = new Set<string>();
  for (let seed = 0; seed < 40; seed++) {
    flips.add(allowed.get(Array.from(collect(ds, { batchSize: 1, seed, normalize: 'none', augment: { flip: true } })[0].x).join(','))!);
  }
  assert.deepEqual([...flips].sort(), ['0,0,false', '0,0,true']);
});

test('no tensors leak: disposing every batch returns numTensors to the start', () => {
  const ds = synthetic(37, 4, 4, 3);
  const start = tf.memory().numTensors;
  let n = 0;
  const it: Generator<Batch> = batches(ds, 'train', { batchSize: 8, shuffle: true, augment: { padCrop: 2, flip: true }, normalize: 'meanstd' });
  for (const b of it) {
    assert.equal(tf.memory().numTensors, start + 2);
    assert.equal(b.x.dtype, 'float32');
    assert.equal(b.y.dtype, 'float32');
    b.x.dispose();
    b.y.dispose();
    n++;
  }
  assert.equal(n, 5);
  assert.equal(tf.memory().numTensors, start);
});
