/** One entry point for every dataset, by name. */
import { loadCifar } from './cifar';
import { loadFashionMnist, loadMnist } from './mnist';
import type { DatasetName, ImageDataset, LoadOptions } from './types';

export const DATASET_NAMES: DatasetName[] = ['mnist', 'fashion-mnist', 'cifar10', 'cifar100'];

/** Accept the common spellings (CIFAR-10, fashion_mnist, FashionMNIST) so CLI flags and notebooks agree. */
export function parseDatasetName(name: string): DatasetName {
  const key = String(name).toLowerCase().replace(/[-_\s]/g, '');
  const map: Record<string, DatasetName> = {
    mnist: 'mnist', fashionmnist: 'fashion-mnist', fmnist: 'fashion-mnist', cifar10: 'cifar10', cifar100: 'cifar100',
  };
  const hit = map[key];
  if (!hit) throw new Error(`Unknown dataset '${name}'; known: ${DATASET_NAMES.join(', ')}.`);
  return hit;
}

function checkLimit(what: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new Error(`${what} must be a non-negative integer, got ${v}`);
}

/**
 * Load a dataset into memory as uint8 NHWC. Async so callers are ready for a future streaming source;
 * today the reads are synchronous (a few hundred ms for MNIST, about a second for CIFAR).
 */
export async function loadDataset(name: string, opts: LoadOptions = {}): Promise<ImageDataset> {
  checkLimit('limitTrain', opts.limitTrain);
  checkLimit('limitTest', opts.limitTest);
  const ds = parseDatasetName(name);
  switch (ds) {
    case 'mnist': return loadMnist(opts);
    case 'fashion-mnist': return loadFashionMnist(opts);
    case 'cifar10': return loadCifar('cifar10', opts);
    case 'cifar100': return loadCifar('cifar100', opts);
  }
}
