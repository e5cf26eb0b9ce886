/**
 * Training kernels of our own, compiled from assembly/train.ts to assembly/train.wasm (`npm run build:wasm`).
 * They run in a small WebAssembly instance of their own, beside whatever tfjs backend is active, so they
 * work on every backend: inputs are copied in, results copied out (cheap next to the work: they are used
 * where one pass replaces dozens of tensor kernels, see docs/engine.md).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The committed module (built from assembly/train.ts), read from disk at the first call: a function, not a
 * constant, because the browser bundle of the demo page imports this file (through the layer classes) and has
 * neither `__dirname` nor `path`. Training kernels run in Node only.
 */
export function trainWasmPath(): string {
  return path.join(__dirname, '..', '..', 'assembly', 'train.wasm');
}

interface Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  heapBase(): number;
  spikeSlabKl(mean: number, logSigma2: number, n: number, levels: number, m: number, width: number, clip: number,
    normalized: number, dMean: number, dLogSigma2: number, dLevels: number, scratch: number): number;
  normalNoise(out: number, n: number, seed: number): void;
  col2im(col: number, dx: number, n: number, H: number, W: number, ci: number, oh: number, ow: number, kh: number, kw: number,
    sh: number, sw: number, pt: number, pl: number): void;
  expF32x4(inp: number, out: number, n: number): void;
  logF32x4(inp: number, out: number, n: number): void;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

const PAGE = 65536;
let instance: Exports | null = null;

function kernels(): Exports {
  if (!instance) {
    const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    instance = new WA.Instance(new WA.Module(new Uint8Array(fs.readFileSync(trainWasmPath()))), {}).exports as Exports;
  }
  return instance;
}

/** Lay out `sizes` bytes one after another (16-byte aligned) above the module's static data; grow as needed. */
function layout(x: Exports, sizes: number[]): number[] {
  let at = (x.heapBase() + 15) & ~15;
  const ptrs = sizes.map((b) => {
    const p = at;
    at = (at + b + 15) & ~15;
    return p;
  });
  const have = x.memory.buffer.byteLength;
  if (at > have) x.memory.grow(Math.ceil((at - have) / PAGE));
  return ptrs;
}

export interface SpikeSlabKlResult {
  kl: number;
  dMean: Float32Array;
  dLogSigma2: Float32Array;
  dLevels: Float32Array;
}

/**
 * The multiple spike-and-slab KL (src/bayes/priors.ts) of weights with means `mean` and log variances
 * `logSigma2` against `levels`, summed over the weights, and its gradients with respect to all three.
 */
export function spikeSlabKlKernel(
  mean: Float32Array, logSigma2: Float32Array, levels: Float32Array,
  width: number, clip: number, gate: 'window' | 'normalized',
): SpikeSlabKlResult {
  const n = mean.length;
  const m = levels.length;
  if (logSigma2.length !== n) throw new Error(`spikeSlabKl: mean has ${n} entries, logSigma2 ${logSigma2.length}`);
  const x = kernels();
  const n4 = (n + 3) & ~3; // the kernel works on four weights at a time
  const [pMean, pLs2, pLevels, pdMean, pdLs2, pdLevels, pScratch] = layout(x, [4 * n4, 4 * n4, 4 * m, 4 * n4, 4 * n4, 8 * m, 128 * m + 32]);
  const buf = x.memory.buffer;
  new Float32Array(buf, pMean, n4).fill(0, n).set(mean);
  new Float32Array(buf, pLs2, n4).fill(0, n).set(logSigma2);
  new Float32Array(buf, pLevels, m).set(levels);
  const kl = x.spikeSlabKl(pMean, pLs2, n, pLevels, m, width, clip, gate === 'normalized' ? 1 : 0, pdMean, pdLs2, pdLevels, pScratch);
  const out = x.memory.buffer; // the same buffer: nothing grows during the call
  return {
    kl,
    dMean: new Float32Array(out, pdMean, n).slice(),
    dLogSigma2: new Float32Array(out, pdLs2, n).slice(),
    dLevels: Float32Array.from(new Float64Array(out, pdLevels, m)),
  };
}

/**
 * n standard normals from a 32-bit seed: four xoshiro128** streams and Marsaglia's polar method (assembly/train.ts),
 * about ten times faster than tfjs's generator. Not tfjs's values: for the local reparameterization noise.
 */
export function normalNoiseKernel(n: number, seed: number): Float32Array {
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) throw new Error(`normalNoise: seed must be a 32-bit unsigned integer, got ${seed}`);
  const x = kernels();
  const [p] = layout(x, [4 * (n + 8)]); // the kernel writes up to 8 floats past n
  x.normalNoise(p, n, seed);
  return new Float32Array(x.memory.buffer, p, n).slice();
}

/** Shapes of the col2im scatter: input [n, H, W, ci], GEMM rows [n·oh·ow], taps kh×kw, strides, top/left padding. */
export interface Col2ImShape {
  n: number; H: number; W: number; ci: number; oh: number; ow: number; kh: number; kw: number; sh: number; sw: number; pt: number; pl: number;
}

/**
 * col2im of Conv2DBackpropInput's GEMM form (col [n·oh·ow, kh·kw·ci]) into `dx` ([n, H, W, ci], overwritten), in
 * f32x4 lanes over the channels.
 */
export function col2imKernel(col: Float32Array, dx: Float32Array, s: Col2ImShape): void {
  const x = kernels();
  const [pCol, pDx] = layout(x, [4 * col.length, 4 * dx.length]);
  new Float32Array(x.memory.buffer, pCol, col.length).set(col);
  x.col2im(pCol, pDx, s.n, s.H, s.W, s.ci, s.oh, s.ow, s.kh, s.kw, s.sh, s.sw, s.pt, s.pl);
  dx.set(new Float32Array(x.memory.buffer, pDx, dx.length));
}

/** The kernels' f32x4 exp or log applied to `x` (their accuracy is tested on their own). */
export function vectorMath(fn: 'exp' | 'log', x: Float32Array): Float32Array {
  const k = kernels();
  const n4 = (x.length + 3) & ~3;
  const [pIn, pOut] = layout(k, [4 * n4, 4 * n4]);
  new Float32Array(k.memory.buffer, pIn, n4).fill(1, x.length).set(x);
  (fn === 'exp' ? k.expF32x4 : k.logF32x4)(pIn, pOut, n4);
  return new Float32Array(k.memory.buffer, pOut, x.length).slice();
}
