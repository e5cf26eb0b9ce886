/**
 * Checkpoints: model weights (trainable and not: BN statistics, quantizer state), optimizer slots and the
 * loop's own state (epoch, history, random-generator state), written atomically after every epoch.
 *
 * Layout: <dir>/checkpoint/{state.json, tensors.bin}. A new checkpoint is written to a temporary folder and
 * renamed into place, so a crash mid-write leaves the previous checkpoint intact.
 * Tensors are matched by position (model.weights order, optimizer slot order), not by name: tfjs names
 * layers with process-global counters, so names differ between two models built in one process.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

interface TensorEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  offset: number; // in bytes
}

export interface CheckpointState {
  /** Epochs completed (the next epoch to run). */
  epoch: number;
  step: number;
  rngState: number;
  history: Record<string, number | string>[];
  /** Anything the caller wants restored (experiment config, stage, ...). */
  extra?: Record<string, unknown>;
}

interface Manifest extends CheckpointState {
  format: 'qnnlab-checkpoint-1';
  savedAt: string;
  modelTensors: TensorEntry[];
  optimizerTensors: TensorEntry[];
}

const CKPT = 'checkpoint';

function packTensors(named: { name: string; tensor: tf.Tensor }[], chunks: Buffer[], start: number) {
  const entries: TensorEntry[] = [];
  let offset = start;
  for (const { name, tensor } of named) {
    const dtype = tensor.dtype === 'int32' ? 'int32' : 'float32';
    const data = tensor.dataSync();
    const arr = dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data);
    const buf = Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength);
    chunks.push(buf);
    entries.push({ name, shape: tensor.shape.slice(), dtype, offset });
    offset += buf.byteLength;
  }
  return { entries, end: offset };
}

function unpack(buf: Buffer, e: TensorEntry): tf.Tensor {
  const count = e.shape.reduce((a, b) => a * b, 1);
  const bytes = buf.subarray(e.offset, e.offset + count * 4);
  if (bytes.byteLength !== count * 4) throw new Error(`checkpoint tensor '${e.name}' is truncated`);
  const copy = new Uint8Array(bytes); // aligned copy
  const arr = e.dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
  return tf.tensor(arr, e.shape, e.dtype);
}

export async function saveCheckpoint(
  dir: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  state: CheckpointState,
): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const chunks: Buffer[] = [];
  const modelNamed = model.weights.map((w) => ({ name: w.originalName, tensor: w.read() }));
  const m = packTensors(modelNamed, chunks, 0);
  const optNamed = await optimizer.getWeights();
  const o = packTensors(optNamed, chunks, m.end);
  // getWeights returns the optimizer's live slot variables (dispose only the fresh iteration scalar).
  tf.dispose(optNamed.map((n) => n.tensor).filter((t) => !(t instanceof tf.Variable)));
  const manifest: Manifest = {
    format: 'qnnlab-checkpoint-1',
    savedAt: new Date().toISOString(),
    ...state,
    modelTensors: m.entries,
    optimizerTensors: o.entries,
  };
  const tmp = path.join(dir, `${CKPT}.tmp-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  fs.writeFileSync(path.join(tmp, 'tensors.bin'), Buffer.concat(chunks));
  fs.writeFileSync(path.join(tmp, 'state.json'), JSON.stringify(manifest));
  const final = path.join(dir, CKPT);
  const old = path.join(dir, `${CKPT}.old`);
  fs.rmSync(old, { recursive: true, force: true });
  if (fs.existsSync(final)) fs.renameSync(final, old);
  fs.renameSync(tmp, final);
  fs.rmSync(old, { recursive: true, force: true });
}

export function hasCheckpoint(dir: string): boolean {
  return fs.existsSync(path.join(dir, CKPT, 'state.json'));
}

/** Restore weights and optimizer slots in place; returns the loop state. */
export async function loadCheckpoint(
  dir: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer | null,
): Promise<CheckpointState> {
  const folder = path.join(dir, CKPT);
  // A crash between the two renames leaves only checkpoint.old: use it.
  const src = fs.existsSync(path.join(folder, 'state.json')) ? folder : path.join(dir, `${CKPT}.old`);
  const statePath = path.join(src, 'state.json');
  if (!fs.existsSync(statePath)) throw new Error(`No checkpoint in ${dir} (expected ${path.join(folder, 'state.json')}).`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(statePath, 'utf8'));
  } catch (e) {
    throw new Error(`Checkpoint ${statePath} is corrupt (${(e as Error).message}); delete ${folder} to start over.`);
  }
  if (manifest.format !== 'qnnlab-checkpoint-1') throw new Error(`${statePath}: unknown checkpoint format '${manifest.format}'.`);
  const buf = fs.readFileSync(path.join(src, 'tensors.bin'));
  const weights = model.weights;
  if (manifest.modelTensors.length !== weights.length) {
    throw new Error(`Checkpoint in ${dir} has ${manifest.modelTensors.length} model tensors but the model has ` +
      `${weights.length}: it was written by a different model configuration. Delete it or use a new output folder.`);
  }
  manifest.modelTensors.forEach((e, i) => {
    const w = weights[i];
    if (e.shape.join('x') !== w.shape.join('x')) {
      throw new Error(`Checkpoint tensor ${i} ('${e.name}') has shape [${e.shape}] but the model's '${w.originalName}' is [${w.shape}]: different model configuration.`);
    }
    const t = unpack(buf, e);
    w.write(t);
    t.dispose();
  });
  if (optimizer && manifest.optimizerTensors.length > 0) {
    const named = manifest.optimizerTensors.map((e) => ({ name: e.name, tensor: unpack(buf, e) }));
    await optimizer.setWeights(named);
    tf.dispose(named.map((n) => n.tensor));
  }
  return { epoch: manifest.epoch, step: manifest.step, rngState: manifest.rngState, history: manifest.history, extra: manifest.extra };
}
