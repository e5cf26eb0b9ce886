/** Every experiment, by name. One file per experiment (or family) in this folder. */
import type { Experiment } from './types';
import { maryLenetMnist } from './maryLenetMnist';
import { maryLenetAblation } from './maryLenetAblation';
import { maryDensenetCifar10 } from './maryDensenetCifar10';
import { lenetMnist } from './lenetMnist';
import { zooMnist } from './zooMnist';
import { zooResnet23Cifar10, sqVgg9Cifar10, sqResnet56Cifar10 } from './cifarZoo';
import { maryRobustnessMnist } from './maryRobustnessMnist';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const experiments: Experiment<any>[] = [
  maryLenetMnist, maryLenetAblation, maryDensenetCifar10, lenetMnist, zooMnist, zooResnet23Cifar10, sqVgg9Cifar10, sqResnet56Cifar10, maryRobustnessMnist,
];
