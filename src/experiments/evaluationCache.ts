/**
 * Saved predictor evaluations of the robustness protocol. Running one Monte-Carlo predictor through the 40 test sets
 * takes tens of minutes on two cores, so each finished evaluation is written to its own file and a rerun (or a
 * process evaluating other networks in parallel) reuses it. A saved evaluation is used only when its key matches:
 * the digest of the evaluated weights, the predictor and the evaluation settings (sets, sizes, bins, seeds).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { canonical } from '../util/canonical';
import type { PredictorEvaluation } from './robustnessProtocol';

/** Bumped when the saved form or the meaning of an evaluation changes: older files are then evaluated again. */
export const EVALUATION_FORMAT = 1;

/**
 * SHA-256 of every weight of the models (trainable or not, in layer order: shape, dtype, bytes). Names are left
 * out: tfjs numbers its layers per process, so the same network has other names in another process.
 */
export function weightsDigest(models: tf.LayersModel[]): string {
  const h = createHash('sha256');
  for (const m of models) {
    h.update('model;');
    for (const w of m.weights) {
      const v = w.read();
      h.update(`${v.shape.join('x')}|${v.dtype};`);
      const data = v.dataSync();
      h.update(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    }
  }
  return h.digest('hex');
}

/** The key of one evaluation: a digest of everything that determines its numbers. */
export function evaluationKey(parts: Record<string, unknown>): string {
  return createHash('sha256').update(canonical({ format: EVALUATION_FORMAT, ...parts })).digest('hex');
}

interface SavedEvaluation {
  format: number;
  key: string;
  predictor: string;
  savedAt: string;
  evaluation: Omit<PredictorEvaluation, 'entropy'> & { entropy: Record<string, number[]> };
}

/** The file of one predictor's saved evaluation. */
export function evaluationFile(dir: string, predictor: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(predictor)) throw new Error(`predictor name '${predictor}' cannot name a file`);
  return path.join(dir, `${predictor}.json`);
}

/**
 * The saved evaluation of `predictor` when its key equals `key`; null when there is none, or it was made with other
 * weights or settings (`why` says which), or the file cannot be read.
 */
export function loadEvaluation(dir: string, predictor: string, key: string): { evaluation: PredictorEvaluation | null; why: string | null } {
  const file = evaluationFile(dir, predictor);
  if (!fs.existsSync(file)) return { evaluation: null, why: null };
  let saved: SavedEvaluation;
  try {
    saved = JSON.parse(fs.readFileSync(file, 'utf8')) as SavedEvaluation;
  } catch (e) {
    return { evaluation: null, why: `${file} is unreadable (${(e as Error).message})` };
  }
  if (saved.format !== EVALUATION_FORMAT) return { evaluation: null, why: `${file} has format ${saved.format}, not ${EVALUATION_FORMAT}` };
  if (saved.key !== key) return { evaluation: null, why: `${file} was made with other weights or evaluation settings` };
  const entropy = Object.fromEntries(Object.entries(saved.evaluation.entropy).map(([k, v]) => [k, Float64Array.from(v)]));
  return { evaluation: { ...saved.evaluation, entropy }, why: null };
}

/** Write one evaluation (via a temporary file and a rename, so a kill never leaves half a file). */
export function saveEvaluation(dir: string, predictor: string, key: string, ev: PredictorEvaluation): void {
  fs.mkdirSync(dir, { recursive: true });
  const file = evaluationFile(dir, predictor);
  const body: SavedEvaluation = {
    format: EVALUATION_FORMAT, key, predictor, savedAt: new Date().toISOString(),
    evaluation: { ...ev, entropy: Object.fromEntries(Object.entries(ev.entropy).map(([k, v]) => [k, Array.from(v)])) },
  };
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(body));
  fs.renameSync(tmp, file);
}
