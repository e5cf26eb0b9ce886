/**
 * CIFAR-10 / CIFAR-100, binary version (https://www.cs.toronto.edu/~kriz/cifar.html).
 * A file is a run of fixed-size records: label byte(s), then 3072 pixel bytes as three 32x32 planes
 * (R, G, B, each row-major). We convert to NHWC while reading, chunk by chunk, straight into one
 * preallocated array, so the dataset is never held twice.
 */
import * as fs from 'fs';
import * as path from 'path';
import { candidateDirs, dataRoot } from './paths';
import { channelStats, STANDARD_STATS } from './stats';
import { CIFAR10_CLASSES, CIFAR100_COARSE_CLASSES, CIFAR100_FINE_CLASSES, readClassNames } from './classNames';
import type { ImageDataset, ImageSplit, LoadOptions } from './types';

export type CifarKind = 'cifar10' | 'cifar100';

export const CIFAR_SIDE = 32;
export const CIFAR_PLANE = CIFAR_SIDE * CIFAR_SIDE;
export const CIFAR_PIXELS = 3 * CIFAR_PLANE;

export interface CifarLayout {
  /** Folder name inside the official archive. */
  folder: string;
  train: string[];
  test: string[];
  /** Label bytes at the start of each record, and the number of classes each one indexes. */
  labelNames: string[];
  labelRanges: number[];
  recordBytes: number;
}

export const CIFAR_LAYOUT: Record<CifarKind, CifarLayout> = {
  cifar10: {
    folder: 'cifar-10-batches-bin',
    train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
    test: ['test_batch.bin'],
    labelNames: ['label'],
    labelRanges: [10],
    recordBytes: 1 + CIFAR_PIXELS,
  },
  cifar100: {
    folder: 'cifar-100-binary',
    train: ['train.bin'],
    test: ['test.bin'],
    labelNames: ['coarse label', 'fine label'],
    labelRanges: [20, 100],
    recordBytes: 2 + CIFAR_PIXELS,
  },
};

/** Human instructions for filling `folder` (default data/<official folder>), shared with the download command. */
export function cifarHowToGet(kind: CifarKind, folder?: string): string {
  const l = CIFAR_LAYOUT[kind];
  const target = folder ?? path.join(dataRoot(), l.folder);
  const archive = kind === 'cifar10' ? 'cifar-10-binary.tar.gz' : 'cifar-100-binary.tar.gz';
  // The command unpacks into <dir>/<official folder>: name --dir only when that lands in `target`.
  const parent = path.dirname(target);
  const dirFlag = path.basename(target) === l.folder && parent !== dataRoot() ? ` --dir ${parent}` : '';
  return `Run \`npm run data -- ${kind}${dirFlag}\` to download and unpack it, or, without network, copy ` +
    `${[...l.train, ...l.test].join(', ')} (from the official ${archive}) into ${target}/ ` +
    `(or copy the archive itself and run \`npm run data -- ${kind}${dirFlag} --from <archive>\`).`;
}

/** Number of records in each file; throws, naming the file, when one is missing or not whole records. */
export function checkCifarFiles(folder: string, kind: CifarKind, files: string[]): number[] {
  const l = CIFAR_LAYOUT[kind];
  return files.map((name) => {
    const file = path.join(folder, name);
    if (!fs.existsSync(file)) throw new Error(`${file}: file not found. ${cifarHowToGet(kind, folder)}`);
    const size = fs.statSync(file).size;
    if (size === 0 || size % l.recordBytes !== 0) {
      throw new Error(`${file}: size ${size} is not a whole number of ${l.recordBytes}-byte records ` +
        `(${l.labelRanges.length} label byte${l.labelRanges.length > 1 ? 's' : ''} + ${CIFAR_PIXELS} pixel bytes): ` +
        `the file is truncated or is not from the binary version of ${kind}. ${cifarHowToGet(kind, folder)}`);
    }
    return size / l.recordBytes;
  });
}

/** The folder holding the dataset: `dir` itself, `dir/<official folder>`, or data/<official folder>. */
export function findCifarFolder(kind: CifarKind, dir?: string): string {
  const l = CIFAR_LAYOUT[kind];
  const dirs = candidateDirs(dir, l.folder, [path.join(dataRoot(), l.folder)]);
  const hit = dirs.find((d) => fs.existsSync(path.join(d, l.train[0])));
  if (hit) return hit;
  const target = dir ? path.join(path.resolve(dir), l.folder) : undefined;
  throw new Error(`${kind} not found: no ${l.train[0]} in ${dirs.join(' or ')}. ${cifarHowToGet(kind, target)}`);
}

