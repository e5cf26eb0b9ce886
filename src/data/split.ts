/**
 * The validation split: the last `count` examples of the training split, held out in file order (MNIST: training
 * images 55,000-59,999). Fixed rather than random, so every experiment, seed and session validates on the same
 * images, and the test split is kept for the final configuration only.
 */
import type { ImageDataset } from './types';

/** Default number of held-out training examples for MNIST-sized experiments. */
export const DEFAULT_VALIDATION_COUNT = 5000;

/**
 * A view of `ds` whose train split lacks its last `count` examples, which become `ds.validation`. No pixels are
 * copied. `count = 0` returns `ds` unchanged (no validation split).
 */
export function holdOutValidation(ds: ImageDataset, count: number): ImageDataset {
  if (!(Number.isInteger(count) && count >= 0)) throw new Error(`validation must be a non-negative integer, got ${count}`);
  if (count === 0) return ds;
  if (ds.validation) throw new Error(`${ds.name} already has a validation split`);
  const n = ds.train.count;
  if (count >= n) throw new Error(`validation ${count} leaves no training examples (the train split has ${n})`);
  const per = ds.height * ds.width * ds.channels;
  const keep = n - count;
  return {
    ...ds,
    train: { images: ds.train.images.subarray(0, keep * per), labels: ds.train.labels.subarray(0, keep), count: keep },
    validation: { images: ds.train.images.subarray(keep * per, n * per), labels: ds.train.labels.subarray(keep, n), count },
  };
}
