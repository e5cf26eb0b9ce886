/**
 * One call picks and initializes the fastest TensorFlow.js backend that works on this machine:
 *   tfjs-node-gpu ("tensorflow", CUDA) > tfjs-node ("tensorflow") > wasm (+ our training kernels) > cpu.
 * QNNLAB_BACKEND=tensorflow|wasm|cpu forces one. tfjs-node(-gpu) are optional: they are never in
 * package.json (their install downloads libtensorflow); a user who can install them gets them used.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './kernels';
import { registerTrainingGradients } from './gradients';

export type BackendChoice = 'tensorflow' | 'wasm' | 'cpu';

export interface EngineInfo {
  backend: string;
  /** Which package provided it, e.g. '@tensorflow/tfjs-node-gpu'. */
  provider: string;
  tfjsVersion: string;
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
export async function initEngine(opts: { backend?: string; verbose?: boolean } = {}): Promise<EngineInfo> {
  const forced = (opts.backend ?? process.env.QNNLAB_BACKEND ?? '').trim().toLowerCase();
  if (forced && !['tensorflow', 'wasm', 'cpu'].includes(forced)) {
    throw new Error(`Unknown backend '${forced}' (from ${opts.backend ? 'the backend option' : 'QNNLAB_BACKEND'}); use tensorflow, wasm or cpu.`);
  }
  if (current && (!forced || forced === current.backend)) return current;

  registerTrainingGradients();
  const notes: string[] = [];
  let backend = '';
  let provider = '';

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
    try {
      if (await tf.setBackend('wasm')) {
        backend = 'wasm';
        provider = '@tensorflow/tfjs-backend-wasm';
      }
    } catch (e) {
      notes.push(`wasm: ${(e as Error).message}`);
      if (forced === 'wasm') throw e;
    }
  }
  if (!backend) {
    await tf.setBackend('cpu');
    backend = 'cpu';
    provider = '@tensorflow/tfjs-backend-cpu';
    if (!forced) notes.push('falling back to the pure-JS cpu backend: training will be ~400x slower than wasm');
  }
  await tf.ready();
  tf.enableProdMode();
  current = { backend, provider, tfjsVersion: tf.version_core, notes };
  if (opts.verbose) {
    console.log(`[qnnlab] backend: ${backend} (${provider}, tfjs ${tf.version_core})`);
    for (const n of notes) console.log(`[qnnlab]   ${n}`);
  }
  return current;
}

/** The engine chosen by the last initEngine call, or null before it. */
export function engineInfo(): EngineInfo | null {
  return current;
}
