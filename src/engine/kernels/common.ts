/**
 * What every wasm kernel override shares: the slice of the wasm backend they use, the registry of stock
 * kernels they build on (`runOriginal`), and TensorInfo / wasm-heap helpers. Overrides work on
 * TensorInfos only (no engine tensors, nothing on the tape) and free every intermediate with `dispose`.
 * Kept apart from the families so that none of them imports another just for a helper.
 */
import * as tf from '@tensorflow/tfjs';

export type TensorInfo = tf.TensorInfo;
export type Attrs = Record<string, unknown>;
export type Inputs = Record<string, TensorInfo>;
export type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
export type DimRounding = 'floor' | 'round' | 'ceil' | undefined;

/** The parts of tfjs-backend-wasm's BackendWasm that these kernels use. */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
  numDataIds(): number;
}

export interface KernelArgs {
  inputs: Inputs;
  attrs: Attrs;
  backend: WasmBackendLike;
}

/** The stock wasm kernels, captured before any override replaces them in the registry. */
export const original = new Map<string, tf.KernelConfig>();

export function runOriginal(name: string, backend: WasmBackendLike, inputs: Inputs, attrs: Attrs = {}): TensorInfo {
  const cfg = original.get(name);
  if (cfg == null) throw new Error(`wasm kernels: the wasm backend has no '${name}' kernel to build on`);
  const fn = cfg.kernelFunc as unknown as (a: KernelArgs) => TensorInfo;
  return fn({ inputs, attrs, backend });
}

/** Same data, another shape. Owns no reference: never dispose a view, dispose what it views. */
export function view(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

export function dispose(backend: WasmBackendLike, ...ts: (TensorInfo | null)[]): void {
  for (const t of ts) if (t != null) backend.disposeData(t.dataId);
}

/** A new reference to t's buffer (no copy); the caller disposes it like any kernel output. */
export function share(backend: WasmBackendLike, t: TensorInfo, shape: number[] = t.shape): TensorInfo {
  backend.incRef(t.dataId);
  return { dataId: t.dataId, shape: shape.slice(), dtype: t.dtype };
}

/**
 * Transpose through the stock kernel, but without its memcpy when the permutation only moves size-1
 * axes (then the data order is unchanged and a shared buffer is enough).
 */
export function transpose(backend: WasmBackendLike, x: TensorInfo, perm: number[]): TensorInfo {
  const outShape = perm.map((p) => x.shape[p]);
  const moved = perm.filter((p) => x.shape[p] !== 1);
  if (moved.every((p, i) => i === 0 || p > moved[i - 1])) return share(backend, x, outShape);
  return runOriginal('Transpose', backend, { x }, { perm });
}

export function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The whole wasm heap as 4-byte (or, for bool, 1-byte) integers plus the tensor's element offset in it.
 * Copies between tensors then are `copyWithin` on one buffer (a memmove, no subarray objects) and, for
 * short runs, integer loads and stores (bit-exact for float data too: no NaN canonicalization).
 * Take it after the last allocation of the kernel: a heap growth detaches views.
 */
export function heapRef(backend: WasmBackendLike, t: TensorInfo): { heap: Int32Array | Uint8Array; base: number } {
  const b = backend as unknown as { wasm: { HEAPU8: Uint8Array }; dataIdMap: { get(id: object): { memoryOffset: number } } };
  const offset = b.dataIdMap.get(t.dataId).memoryOffset;
  if (t.dtype === 'bool') return { heap: new Uint8Array(b.wasm.HEAPU8.buffer), base: offset };
  return { heap: new Int32Array(b.wasm.HEAPU8.buffer), base: offset / 4 };
}

/** heap[d .. d+run) = heap[s .. s+run); copyWithin wins from about 16 elements up (measured). */
export function copyRun(heap: Int32Array | Uint8Array, s: number, d: number, run: number): void {
  if (run >= 16) {
    heap.copyWithin(d, s, s + run);
  } else {
    for (let i = 0; i < run; i++) heap[d + i] = heap[s + i];
  }
}
