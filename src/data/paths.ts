/** Where datasets are looked for. */
import * as path from 'path';

/**
 * The project's data/ folder, found from this file rather than the working directory, so notebooks and
 * scripts started from any folder see the same data. QNNLAB_DATA overrides it (e.g. a shared disk).
 */
export function dataRoot(): string {
  const env = process.env.QNNLAB_DATA;
  return env && env.trim() ? path.resolve(env) : path.resolve(__dirname, '..', '..', 'data');
}

/** Candidate folders for a dataset: a given dir and its `sub` child, else the defaults. */
export function candidateDirs(dir: string | undefined, sub: string, defaults: string[]): string[] {
  if (dir) return [path.resolve(dir), path.resolve(dir, sub)];
  return defaults;
}
