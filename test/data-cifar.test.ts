import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  loadDataset, writeCifarFixture, channelStats, CIFAR10_CLASSES, CIFAR100_COARSE_CLASSES, CIFAR100_FINE_CLASSES,
  CIFAR100_FINE_TO_COARSE, type ImageSplit,
} from '../src/data';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qnnlab-cifar-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Records of the given files, concatenated, exactly as on disk. */
function records(dir: string, files: string[]): Buffer {
  return Buffer.concat(files.map((f) => fs.readFileSync(path.join(dir, f))));
}

/** Every pixel (h,w,c) of example i equals byte c*1024 + h*32 + w of record i's pixel part. */
function assertSameAsRecords(split: ImageSplit, raw: Buffer, labelBytes: number, labelIndex: number): void {
  const rec = labelBytes + 3072;
  assert.equal(split.images.length, split.count * 3072);
  for (let i = 0; i < split.count; i++) {
    assert.equal(split.labels[i], raw[i * rec + labelIndex], `label of record ${i}`);
    for (let h = 0; h < 32; h++) {
      for (let w = 0; w < 32; w++) {
        for (let c = 0; c < 3; c++) {
          const got = split.images[i * 3072 + (h * 32 + w) * 3 + c];
          const want = raw[i * rec + labelBytes + c * 1024 + h * 32 + w];
          if (got !== want) assert.fail(`record ${i} pixel (${h},${w},${c}): ${got} != ${want}`);
        }
      }
    }
  }
}

const TRAIN10 = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);

test('CIFAR-10 fixture loads back exactly (CHW records -> HWC), from the folder or its parent', async () => {
  const dir = path.join(tmp, 'c10', 'cifar-10-batches-bin');
  writeCifarFixture(dir, { kind: 'cifar10', trainPerFile: 7, test: 5, seed: 1 });
  assert.equal(fs.statSync(path.join(dir, 'data_batch_1.bin')).size, 7 * 3073);
  const ds = await loadDataset('cifar10', { dir });
  assert.deepEqual([ds.name, ds.height, ds.width, ds.channels, ds.numClasses], ['cifar10', 32, 32, 3, 10]);
  assert.deepEqual([ds.train.count, ds.test.count], [35, 5]);
  assert.deepEqual(ds.classNames, CIFAR10_CLASSES);
  assert.equal(ds.source, dir);
  assertSameAsRecords(ds.train, records(dir, TRAIN10), 1, 0);
  assertSameAsRecords(ds.test, records(dir, ['test_batch.bin']), 1, 0);
  const stats = channelStats(ds.train.images, 3);
  assert.deepEqual([ds.mean, ds.std], [stats.mean, stats.std]);
  for (const m of ds.mean) assert.ok(Math.abs(m - 0.5) < 0.02, `uniform random bytes have mean ~0.5, got ${m}`);

  const viaParent = await loadDataset('CIFAR-10', { dir: path.dirname(dir), limitTrain: 10, limitTest: 2 });
  assert.equal(viaParent.source, dir);
  assert.deepEqual([viaParent.train.count, viaParent.test.count], [10, 2]);
  // The limit spans data_batch_1 (7 records) into data_batch_2.
  assert.deepEqual(viaParent.train.images, ds.train.images.subarray(0, 10 * 3072));
  assert.deepEqual(viaParent.train.labels, ds.train.labels.subarray(0, 10));
});

test('CIFAR-100 fixture: fine and coarse labels, names, reads spanning several chunks', async () => {
  const dir = path.join(tmp, 'c100');
  writeCifarFixture(dir, { kind: 'cifar100', trainPerFile: 1100, test: 3, seed: 2 });
  const fine = await loadDataset('cifar100', { dir });
  const coarse = await loadDataset('cifar100', { dir, cifar100Labels: 'coarse' });
  assert.deepEqual([fine.numClasses, coarse.numClasses], [100, 20]);
  assert.deepEqual(fine.classNames, CIFAR100_FINE_CLASSES);
  assert.deepEqual(coarse.classNames, CIFAR100_COARSE_CLASSES);
  assert.deepEqual([fine.train.count, fine.test.count], [1100, 3]);
  const raw = records(dir, ['train.bin']);
  assertSameAsRecords(fine.train, raw, 2, 1);
  assertSameAsRecords(coarse.train, raw, 2, 0);
  assertSameAsRecords(fine.test, records(dir, ['test.bin']), 2, 1);
  for (let i = 0; i < fine.train.count; i++) assert.equal(coarse.train.labels[i], CIFAR100_FINE_TO_COARSE[fine.train.labels[i]]);
  assert.deepEqual(coarse.train.images, fine.train.images);
});

test('built-in class names when the names file is absent', async () => {
  const dir = path.join(tmp, 'nonames');
  writeCifarFixture(dir, { kind: 'cifar10', trainPerFile: 1, test: 1 });
  fs.rmSync(path.join(dir, 'batches.meta.txt'));
  assert.deepEqual((await loadDataset('cifar10', { dir })).classNames, CIFAR10_CLASSES);
});

test('corrupt CIFAR files: wrong size, bad label, missing file, wrong variant', async () => {
  const dir = path.join(tmp, 'bad');
  writeCifarFixture(dir, { kind: 'cifar10', trainPerFile: 3, test: 2 });
  const b3 = path.join(dir, 'data_batch_3.bin');
  fs.appendFileSync(b3, Buffer.from([1, 2, 3]));
  await assert.rejects(loadDataset('cifar10', { dir }), {
    message: new RegExp(`^${b3}: size ${3 * 3073 + 3} is not a whole number of 3073-byte records`),
  });
  fs.truncateSync(b3, 3 * 3073);
  const buf = fs.readFileSync(b3);
  buf[3073] = 10; // label of record 1
  fs.writeFileSync(b3, buf);
  await assert.rejects(loadDataset('cifar10', { dir }), { message: new RegExp(`^${b3}: record 1: label 10 is out of range 0\\.\\.9`) });
  const test5 = path.join(dir, 'test_batch.bin');
  fs.rmSync(test5);
  await assert.rejects(loadDataset('cifar10', { dir }), { message: new RegExp(`^${test5}: file not found\\. Run \`npm run data -- cifar10\``) });
  // CIFAR-100 records under CIFAR-10 names: 3073 records of 3074 bytes pass the size check, the labels do not
  const wrong = path.join(tmp, 'wrong');
  writeCifarFixture(path.join(tmp, 'c100src'), { kind: 'cifar100', trainPerFile: 1, test: 3073 });
  fs.mkdirSync(wrong);
  for (const f of [...TRAIN10, 'test_batch.bin']) fs.copyFileSync(path.join(tmp, 'c100src', 'test.bin'), path.join(wrong, f));
  await assert.rejects(loadDataset('cifar10', { dir: wrong }), { message: /wrong\/data_batch_1\.bin: record \d+: label \d+ is out of range 0\.\.9/ });
  const none = path.join(tmp, 'none');
  await assert.rejects(loadDataset('cifar100', { dir: none }), (e: Error) => {
    assert.ok(e.message.includes(`no train.bin in ${none} or ${path.join(none, 'cifar-100-binary')}`), e.message);
    assert.ok(e.message.includes('npm run data -- cifar100'), e.message);
    return true;
  });
});
