/**
 * One call picks and initializes the fastest TensorFlow.js backend that works on this machine:
 *   tfjs-node-gpu ("tensorflow", CUDA) > tfjs-node ("tensorflow") > wasm (+ our training kernels) > cpu.
 * QNNLAB_BACKEND=tensorflow|wasm|cpu forces one. tfjs-node(-gpu) are optional: they are never in
 * package.json (their install downloads libtensorflow); a user who can install them gets them used.
 * The wasm backend runs XNNPACK on every core (QNNLAB_WASM_THREADS or the threads option sets the count;
 * 1 is the stock one-thread build): see wasmThreads.ts.
 */
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './kernels';
import { registerTrainingGradients } from './gradients';
import { initThreadedWasm } from './wasmThreads';

export type BackendChoice = 'tensorflow' | 'wasm' | 'cpu';

export interface EngineInfo {
  backend: string;
  /** Which package provided it, e.g. '@tensorflow/tfjs-node-gpu'. */
  provider: string;
  tfjsVersion: string;
  /** Threads of the wasm backend's XNNPACK pool (1 for the one-thread build); null on other backends. */
  wasmThreads: number | null;
  /** Why faster choices were skipped (shown by verbose init). */
  notes: string[];
}

let current: EngineInfo | null = null;

/** Try to load a native tfjs-node package; true only when it really registered the 'tensorflow' backend. */
function tryNative(pkg: string, notes: string[]): boolean {
  try {
    // A scoped npm override may alias @tensorflow/tfjs-node to plain tfjs: check the real package name.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const name = require(`${pkg}/package.json`).name;
    if (name !== pkg) {
      notes.push(`${pkg}: not installed (an alias of ${name})`);
      return false;
    }
    require(pkg);
    if (tf.findBackend('tensorflow') == null) {
      notes.push(`${pkg}: loaded, but registered no 'tensorflow' backend in this tfjs-core (version mismatch?)`);
      return false;
    }
    return true;
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    notes.push(`${pkg}: ${msg.includes('Cannot find module') ? 'not installed' : msg}`);
    return false;
  }
}

/**
 * Select and initialize the backend. Idempotent: a second call returns the first result unless a different
 * backend is forced.
 */
export async function initEngine(
  opts: { backend?: string; verbose?: boolean; threads?: number } = {},
): Promise<EngineInfo> {
  const forced = (opts.backend ?? process.env.QNNLAB_BACKEND ?? '').trim().toLowerCase();
  if (forced && !['tensorflow', 'wasm', 'cpu'].includes(forced)) {
    throw new Error(`Unknown backend '${forced}' (from ${opts.backend ? 'the backend option' : 'QNNLAB_BACKEND'}); use tensorflow, wasm or cpu.`);
  }
  const threads = wasmThreadsWanted(opts.threads);
  if (current && opts.threads != null && current.wasmThreads != null && opts.threads !== current.wasmThreads) {
    throw new Error(`The wasm backend already runs ${current.wasmThreads} thread(s): the first initEngine call of a process fixes the count.`);
  }
  if (current && (!forced || forced === current.backend)) return current;

  registerTrainingGradients();
  const notes: string[] = [];
  let backend = '';
  let provider = '';
  let wasmThreads: number | null = null;

  if (!forced || forced === 'tensorflow') {
    if (tryNative('@tensorflow/tfjs-node-gpu', notes)) provider = '@tensorflow/tfjs-node-gpu';
    else if (tryNative('@tensorflow/tfjs-node', notes)) provider = '@tensorflow/tfjs-node';
    if (provider && (await tf.setBackend('tensorflow'))) backend = 'tensorflow';
    else if (forced === 'tensorflow') {
      throw new Error(`QNNLAB_BACKEND=tensorflow, but no native backend loads: ${notes.join('; ')}. ` +
        'Install @tensorflow/tfjs-node (needs access to Google storage at install time) or unset QNNLAB_BACKEND.');
    }
  }
  if (!backend && (!forced || forced === 'wasm')) {
    registerWasmTrainingKernels();
    if (threads > 1) {
      try {
        wasmThreads = await initThreadedWasm(threads);
        backend = 'wasm';
      } catch (e) {
        notes.push(`wasm with ${threads} threads: ${(e as Error).message}; using the one-thread build`);
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      }
    }
    try {
      if (!backend && (await tf.setBackend('wasm'))) {
        backend = 'wasm';
        wasmThreads = 1;
      }
    } catch (e) {
      notes.push(`wasm: ${(e as Error).message}`);
      if (forced === 'wasm') throw e;
    }
    if (backend) provider = '@tensorflow/tfjs-backend-wasm';
  }
  if (!backend) {
    await tf.setBackend('cpu');
    backend = 'cpu';
    provider = '@tensorflow/tfjs-backend-cpu';
    if (!forced) notes.push('falling back to the pure-JS cpu backend: training will be ~400x slower than wasm');
  }
  await tf.ready();
  tf.enableProdMode();
  current = { backend, provider, tfjsVersion: tf.version_core, wasmThreads, notes };
  if (opts.verbose) {
    const t = wasmThreads == null ? '' : `, ${wasmThreads} thread${wasmThreads > 1 ? 's' : ''}`;
    console.log(`[qnnlab] backend: ${backend} (${provider}, tfjs ${tf.version_core}${t})`);
    for (const n of notes) console.log(`[qnnlab]   ${n}`);
  }
  return current;
}

/** The wasm thread count asked for: the option, else QNNLAB_WASM_THREADS, else every core. */
function wasmThreadsWanted(option: number | undefined): number {
  const env = process.env.QNNLAB_WASM_THREADS;
  const raw = option ?? (env != null && env.trim() !== '' ? Number(env) : os.cpus().length);
  if (!Number.isInteger(raw) || raw < 1) {
    throw new Error(`Bad wasm thread count '${option ?? env}' (from ${option != null ? 'the threads option' : 'QNNLAB_WASM_THREADS'}): use an integer >= 1.`);
  }
  return raw;
}

/** The engine chosen by the last initEngine call, or null before it. */
export function engineInfo(): EngineInfo | null {
  return current;
}
