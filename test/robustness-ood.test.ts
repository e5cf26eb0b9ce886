import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_OOD_COUNT, fashionMnistOod, loadOodSet, uniformNoiseImages } from '../src/robustness';

test('uniform noise images: shape, range, determinism, roughly uniform', () => {
  const a = uniformNoiseImages(100, 3);
  assert.equal(a.count, 100);
  assert.equal(a.images.length, 100 * 28 * 28);
  assert.equal(a.labels.length, 100);
  assert.ok(a.labels.every((l) => l === 0));
  assert.deepEqual(uniformNoiseImages(100, 3).images, a.images);
  const b = uniformNoiseImages(100, 4);
  let same = 0;
  for (let i = 0; i < a.images.length; i++) if (a.images[i] === b.images[i]) same++;
  assert.ok(same / a.images.length < 0.01, `seeds 3 and 4 agree on ${same} pixels`);
  // The first images do not depend on how many are drawn.
  assert.deepEqual(uniformNoiseImages(10, 3).images, a.images.subarray(0, 10 * 784));
  // Every value 0..255 occurs, with mean ≈ 127.5 and variance ≈ (256² − 1)/12.
  const hist = new Array(256).fill(0);
  for (const v of a.images) hist[v]++;
  assert.ok(hist.every((h) => h > 0), 'some byte values never occur');
  const m = a.images.reduce((s, v) => s + v, 0) / a.images.length;
  const v = a.images.reduce((s, x) => s + (x - m) ** 2, 0) / a.images.length;
  assert.ok(Math.abs(m - 127.5) < 1, `mean ${m}`);
  assert.ok(Math.abs(v / ((256 * 256 - 1) / 12) - 1) < 0.02, `variance ${v}`);
  assert.equal(uniformNoiseImages(2, 0, { height: 32, width: 32, channels: 3 }).images.length, 2 * 3072);
  assert.equal(uniformNoiseImages(0, 0).count, 0);
  assert.throws(() => uniformNoiseImages(-1, 0), /non-negative integer/);
});

test('loadOodSet: uniform noise by name (10,000 by default), unknown names rejected', async () => {
  const n = await loadOodSet('uniform-noise', { limit: 5, seed: 3 });
  assert.deepEqual(n.images, uniformNoiseImages(5, 3).images);
  assert.equal((await loadOodSet('uniform-noise')).count, DEFAULT_OOD_COUNT);
  await assert.rejects(loadOodSet('not-mnist' as never), /unknown OOD set 'not-mnist'; known: fashion-mnist, uniform-noise/);
  await assert.rejects(loadOodSet('uniform-noise', { limit: 1.5 }), /limit must be a non-negative integer/);
});

test('Fashion-MNIST test split as an OOD set: 10,000 images of 28×28×1', async (t) => {
  let ood;
  try {
    ood = await fashionMnistOod();
  } catch (e) {
    if (/Fashion-MNIST not found/.test((e as Error).message)) {
      t.skip('Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist puts it in /usr/share/datasets/fashion-mnist)');
      return;
    }
    throw e;
  }
  assert.equal(ood.count, 10000);
  assert.equal(ood.images.length, 10000 * 28 * 28);
  assert.equal(ood.labels.length, 10000);
  // Balanced test split: 1,000 per clothing class.
  const hist = new Array(10).fill(0);
  for (const l of ood.labels) hist[l]++;
  assert.deepEqual(hist, new Array(10).fill(1000));
  const limited = await loadOodSet('fashion-mnist', { limit: 50 });
  assert.equal(limited.count, 50);
  assert.deepEqual(limited.images, ood.images.subarray(0, 50 * 784));
});
