import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { readIdxImages, readIdxLabels, writeIdx, loadDataset } from '../src/data';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qnnlab-idx-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function pattern(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) % 256);
}

test('IDX round trip, raw and gzip (gzip found by magic, not by name)', () => {
  const img = pattern(5 * 4 * 3);
  const lab = Uint8Array.from([3, 1, 4, 1, 5]);
  for (const gzip of [false, true]) {
    const fi = path.join(tmp, `rt-images-${gzip}`);
    const fl = path.join(tmp, `rt-labels-${gzip}`);
    writeIdx(fi, [5, 4, 3], img, { gzip });
    writeIdx(fl, [5], lab, { gzip });
    assert.equal(fs.readFileSync(fi)[0] === 0x1f, gzip);
    const r = readIdxImages(fi);
    assert.deepEqual([r.count, r.height, r.width], [5, 4, 3]);
    assert.deepEqual(r.data, img);
    assert.deepEqual(readIdxLabels(fl), lab);
    // limit keeps the first items
    const two = readIdxImages(fi, 2);
    assert.equal(two.count, 2);
    assert.deepEqual(two.data, img.subarray(0, 24));
    assert.deepEqual(readIdxLabels(fl, 3), lab.subarray(0, 3));
  }
});

test('wrong magic: a labels file read as images names the file and both magics', () => {
  const f = path.join(tmp, 'labels-as-images');
  writeIdx(f, [4], Uint8Array.from([1, 2, 3, 4]));
  assert.throws(() => readIdxImages(f), (e: Error) => {
    assert.match(e.message, new RegExp(`^${f}: wrong magic number 0x00000801, expected 0x00000803`));
    return true;
  });
});

test('truncated and oversized raw files name the file and the sizes', () => {
  const f = path.join(tmp, 'train-images-idx3-ubyte');
  writeIdx(f, [5, 4, 3], pattern(60));
  fs.truncateSync(f, 16 + 50);
  assert.throws(() => readIdxImages(f), { message: new RegExp(`^${f}: truncated: header says 5x4x3 = 60 bytes, file has 50;`) });
  writeIdx(f, [5, 4, 3], pattern(60));
  fs.appendFileSync(f, Buffer.from([1, 2]));
  assert.throws(() => readIdxImages(f), { message: new RegExp(`^${f}: 2 unexpected extra bytes`) });
  fs.writeFileSync(f, Buffer.from([0, 0]));
  assert.throws(() => readIdxImages(f), { message: new RegExp(`^${f}: truncated: 2 bytes`) });
});

test('truncated gzip and a short inflated body are reported with the file name', () => {
  const f = path.join(tmp, 'cut.gz');
  writeIdx(f, [5, 4, 3], pattern(60), { gzip: true });
  const gz = fs.readFileSync(f);
  fs.writeFileSync(f, gz.subarray(0, gz.length - 10));
  assert.throws(() => readIdxImages(f), { message: new RegExp(`^${f}: gzip data is corrupt or truncated`) });
  const header = Buffer.from([0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 4, 0, 0, 0, 3]);
  fs.writeFileSync(f, zlib.gzipSync(Buffer.concat([header, Buffer.from(pattern(40))])));
  assert.throws(() => readIdxImages(f), { message: new RegExp(`^${f}: truncated: header says 5x4x3 = 60 bytes, file has 40`) });
});

test('missing file names the file', () => {
  const f = path.join(tmp, 'nope-idx3-ubyte');
  assert.throws(() => readIdxImages(f), { message: `${f}: file not found.` });
});

test('Fashion-MNIST missing: error lists the folders searched and how to get it', async () => {
  const empty = fs.mkdtempSync(path.join(tmp, 'empty-'));
  await assert.rejects(loadDataset('fashion-mnist', { dir: empty }), (e: Error) => {
    assert.match(e.message, /^Fashion-MNIST not found/);
    assert.ok(e.message.includes(`${empty} (missing train-images-idx3-ubyte, train-labels-idx1-ubyte`), e.message);
    assert.ok(e.message.includes(`${path.join(empty, 'fashion-mnist')} (folder does not exist)`), e.message);
    assert.ok(e.message.includes('apt-get install dataset-fashion-mnist'), e.message);
    return true;
  });
});

test('an IDX folder with mismatched counts or bad labels is rejected, naming the file', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'mm-'));
  writeIdx(path.join(dir, 'train-images-idx3-ubyte'), [3, 2, 2], pattern(12));
  writeIdx(path.join(dir, 'train-labels-idx1-ubyte.gz'), [2], Uint8Array.from([1, 2]), { gzip: true });
  writeIdx(path.join(dir, 't10k-images-idx3-ubyte'), [1, 2, 2], pattern(4));
  writeIdx(path.join(dir, 't10k-labels-idx1-ubyte'), [1], Uint8Array.from([12]));
  await assert.rejects(loadDataset('mnist', { dir }), { message: /train-labels-idx1-ubyte\.gz: 2 labels but .*train-images-idx3-ubyte has 3 images/ });
  writeIdx(path.join(dir, 'train-labels-idx1-ubyte.gz'), [3], Uint8Array.from([1, 2, 3]), { gzip: true });
  await assert.rejects(loadDataset('mnist', { dir }), { message: /t10k-labels-idx1-ubyte: label 12 at item 0 is out of range 0\.\.9/ });
  writeIdx(path.join(dir, 't10k-labels-idx1-ubyte'), [1], Uint8Array.from([7]));
  const ds = await loadDataset('mnist', { dir });
  assert.deepEqual([ds.train.count, ds.test.count, ds.height, ds.width, ds.source], [3, 1, 2, 2, dir]);
});

test('unknown dataset names and bad limits are rejected', async () => {
  await assert.rejects(loadDataset('imagenet'), { message: /Unknown dataset 'imagenet'; known: mnist, fashion-mnist, cifar10, cifar100/ });
  await assert.rejects(loadDataset('mnist', { limitTrain: -1 }), { message: /limitTrain must be a non-negative integer/ });
});
