/** Every experiment, by name. One file per experiment in this folder. */
import type { Experiment } from './types';
import { lenetMnist } from './lenetMnist';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const experiments: Experiment<any>[] = [lenetMnist];