/** Copy record `r` of `chunk` into the store at example `i`: planar CHW -> interleaved HWC. */
function copyRecord(chunk: Uint8Array, r: number, labelBytes: number, images: Uint8Array, i: number): void {
  const src = r * (labelBytes + CIFAR_PIXELS) + labelBytes;
  const dst = i * CIFAR_PIXELS;
  for (let p = 0; p < CIFAR_PLANE; p++) {
    images[dst + 3 * p] = chunk[src + p];
    images[dst + 3 * p + 1] = chunk[src + CIFAR_PLANE + p];
    images[dst + 3 * p + 2] = chunk[src + 2 * CIFAR_PLANE + p];
  }
}

const CHUNK_RECORDS = 1000;

/** Read the first `limit` records of `files` into one split, keeping label byte `labelIndex`. */
function readSplit(folder: string, kind: CifarKind, files: string[], labelIndex: number, limit: number): ImageSplit {
  const l = CIFAR_LAYOUT[kind];
  const counts = checkCifarFiles(folder, kind, files);
  const count = Math.min(limit, counts.reduce((a, b) => a + b, 0));
  const images = new Uint8Array(count * CIFAR_PIXELS);
  const labels = new Uint8Array(count);
  const chunk = new Uint8Array(CHUNK_RECORDS * l.recordBytes);
  let i = 0;
  for (let f = 0; f < files.length && i < count; f++) {
    const file = path.join(folder, files[f]);
    const fd = fs.openSync(file, 'r');
    try {
      for (let rec = 0; rec < counts[f] && i < count; rec += CHUNK_RECORDS) {
        const n = Math.min(CHUNK_RECORDS, counts[f] - rec, count - i);
        const bytes = n * l.recordBytes;
        if (fs.readSync(fd, chunk, 0, bytes, rec * l.recordBytes) !== bytes) {
          throw new Error(`${file}: short read (did the file change while being read?)`);
        }
        for (let r = 0; r < n; r++, i++) {
          checkLabels(folder, files[f], kind, chunk, r, rec + r);
          labels[i] = chunk[r * l.recordBytes + labelIndex];
          copyRecord(chunk, r, l.labelRanges.length, images, i);
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return { images, labels, count };
}

/** Every label byte of a record must index its class list; anything else means a corrupt or foreign file. */
function checkLabels(folder: string, name: string, kind: CifarKind, chunk: Uint8Array, r: number, recordIndex: number): void {
  const l = CIFAR_LAYOUT[kind];
  for (let k = 0; k < l.labelRanges.length; k++) {
    const v = chunk[r * l.recordBytes + k];
    if (v >= l.labelRanges[k]) {
      const where = `${path.join(folder, name)}: record ${recordIndex}`;
      throw new Error(`${where}: ${l.labelNames[k]} ${v} is out of range 0..${l.labelRanges[k] - 1}; ` +
        `the file is corrupt or is not ${kind} (CIFAR-10 and CIFAR-100 records differ by one label byte). ${cifarHowToGet(kind, folder)}`);
    }
  }
}

function classNamesFor(kind: CifarKind, folder: string, labels: 'fine' | 'coarse'): string[] {
  if (kind === 'cifar10') return readClassNames(path.join(folder, 'batches.meta.txt'), 10, CIFAR10_CLASSES);
  if (labels === 'coarse') return readClassNames(path.join(folder, 'coarse_label_names.txt'), 20, CIFAR100_COARSE_CLASSES);
  return readClassNames(path.join(folder, 'fine_label_names.txt'), 100, CIFAR100_FINE_CLASSES);
}

/** Load CIFAR-10 or CIFAR-100 (fine labels unless `cifar100Labels: 'coarse'`). */
export function loadCifar(kind: CifarKind, opts: LoadOptions = {}): ImageDataset {
  const l = CIFAR_LAYOUT[kind];
  const folder = findCifarFolder(kind, opts.dir);
  const which = opts.cifar100Labels ?? 'fine';
  if (which !== 'fine' && which !== 'coarse') throw new Error(`cifar100Labels must be 'fine' or 'coarse', got '${which}'`);
  const labelIndex = kind === 'cifar100' && which === 'fine' ? 1 : 0;
  // Check both splits' files before the slow read, so a missing test file fails in milliseconds.
  checkCifarFiles(folder, kind, [...l.train, ...l.test]);
  const train = readSplit(folder, kind, l.train, labelIndex, opts.limitTrain ?? Infinity);
  const test = readSplit(folder, kind, l.test, labelIndex, opts.limitTest ?? Infinity);
  const classNames = classNamesFor(kind, folder, which);
  const stats = train.count > 0 ? channelStats(train.images, 3) : STANDARD_STATS[kind];
  return {
    name: kind, height: CIFAR_SIDE, width: CIFAR_SIDE, channels: 3, numClasses: classNames.length, classNames,
    train, test, mean: stats.mean.slice(), std: stats.std.slice(), source: folder,
  };
}
