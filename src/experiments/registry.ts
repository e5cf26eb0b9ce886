/** Every experiment, by name. One file per experiment in this folder. */
import type { Experiment } from './types';
import { lenetMnist } from './lenetMnist';
import { zooMnist } from './zooMnist';
import { maryLenetMnist } from './maryLenetMnist';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const experiments: Experiment<any>[] = [maryLenetMnist, lenetMnist, zooMnist];
