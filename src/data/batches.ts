/**
 * Mini-batches as tensors, built one at a time from the uint8 store: only one batch of floats exists at a
 * time, never a float copy of the whole dataset. Shuffling and augmentation draw from a seeded Rng, so a
 * seed fixes an epoch exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/random';
import { drawTransform, writeExample, type AugmentOptions } from './augment';
import { normalizationTable, type NormalizeMode } from './normalize';
import type { ImageDataset, SplitName } from './types';

export interface BatchOptions {
  batchSize: number;
  /** Visit the examples in a seeded random order (default false: file order). */
  shuffle?: boolean;
  /**
   * Seeds the order and the augmentation (default 0). One call of `batches` is one epoch: pass a different
   * seed per epoch (e.g. runSeed * 1000 + epoch), or every epoch repeats the same order.
   */
  seed?: number;
  augment?: AugmentOptions;
  /** unit = x/255 (default), meanstd = (x/255 - mean) / std with the dataset's per-channel stats, none = raw 0..255. */
  normalize?: NormalizeMode;
  /** Drop the last batch when it is smaller than batchSize (default false: keep it). */
  dropRemainder?: boolean;
  /** Use only the first `limit` examples of the split (before shuffling). */
  limit?: number;
}

export interface Batch {
  /** float32 [size, H, W, C]. */
  x: tf.Tensor4D;
  /** One-hot float32 [size, numClasses]. */
  y: tf.Tensor2D;
  /** The integer labels of this batch (a copy). */
  labels: Uint8Array;
  size: number;
}

/** Number of examples an epoch uses. */
function epochSize(ds: ImageDataset, split: SplitName, opts: BatchOptions): number {
  const s = ds[split];
  if (!s) {
    if (split === 'validation') throw new Error(`${ds.name} has no validation split (hold one out with holdOutValidation)`);
    throw new Error(`split must be 'train', 'validation' or 'test', got '${String(split)}'`);
  }
  if (!(Number.isInteger(opts.batchSize) && opts.batchSize > 0)) {
    throw new Error(`batchSize must be a positive integer, got ${opts.batchSize}`);
  }
  if (opts.limit !== undefined && !(Number.isInteger(opts.limit) && opts.limit >= 0)) {
    throw new Error(`limit must be a non-negative integer, got ${opts.limit}`);
  }
  return Math.min(s.count, opts.limit ?? Infinity);
}

/** Batches one epoch yields with these options. */
export function numBatches(ds: ImageDataset, split: SplitName, opts: BatchOptions): number {
  const n = epochSize(ds, split, opts);
  return opts.dropRemainder ? Math.floor(n / opts.batchSize) : Math.ceil(n / opts.batchSize);
}

/** Fill x and one-hot y for the examples order[start .. start+size). */
function fillBatch(
  ds: ImageDataset, split: SplitName, order: Uint32Array, start: number, size: number,
  table: Float32Array, rng: Rng, opts: BatchOptions,
): { x: Float32Array; y: Float32Array; labels: Uint8Array } {
  const { height: h, width: w, channels: c, numClasses } = ds;
  const per = h * w * c;
  const s = ds[split]!;
  const x = new Float32Array(size * per);
  const y = new Float32Array(size * numClasses);
  const labels = new Uint8Array(size);
  for (let b = 0; b < size; b++) {
    const i = order[start + b];
    writeExample(s.images, i * per, x, b * per, h, w, c, table, drawTransform(rng, opts.augment));
    labels[b] = s.labels[i];
    // Loaders check labels; hand-built datasets may not, and a bad one would silently land in the next row.
    if (labels[b] >= numClasses) throw new Error(`${split} example ${i}: label ${labels[b]} >= numClasses ${numClasses}`);
    y[b * numClasses + labels[b]] = 1;
  }
  return { x, y, labels };
}

/**
 * One epoch of batches over `split`. The caller owns and must dispose each batch's x and y.
 * Options are checked now; batches are built lazily, when the consumer asks for each one.
 */
export function batches(ds: ImageDataset, split: SplitName, opts: BatchOptions): Generator<Batch> {
  const n = epochSize(ds, split, opts);
  const table = normalizationTable(opts.normalize ?? 'unit', ds.mean, ds.std, ds.channels);
  drawTransform(new Rng(0), opts.augment); // validates the augment options before the first batch
  return epoch(ds, split, opts, n, table);
}

function* epoch(ds: ImageDataset, split: SplitName, opts: BatchOptions, n: number, table: Float32Array): Generator<Batch> {
  const count = numBatches(ds, split, opts);
  const rng = new Rng(opts.seed ?? 0);
  let order: Uint32Array;
  if (opts.shuffle) order = rng.permutation(n);
  else {
    order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
  }
  for (let k = 0; k < count; k++) {
    const start = k * opts.batchSize;
    const size = Math.min(opts.batchSize, n - start);
    const { x, y, labels } = fillBatch(ds, split, order, start, size, table, rng, opts);
    yield {
      x: tf.tensor4d(x, [size, ds.height, ds.width, ds.channels], 'float32'),
      y: tf.tensor2d(y, [size, ds.numClasses], 'float32'),
      labels,
      size,
    };
  }
}
