/**
 * Checkpoints: model weights (trainable and not: BN statistics, quantizer state), optimizer slots and scalars,
 * per-layer state outside the weights (noise generators) and the loop's own state (epoch, step, history,
 * random-generator state), written after every epoch. docs/checkpoints.md describes the format and what a
 * resumed run guarantees.
 *
 * Layout: <dir>/checkpoint/{state.json, tensors.bin} is the newest checkpoint, <dir>/checkpoint.prev/ the one
 * before it. A new checkpoint is written to <dir>/checkpoint.tmp-<pid>/, every file and the folder fsynced, then
 * renamed into place (checkpoint -> checkpoint.prev, tmp -> checkpoint), so a crash or SIGKILL at any moment
 * leaves at least one complete checkpoint. state.json records the SHA-256 of tensors.bin and of its own content;
 * loading verifies both and falls back to checkpoint.prev (with a message naming the bad file) when they do not
 * match.
 *
 * Tensors are matched by position (model.weights order, optimizer slot order), not by name: tfjs names
 * layers with process-global counters, so names differ between two models built in one process.
 *
 * Backward compatible: checkpoints of format 1 (no checksums, no optimizer scalars, no layer state) load; the
 * missing state is reconstructed from the step count (see loadCheckpoint).
 */
import * as crypto from 'node:crypto';
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
  /**
   * Set when the checkpoint was written inside epoch `epoch` (0-based; `epoch` epochs are complete): the batches of
   * that epoch done and the running sums of its history row.
   */
  partialEpoch?: { batches: number; lossSum: number; correctSum: number; seen: number; seconds: number };
}

/**
 * A layer with state outside its weights that a resumed run needs (e.g. the seed stream of its noise), saved as
 * JSON in the checkpoint. `reconstructCheckpointState` is called instead of `restoreCheckpointState` for
 * checkpoints written before the state was saved, with the number of optimizer steps taken.
 */
export interface CheckpointStatefulLayer {
  checkpointState(): unknown;
  restoreCheckpointState(state: unknown): void;
  reconstructCheckpointState?(steps: number): void;
}

export function isCheckpointStateful(layer: unknown): layer is CheckpointStatefulLayer {
  const l = layer as Partial<CheckpointStatefulLayer> | null;
  return l != null && typeof l.checkpointState === 'function' && typeof l.restoreCheckpointState === 'function';
}

interface LayerStateEntry {
  /** Position in model.layers. */
  index: number;
  className: string;
  state: unknown;
}

const FORMAT_1 = 'qnnlab-checkpoint-1';
const FORMAT_2 = 'qnnlab-checkpoint-2';

interface Manifest extends CheckpointState {
  format: typeof FORMAT_1 | typeof FORMAT_2;
  savedAt: string;
  modelTensors: TensorEntry[];
  optimizerTensors: TensorEntry[];
  /** Format 2: optimizer scalars that getWeights/setWeights lose (Adam's accumulated beta powers, float32 values). */
  optimizerScalars?: Record<string, number>;
  /** Format 2. */
  layerStates?: LayerStateEntry[];
  /** Format 2: byte length and SHA-256 (hex) of tensors.bin. */
  tensorsBytes?: number;
  tensorsSha256?: string;
  /** Format 2: SHA-256 of JSON.stringify of this manifest without this field (written last). */
  stateSha256?: string;
}

const CKPT = 'checkpoint';
const PREV = `${CKPT}.prev`;
/** Left by format-1 writers when they died between their two renames. */
const OLD = `${CKPT}.old`;
const CORRUPT = `${CKPT}.corrupt`;
const TENSORS = 'tensors.bin';
const STATE = 'state.json';

export class CorruptCheckpointError extends Error {}

const sha256 = (data: Buffer | string): string => crypto.createHash('sha256').update(data).digest('hex');

