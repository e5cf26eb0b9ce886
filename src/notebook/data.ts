/**
 * Data cells of the notebooks: a look at the images and the class balance, and the CIFAR-10 files to use at
 * each size (CI: generated files in the official binary format, written into a temporary folder; full: the
 * real data set from data/, see `npm run data -- cifar10`).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { findCifarFolder, loadDataset, writeCifarFixture, type ImageDataset, type LoadOptions } from '../data';
import { theme } from '../plots/theme';
import type { Row } from '../plots/types';
import type { Size } from './index';

/** The first `count` images of a split as a grid of small panels titled with their class. */
export function imageGrid(ds: ImageDataset, opts: { count?: number; split?: 'train' | 'test'; columns?: number; title?: string } = {}): TopLevelSpec {
  const split = ds[opts.split ?? 'train'];
  const count = Math.min(opts.count ?? 12, split.count);
  const { height: H, width: W, channels: C } = ds;
  const rows: Row[] = [];
  const labels: string[] = [];
  for (let n = 0; n < count; n++) {
    const label = `${n + 1}: ${ds.classNames[split.labels[n]] ?? split.labels[n]}`;
    labels.push(label);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const at = ((n * H + y) * W + x) * C;
        const [r, g, b] = C === 1 ? [split.images[at], split.images[at], split.images[at]] : [split.images[at], split.images[at + 1], split.images[at + 2]];
        rows.push({ image: label, x, y, rgb: `rgb(${r},${g},${b})` });
      }
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: opts.title ?? `First ${count} ${opts.split ?? 'train'} images of ${ds.name}`,
    config: { ...theme, view: { stroke: null } },
    data: { values: rows },
    facet: { field: 'image', type: 'nominal', sort: labels, title: null },
    columns: opts.columns ?? 6,
    spec: {
      width: 3 * W,
      height: 3 * H,
      // A stroke in the fill colour hides the anti-aliasing seams between neighbouring pixels.
      mark: { type: 'rect', strokeWidth: 0.6 },
      encoding: {
        x: { field: 'x', type: 'ordinal', axis: null },
        y: { field: 'y', type: 'ordinal', axis: null },
        color: { field: 'rgb', type: 'nominal', scale: null, legend: null },
        stroke: { field: 'rgb', type: 'nominal', scale: null, legend: null },
      },
    },
  } as TopLevelSpec;
}

/** Examples per class in each split. */
export function classCounts(ds: ImageDataset): Row[] {
  const count = (labels: Uint8Array, n: number) => {
    const c = new Array<number>(ds.numClasses).fill(0);
    for (let i = 0; i < n; i++) c[labels[i]]++;
    return c;
  };
  const tr = count(ds.train.labels, ds.train.count);
  const te = count(ds.test.labels, ds.test.count);
  return ds.classNames.map((name, k) => ({ class: name, train: tr[k], test: te[k] }));
}

/** One line: name, shapes, example counts, per-channel mean/std, folder. */
export function describeDataset(ds: ImageDataset): string {
  const f = (xs: number[]) => xs.map((v) => v.toFixed(3)).join('/');
  return `${ds.name}: ${ds.train.count} train + ${ds.test.count} test images of ${ds.height}x${ds.width}x${ds.channels}, ` +
    `${ds.numClasses} classes; mean ${f(ds.mean)}, std ${f(ds.std)}; from ${ds.source}`;
}

export interface CifarForNotebook {
  /** Folder to pass as the experiments' `dataDir` (the parent of cifar-10-batches-bin). */
  dir: string | null;
  /** True when the files are generated (CI), not CIFAR-10. */
  generated: boolean;
  /** The data set, or null when the real files are missing (full size before `npm run data -- cifar10`). */
  ds: ImageDataset | null;
  message: string;
}

/**
 * CI size: writes CIFAR-10-format files (the class drawn into the pixels, so training has something to learn)
 * into a fresh temporary folder and loads them through the real reader. Full size: the real CIFAR-10 from
 * data/ (or QNNLAB_DATA); when it is missing, ds is null and the message says how to get it.
 */
export async function cifarForNotebook(sz: Size, opts: LoadOptions & { trainPerFile?: number; test?: number } = {}): Promise<CifarForNotebook> {
  if (sz === 'ci') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qnnlab-cifar-'));
    writeCifarFixture(path.join(dir, 'cifar-10-batches-bin'), { kind: 'cifar10', trainPerFile: opts.trainPerFile ?? 40, test: opts.test ?? 100, seed: 1, pattern: true });
    const ds = await loadDataset('cifar10', { dir, limitTrain: opts.limitTrain, limitTest: opts.limitTest });
    return { dir, generated: true, ds, message: `CI size: generated CIFAR-10-format files (not CIFAR-10) in ${dir}` };
  }
  try {
    const folder = findCifarFolder('cifar10', opts.dir);
    const ds = await loadDataset('cifar10', { dir: opts.dir, limitTrain: opts.limitTrain, limitTest: opts.limitTest });
    return { dir: path.dirname(folder), generated: false, ds, message: `CIFAR-10 from ${folder}` };
  } catch (e) {
    return { dir: null, generated: false, ds: null, message: (e as Error).message };
  }
}
