/** Every experiment, by name. One file per experiment in this folder. */
import type { Experiment } from './types';
import { lenetMnist } from './lenetMnist';
import { zooMnist } from './zooMnist';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const experiments: Experiment<any>[] = [lenetMnist, zooMnist];