/** Test hook: QNNLAB_TEST_PAUSE_IN_CHECKPOINT_WRITE=<ms> makes the writer sleep between its writes and renames. */
function testPause(): void {
  const ms = Number(process.env.QNNLAB_TEST_PAUSE_IN_CHECKPOINT_WRITE ?? 0);
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Write and fsync a file; under the test hook the write stops halfway for a pause. */
function writeDurable(file: string, data: Buffer): void {
  const fd = fs.openSync(file, 'w');
  try {
    const parts = process.env.QNNLAB_TEST_PAUSE_IN_CHECKPOINT_WRITE && data.byteLength > 1
      ? [data.subarray(0, data.byteLength >> 1), data.subarray(data.byteLength >> 1)] : [data];
    parts.forEach((part, i) => {
      if (i > 0) testPause();
      let done = 0;
      while (done < part.byteLength) done += fs.writeSync(fd, part, done, part.byteLength - done);
    });
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (e) {
    // Some file systems refuse fsync on a directory (EINVAL/EISDIR/EPERM); the renames are still atomic there.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'EBADF') throw e;
  } finally {
    if (fd != null) fs.closeSync(fd);
  }
}

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

const countOf = (e: TensorEntry) => e.shape.reduce((a, b) => a * b, 1);

function unpack(buf: Buffer, e: TensorEntry): tf.Tensor {
  const count = countOf(e);
  const bytes = buf.subarray(e.offset, e.offset + count * 4);
  if (bytes.byteLength !== count * 4) throw new Error(`checkpoint tensor '${e.name}' is truncated`);
  const copy = new Uint8Array(bytes); // aligned copy
  const arr = e.dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
  return tf.tensor(arr, e.shape, e.dtype);
}

/** The optimizer's scalar variables that getWeights leaves out (tfjs Adam/Adamax: accBeta1, accBeta2). */
const OPTIMIZER_SCALARS = ['accBeta1', 'accBeta2'] as const;

function optimizerScalarVars(optimizer: tf.Optimizer): Record<string, tf.Variable> {
  const o = optimizer as unknown as Record<string, unknown>;
  const out: Record<string, tf.Variable> = {};
  for (const k of OPTIMIZER_SCALARS) if (o[k] instanceof tf.Variable) out[k] = o[k] as tf.Variable;
  return out;
}

/**
 * tfjs Adam keeps β^t as a float32 variable multiplied by β after every step, and its setWeights resets it to
 * pow(β, t + 1), which differs from the product in the last bits for most t: a resumed run then drifts from an
 * uninterrupted one. This replays the product exactly (a float32 product is the double product rounded once, since
 * 24 + 24 bits fit a double's 53), for checkpoints written before the values were saved.
 */
export function adamAccumulatedBetaPower(beta: number, iterations: number): number {
  const b = Math.fround(beta);
  let acc = b;
  for (let i = 0; i < iterations; i++) acc = Math.fround(acc * b);
  return acc;
}

function layerStates(model: tf.LayersModel): LayerStateEntry[] {
  const out: LayerStateEntry[] = [];
  model.layers.forEach((l, index) => {
    if (isCheckpointStateful(l)) out.push({ index, className: l.getClassName(), state: l.checkpointState() });
  });
  return out;
}

/** Remove temporary folders of writers that are gone (a SIGKILL mid-write leaves one). */
function removeStaleTemps(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    const m = /^checkpoint\.tmp-(\d+)$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = pid !== process.pid;
    if (alive) {
      try {
        process.kill(pid, 0);
      } catch (e) {
        alive = (e as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (!alive) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
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
  const optimizerScalars = Object.fromEntries(Object.entries(optimizerScalarVars(optimizer)).map(([k, v]) => [k, v.dataSync()[0]]));
  const tensors = Buffer.concat(chunks);
  const body: Manifest = {
    format: FORMAT_2,
    savedAt: new Date().toISOString(),
    ...state,
    modelTensors: m.entries,
    optimizerTensors: o.entries,
    optimizerScalars,
    layerStates: layerStates(model),
    tensorsBytes: tensors.byteLength,
    tensorsSha256: sha256(tensors),
  };
  const bodyText = JSON.stringify(body);
  const manifestText = JSON.stringify({ ...body, stateSha256: sha256(bodyText) });

  removeStaleTemps(dir);
  const tmp = path.join(dir, `${CKPT}.tmp-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  writeDurable(path.join(tmp, TENSORS), tensors);
  testPause();
  writeDurable(path.join(tmp, STATE), Buffer.from(manifestText));
  fsyncDir(tmp);
  testPause();

  const final = path.join(dir, CKPT);
  const prev = path.join(dir, PREV);
  if (fs.existsSync(final)) {
    // Keep the current checkpoint as the previous one, unless it is damaged: then keep the older one.
    let damage: string | null = null;
    try {
      readVerified(final);
    } catch (e) {
      if (!(e instanceof CorruptCheckpointError)) throw e;
      damage = e.message;
    }
    if (damage == null) {
      fs.rmSync(prev, { recursive: true, force: true });
      fs.renameSync(final, prev);
    } else {
      console.warn(`warning: ${damage}; moved it to ${path.join(dir, CORRUPT)} and kept ${prev} as the previous checkpoint.`);
      fs.rmSync(path.join(dir, CORRUPT), { recursive: true, force: true });
      fs.renameSync(final, path.join(dir, CORRUPT));
    }
    fsyncDir(dir);
    testPause();
  } else if (fs.existsSync(path.join(dir, OLD)) && !fs.existsSync(prev)) {
    // A format-1 writer died between its renames and left only checkpoint.old: it becomes the previous checkpoint.
    fs.renameSync(path.join(dir, OLD), prev);
  }
  fs.renameSync(tmp, final);
  fsyncDir(dir);
  fs.rmSync(path.join(dir, OLD), { recursive: true, force: true });
}

/** The checkpoint folders in the order loadCheckpoint tries them. */
function candidates(dir: string): string[] {
  return [CKPT, PREV, OLD].map((n) => path.join(dir, n)).filter((f) => fs.existsSync(f));
}

export function hasCheckpoint(dir: string): boolean {
  return candidates(dir).some((f) => fs.existsSync(path.join(f, STATE)));
}

/** Whether process `pid` exists (EPERM: it exists but belongs to another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One training process per checkpoint folder: `<dir>/lock` holds the owner's pid, created exclusively. Two
 * processes writing one folder would interleave their checkpoints. A lock whose process is gone (a crash, a kill)
 * is taken over. Returns the release function (fit calls it when it ends, also on errors).
 */
export function lockCheckpointDir(dir: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'lock');
  const mine = String(process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, mine, { flag: 'wx' });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8') === mine) fs.unlinkSync(file);
        } catch {
          // already gone: nothing to release
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner = NaN;
    try {
      owner = Number(fs.readFileSync(file, 'utf8').trim());
    } catch {
      continue; // released meanwhile: try again
    }
    if (Number.isInteger(owner) && owner > 0 && processAlive(owner)) {
      throw new Error(`${dir} is in use: process ${owner} is training into it (${file}). Let it finish, or give this run ` +
        `another --out; if no such run exists, delete ${file}.`);
    }
    fs.rmSync(file, { force: true }); // stale: its process is gone
  }
  throw new Error(`Could not lock ${dir} (${file} keeps coming back).`);
}

/** The folder was renamed while it was read (a writer rotated it): read again. */
class ChangedWhileReading extends Error {}

/**
 * Read a checkpoint folder and check it is complete and intact; CorruptCheckpointError names the bad file.
 * A reader running beside a writer (e.g. an export of a run that is still training) must not mix the files of two
 * checkpoints: the folder's inode is compared before and after reading (a rotation renames it).
 */
function readVerified(folder: string): { manifest: Manifest; buf: Buffer } {
  let ino: number;
  try {
    ino = fs.statSync(folder).ino;
  } catch {
    throw new ChangedWhileReading(`${folder} was renamed while it was read (a writer is rotating checkpoints); try again`);
  }
  let read: { manifest: Manifest; buf: Buffer };
  try {
    read = readFolder(folder);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !fs.existsSync(folder)) throw new ChangedWhileReading(`${folder} was renamed while it was read (a writer is rotating checkpoints); try again`);
    throw e;
  }
  let now = -1;
  try {
    now = fs.statSync(folder).ino;
  } catch {
    // gone: renamed away
  }
  if (now !== ino) throw new ChangedWhileReading(`${folder} was renamed while it was read (a writer is rotating checkpoints); try again`);
  return read;
}

function readFolder(folder: string): { manifest: Manifest; buf: Buffer } {
  const statePath = path.join(folder, STATE);
  const tensorsPath = path.join(folder, TENSORS);
  if (!fs.existsSync(statePath)) throw new CorruptCheckpointError(`Checkpoint file ${statePath} is missing`);
  const text = fs.readFileSync(statePath, 'utf8');
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new CorruptCheckpointError(`Checkpoint file ${statePath} is corrupt (${(e as Error).message})`);
  }
  if (manifest == null || typeof manifest !== 'object') throw new CorruptCheckpointError(`Checkpoint file ${statePath} is corrupt (not an object)`);
  if (manifest.format !== FORMAT_1 && manifest.format !== FORMAT_2) {
    throw new Error(`${statePath}: unknown checkpoint format '${String(manifest.format)}' (written by a newer qnnlab?).`);
  }
  if (manifest.format === FORMAT_1 && (manifest.stateSha256 != null || manifest.tensorsSha256 != null)) {
    // Format-1 writers never wrote checksums: a format-1 tag beside them is a damaged format-2 file.
    throw new CorruptCheckpointError(`Checkpoint file ${statePath} is corrupt (format 1 with format-2 checksums)`);
  }
  if (manifest.format === FORMAT_2) {
    const { stateSha256, ...body } = manifest;
    if (stateSha256 !== sha256(JSON.stringify(body))) {
      throw new CorruptCheckpointError(`Checkpoint file ${statePath} is corrupt (its SHA-256 does not match the one it records)`);
    }
  }
  if (!fs.existsSync(tensorsPath)) throw new CorruptCheckpointError(`Checkpoint file ${tensorsPath} is missing`);
  const buf = fs.readFileSync(tensorsPath);
  const entries = [...(manifest.modelTensors ?? []), ...(manifest.optimizerTensors ?? [])];
  const needed = entries.reduce((s, e) => Math.max(s, e.offset + countOf(e) * 4), 0);
  if (manifest.format === FORMAT_2) {
    if (buf.byteLength !== manifest.tensorsBytes) {
      throw new CorruptCheckpointError(`Checkpoint file ${tensorsPath} is truncated or padded (${buf.byteLength} bytes, ${statePath} records ${manifest.tensorsBytes})`);
    }
    if (sha256(buf) !== manifest.tensorsSha256) {
      throw new CorruptCheckpointError(`Checkpoint file ${tensorsPath} is corrupt (SHA-256 mismatch with ${statePath})`);
    }
  } else if (buf.byteLength < needed) {
    throw new CorruptCheckpointError(`Checkpoint file ${tensorsPath} is truncated (${buf.byteLength} bytes, its tensors need ${needed})`);
  }
  return { manifest, buf };
}

export interface LoadedCheckpoint extends CheckpointState {
  /** The folder the checkpoint was read from (checkpoint/, or checkpoint.prev/ after a fallback). */
  source: string;
  /** Format 1: optimizer scalars and layer state were reconstructed from the step count, not read. */
  legacy: boolean;
}

/**
 * Restore weights, optimizer slots and scalars and layer state in place; returns the loop state. Tries
 * checkpoint/, then checkpoint.prev/ (and a format-1 writer's checkpoint.old/) when the newer one is damaged,
 * warning through `warn` with the name of the damaged file; throws when none is usable.
 */
export async function loadCheckpoint(
  dir: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer | null,
  warn: (message: string) => void = (m) => console.warn(`warning: ${m}`),
): Promise<LoadedCheckpoint> {
  let problems: string[] = [];
  let read: { manifest: Manifest; buf: Buffer; folder: string } | null = null;
  scan: for (let attempt = 0; ; attempt++) {
    const folders = candidates(dir);
    if (folders.length === 0) throw new Error(`No checkpoint in ${dir} (expected ${path.join(dir, CKPT, STATE)}).`);
    problems = [];
    for (const folder of folders) {
      try {
        read = { ...readVerified(folder), folder };
        break scan;
      } catch (e) {
        if (e instanceof ChangedWhileReading && attempt < 10) continue scan; // a writer is rotating: look again
        if (!(e instanceof CorruptCheckpointError)) throw e;
        problems.push(e.message);
      }
    }
    break;
  }
  if (!read) {
    throw new Error(`No usable checkpoint in ${dir}: ${problems.join('; ')}. Delete ${dir} (or run with --fresh) to start over.`);
  }
  if (problems.length > 0) {
    warn(`${problems.join('; ')}. Resuming from ${read.folder} (epoch ${read.manifest.epoch}) instead.`);
  }
  const { manifest, buf } = read;
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
  });
  const states = manifest.layerStates ?? [];
  for (const s of states) {
    const l = model.layers[s.index];
    if (!l || l.getClassName() !== s.className || !isCheckpointStateful(l)) {
      throw new Error(`Checkpoint in ${dir} has state for layer ${s.index} (${s.className}) but the model's layer ${s.index} is ` +
        `${l ? l.getClassName() : 'missing'}: different model configuration.`);
    }
  }
  manifest.modelTensors.forEach((e, i) => {
    const t = unpack(buf, e);
    weights[i].write(t);
    t.dispose();
  });
  if (optimizer && manifest.optimizerTensors.length > 0) {
    const named = manifest.optimizerTensors.map((e) => ({ name: e.name, tensor: unpack(buf, e) }));
    await optimizer.setWeights(named);
    tf.dispose(named.map((n) => n.tensor));
  }
  const legacy = manifest.format === FORMAT_1;
  if (optimizer) {
    const vars = optimizerScalarVars(optimizer);
    const iterations = optimizer.iterations;
    for (const [k, v] of Object.entries(vars)) {
      let value = manifest.optimizerScalars?.[k];
      if (value == null) {
        // Format 1: replay the product (β1 for accBeta1, β2 for accBeta2).
        const beta = (optimizer as unknown as Record<string, number>)[k === 'accBeta1' ? 'beta1' : 'beta2'];
        value = adamAccumulatedBetaPower(beta, iterations);
      }
      const t = tf.scalar(value);
      v.assign(t);
      t.dispose();
    }
  }
  // Layers whose state the checkpoint does not hold (format 1) reconstruct it from the step count.
  const saved = new Map(states.map((s) => [s.index, s.state]));
  model.layers.forEach((l, i) => {
    if (!isCheckpointStateful(l)) return;
    if (saved.has(i)) l.restoreCheckpointState(saved.get(i));
    else l.reconstructCheckpointState?.(manifest.step);
  });
  return {
    epoch: manifest.epoch, step: manifest.step, rngState: manifest.rngState, history: manifest.history, extra: manifest.extra,
    ...(manifest.partialEpoch ? { partialEpoch: manifest.partialEpoch } : {}),
    source: read.folder, legacy,
  };
}
