/**
 * The threaded SIMD build of the tfjs wasm backend, in Node.
 *
 * tfjs-backend-wasm 4.22 ships `tfjs-backend-wasm-threaded-simd.wasm` but never loads it in Node:
 *  1. its WASM_HAS_MULTITHREAD_SUPPORT flag is hard-wired to false when IS_NODE;
 *  2. emscripten's pthread workers and the "main script" they import are handed over as Blobs and
 *     `blob:` URLs, which Node's worker_threads rejects (ERR_WORKER_PATH);
 *  3. the main script is the factory's `toString()`, which refers to the bundle's module-level shims
 *     (`require$$0` = fs, ... , `commonjsGlobal`) that do not exist inside a worker;
 *  4. the C++ side caps the thread count at half the logical cores (it assumes SMT), so a 2-vCPU VM
 *     gets one thread.
 * Here, only while the backend initializes: the flag is set (1); `Blob` and `URL.createObjectURL` are
 * replaced by versions that write the scripts to real files (2), the main script gets the shims
 * prepended (3), and the worker script learns to import a file path from our Blob stand-in (2);
 * `os.cpus()` reports twice the cores (4). Everything is restored afterwards, also on failure.
 * This leans on the bundle's internals, so the tfjs version is pinned in package.json, and every patch
 * checks that the text it rewrites is there: on a mismatch it throws, and initEngine falls back to the
 * one-thread build with a note.
 */
import * as fs from 'fs';
import * as path from 'path';
import { createHash } from 'crypto';
import * as tf from '@tensorflow/tfjs';
import * as wasmBackend from '@tensorflow/tfjs-backend-wasm';

// The os module object itself (the backend's bundle holds it): a namespace import is a read-only copy.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const os: typeof import('os') = require('os');

/** The worker's handling of a string `urlOrBlob`, extended to our Blob stand-in (a plain object after postMessage). */
const WORKER_IMPORT = 'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}';
const WORKER_IMPORT_PATCHED =
  'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}' +
  'else if(e.data.urlOrBlob&&typeof e.data.urlOrBlob.qnnlabFile=="string"){importScripts(e.data.urlOrBlob.qnnlabFile)}';
const MAIN_SCRIPT_HEAD = 'var WasmBackendModuleThreadedSimd = ';
const MAIN_SCRIPT_SHIMS =
  "var require$$0=require('fs'),require$$1=require('path'),require$$3=require('perf_hooks')," +
  "require$$4=require('os');var commonjsGlobal=globalThis;\n";

/** Turn the text of a script Blob into a file; the text rewrites of points 2 and 3 of the header. */
function scriptFile(dir: string, text: string): string {
  if (text.startsWith(MAIN_SCRIPT_HEAD)) return writeScript(dir, 'main.js', MAIN_SCRIPT_SHIMS + text);
  if (text.includes('nodeWorkerThreads') && text.includes('urlOrBlob')) {
    if (!text.includes(WORKER_IMPORT)) throw new Error('unexpected pthread worker script in tfjs-backend-wasm');
    return writeScript(dir, 'worker.js', text.replace(WORKER_IMPORT, WORKER_IMPORT_PATCHED));
  }
  throw new Error('tfjs-backend-wasm made a Blob that is neither its pthread worker nor its main script');
}

/** Write `text` to a content-addressed file in `dir` (atomically: concurrent processes may race). */
function writeScript(dir: string, name: string, text: string): string {
  const file = path.join(dir, `${createHash('sha256').update(text).digest('hex').slice(0, 16)}-${name}`);
  if (!fs.existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  }
  return file;
}

/** Makes stand-ins for the Blobs the backend builds from strings: the text goes to a file at once, because
 * the main script's Blob is posted to the workers without passing through createObjectURL. What survives
 * postMessage is the plain object { qnnlabFile }. */
function fileBlobClass(dir: string) {
  return class FileBlob {
    readonly qnnlabFile: string;
    constructor(parts: unknown[]) {
      this.qnnlabFile = scriptFile(dir, parts.map((p) => String(p)).join(''));
    }
  };
}

interface PThreadPool {
  runningWorkers: { unref(): void }[];
  unusedWorkers: { unref(): void }[];
}

/** The folder that holds the threaded wasm binary (the package's dist/). */
function wasmDistDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm'));
}

/**
 * Initialize the 'wasm' backend with `threads` XNNPACK threads (the threaded SIMD build). Must run before
 * the wasm backend is first initialized. Returns the thread count the backend reports.
 */
export async function initThreadedWasm(threads: number): Promise<number> {
  if (!Number.isInteger(threads) || threads < 2) throw new Error(`initThreadedWasm: threads must be an integer >= 2, got ${threads}`);
  const dir = path.join(os.tmpdir(), `qnnlab-wasm-threads-${tf.version_core}`);
  fs.mkdirSync(dir, { recursive: true });

  const g = globalThis as unknown as { Blob: unknown; URL: { createObjectURL: (b: unknown) => string } };
  const saved = { Blob: g.Blob, createObjectURL: g.URL.createObjectURL, cpus: os.cpus };
  const FileBlob = fileBlobClass(dir);
  g.Blob = FileBlob;
  g.URL.createObjectURL = (b: unknown): string => {
    if (!(b instanceof FileBlob)) throw new Error('createObjectURL: not a script of tfjs-backend-wasm');
    return b.qnnlabFile;
  };
  os.cpus = () => { const c = saved.cpus(); return c.concat(c); };
  try {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasmBackend.setWasmPaths(wasmDistDir() + path.sep);
    wasmBackend.setThreadsCount(threads);
    if (!(await tf.setBackend('wasm'))) throw new Error('the threaded wasm backend did not initialize');
    // The pool's threads wait for work forever; unref'd, they no longer keep Node from exiting.
    const pthread = (tf.backend() as unknown as { wasm: { PThread?: PThreadPool } }).wasm.PThread;
    if (pthread == null) throw new Error('the wasm module exposes no PThread pool');
    for (const w of [...pthread.runningWorkers, ...pthread.unusedWorkers]) w.unref();
    return wasmBackend.getThreadsCount();
  } finally {
    g.Blob = saved.Blob;
    g.URL.createObjectURL = saved.createObjectURL;
    os.cpus = saved.cpus;
  }
}
