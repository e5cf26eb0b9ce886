/** The in-memory shape of a dataset, shared by every loader and by the batcher. */

/** A split by name; 'validation' exists only after holdOutValidation. */
export type SplitName = 'train' | 'validation' | 'test';

export type DatasetName = 'mnist' | 'fashion-mnist' | 'cifar10' | 'cifar100';

/** One split, stored as raw bytes so a 60k-image dataset costs 47 MB instead of 188 MB of floats. */
export interface ImageSplit {
  /** N*H*W*C bytes, NHWC order, pixel values 0..255. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface ImageDataset {
  name: DatasetName;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
  classNames: string[];
  train: ImageSplit;
  /** Examples held out of the training data for model selection (see holdOutValidation); absent = none. */
  validation?: ImageSplit;
  test: ImageSplit;
  /** Per channel, on the [0,1] scale: from the loaded train split, or the published constants when it is empty. */
  mean: number[];
  std: number[];
  /** Folder the files came from. */
  source: string;
}

export interface LoadOptions {
  /** Folder holding the files (or, for Fashion-MNIST and CIFAR, its parent such as `data/`). */
  dir?: string;
  /** Keep only the first N examples of the split, in file order (reads less from disk where it can). */
  limitTrain?: number;
  limitTest?: number;
  /** CIFAR-100 only: the 100 fine classes (default) or the 20 superclasses. */
  cifar100Labels?: 'fine' | 'coarse';
}
