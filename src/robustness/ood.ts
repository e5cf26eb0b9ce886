/**
 * Out-of-distribution sets for an MNIST classifier (docs/robustness.md): the Fashion-MNIST test split (Xiao et al.
 * 2017; Ovadia et al. 2019 evaluate on it in their released code, next to Not-MNIST) and images of uniform noise.
 * Both are 28×28×1 uint8 ImageSplits like the MNIST test split. Their labels do not name digits: Fashion-MNIST
 * keeps its clothing classes (0..9), the noise images carry 0. OOD metrics ignore them.
 */
import { loadDataset, type ImageSplit } from '../data';
import { MNIST_SHAPE, type ImageShape } from './shifts';
import { ShiftRng } from './random';

export const OOD_SETS = ['fashion-mnist', 'uniform-noise'] as const;
export type OodSetName = (typeof OOD_SETS)[number];

export interface OodOptions {
  /** Keep the first N images (default: all 10,000 Fashion-MNIST test images; 10,000 noise images). */
  limit?: number;
  /** Seed of the noise images (default 0). */
  seed?: number;
  /** Folder of the Fashion-MNIST files (default: data/fashion-mnist, then /usr/share/datasets/fashion-mnist). */
  dir?: string;
}

/** The number of images in each OOD set when no limit is given: the size of the MNIST test split. */
export const DEFAULT_OOD_COUNT = 10000;

/**
 * The Fashion-MNIST test split as an OOD set, through the project's loader; only the test split is kept
 * (limitTrain 0). Throws the loader's message, which says how to install the data, when it is absent.
 */
export async function fashionMnistOod(opts: Pick<OodOptions, 'limit' | 'dir'> = {}): Promise<ImageSplit> {
  const ds = await loadDataset('fashion-mnist', { dir: opts.dir, limitTrain: 0, limitTest: opts.limit });
  return ds.test;
}

/** n images whose every pixel is an independent uniform integer in 0..255, from `seed`; labels 0. */
export function uniformNoiseImages(n: number, seed: number, shape: ImageShape = MNIST_SHAPE): ImageSplit {
  if (!(Number.isInteger(n) && n >= 0)) throw new Error(`uniformNoiseImages: n must be a non-negative integer, got ${n}.`);
  const rng = new ShiftRng(seed);
  const images = new Uint8Array(n * shape.height * shape.width * shape.channels);
  for (let i = 0; i < images.length; i++) images[i] = rng.int(256);
  return { images, labels: new Uint8Array(n), count: n };
}

/** An OOD set by name. */
export async function loadOodSet(name: OodSetName, opts: OodOptions = {}): Promise<ImageSplit> {
  if (opts.limit !== undefined && !(Number.isInteger(opts.limit) && opts.limit >= 0)) {
    throw new Error(`loadOodSet: limit must be a non-negative integer, got ${opts.limit}.`);
  }
  switch (name) {
    case 'fashion-mnist': return fashionMnistOod(opts);
    case 'uniform-noise': return uniformNoiseImages(opts.limit ?? DEFAULT_OOD_COUNT, opts.seed ?? 0);
    default: throw new Error(`loadOodSet: unknown OOD set '${name}'; known: ${OOD_SETS.join(', ')}.`);
  }
}
