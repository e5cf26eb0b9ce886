/**
 * Small CIFAR files in the exact official binary layout, from a seed: lets tests and offline machines
 * exercise the real reader and the unpack path without the 160 MB archives.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Rng } from '../util/random';
import { CIFAR_LAYOUT, CIFAR_PIXELS, type CifarKind } from './cifar';
import { CIFAR10_CLASSES, CIFAR100_COARSE_CLASSES, CIFAR100_FINE_CLASSES, CIFAR100_FINE_TO_COARSE } from './classNames';

export interface CifarFixtureOptions {
  kind: CifarKind;
  /** Records in each training file (CIFAR-10 has five, CIFAR-100 one). Default 20. */
  trainPerFile?: number;
  /** Records in the test file. Default 10. */
  test?: number;
  seed?: number;
  /** Make the class visible in the pixels (for smoke training runs); default false = uniform noise. */
  pattern?: boolean;
}

/** Label bytes of one record: [label] for CIFAR-10, [coarse, fine] (a consistent pair) for CIFAR-100. */
function labelBytes(kind: CifarKind, rng: Rng): number[] {
  if (kind === 'cifar10') return [rng.int(10)];
  const fine = rng.int(100);
  return [CIFAR100_FINE_TO_COARSE[fine], fine];
}

/**
 * With `pattern`, the class (the last label byte) brightens one colour plane and one band of rows, so a
 * smoke run has something to learn; otherwise pixels are uniform noise.
 */
function writeRecords(file: string, kind: CifarKind, count: number, rng: Rng, pattern: boolean): void {
  const rec = CIFAR_LAYOUT[kind].recordBytes;
  const buf = new Uint8Array(count * rec);
  for (let r = 0; r < count; r++) {
    const labels = labelBytes(kind, rng);
    labels.forEach((v, k) => (buf[r * rec + k] = v));
    const c = labels[labels.length - 1];
    const start = rec - CIFAR_PIXELS;
    for (let p = start; p < rec; p++) {
      const plane = Math.floor((p - start) / 1024);
      const row = Math.floor(((p - start) % 1024) / 32);
      const lift = pattern ? (plane === c % 3 ? 80 : 0) + (Math.floor(row / 8) === Math.floor(c / 3) % 4 ? 60 : 0) : 0;
      buf[r * rec + p] = pattern ? Math.min(255, rng.int(116) + lift) : rng.int(256);
    }
  }
  fs.writeFileSync(file, buf);
}

/** Write a fixture into `dir` (created if needed): the data files plus the class-name files of the archive. */
export function writeCifarFixture(dir: string, opts: CifarFixtureOptions): void {
  const l = CIFAR_LAYOUT[opts.kind];
  if (!l) throw new Error(`writeCifarFixture: kind must be 'cifar10' or 'cifar100', got '${String(opts.kind)}'`);
  const rng = new Rng(opts.seed ?? 0);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of l.train) writeRecords(path.join(dir, f), opts.kind, opts.trainPerFile ?? 20, rng, opts.pattern ?? false);
  for (const f of l.test) writeRecords(path.join(dir, f), opts.kind, opts.test ?? 10, rng, opts.pattern ?? false);
  // The official name files end with blank lines; keep that so the reader's trimming is exercised.
  const names = (list: string[]) => list.join('\n') + '\n\n';
  if (opts.kind === 'cifar10') {
    fs.writeFileSync(path.join(dir, 'batches.meta.txt'), names(CIFAR10_CLASSES));
  } else {
    fs.writeFileSync(path.join(dir, 'fine_label_names.txt'), names(CIFAR100_FINE_CLASSES));
    fs.writeFileSync(path.join(dir, 'coarse_label_names.txt'), names(CIFAR100_COARSE_CLASSES));
  }
}
