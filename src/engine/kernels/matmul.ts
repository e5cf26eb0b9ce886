/**
 * BatchMatMul with transposeA/B as non-transposed products: only those reach XNNPACK, the stock transposed
 * cases are scalar loops. Also guards XNNPACK's packed-weight cache, keyed by data id, against buffers
 * shared under another shape. Used by the conv gradients too.
 */
import { TensorInfo, WasmBackendLike, KernelArgs, runOriginal, dispose, transpose } from './common';

/**
 * Only the non-transposed BatchMatMul reaches XNNPACK (a fully-connected op whose weights are the b
 * operand, packed anew on every call); the transposed ones run a scalar loop, 5-8x slower. So every
 * case becomes a non-transposed product, choosing the form that moves the least data:
 *   a^T b   = matmul(a^T, b)                   (one transpose of a)
 *   a b^T   = matmul(a, b^T), or (b a^T)^T when a is smaller than b (dense backward: dy . W^T)
 *   a^T b^T = (b a)^T                          (one transpose of the result)
 */
export function batchMatMul({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { transposeA, transposeB } = attrs as { transposeA?: boolean; transposeB?: boolean };
  const plain = { ...attrs, transposeA: false, transposeB: false };
  const mm = (a: TensorInfo, b: TensorInfo): TensorInfo => {
    const own = weightsOperand(backend, b);
    const out = runOriginal('BatchMatMul', backend, { a, b: own }, plain);
    if (own !== b) dispose(backend, own);
    return out;
  };
  const { a, b } = inputs;
  if (!transposeA && !transposeB) return mm(a, b);
  if (transposeA && transposeB) return transposedResult(backend, mm(b, a));
  if (transposeA) {
    const at = swapLastAxes(backend, a);
    const out = mm(at, b);
    dispose(backend, at);
    return out;
  }
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[b.shape.length - 2];
  if (m * k + m * n < n * k) {
    const at = swapLastAxes(backend, a);
    const out = transposedResult(backend, mm(b, at));
    dispose(backend, at);
    return out;
  }
  const bt = swapLastAxes(backend, b);
  const out = mm(a, bt);
  dispose(backend, bt);
  return out;
}

/**
 * The wasm BatchMatMul caches XNNPACK's packed b operand by b's data id. A buffer shared under another shape
 * (a reshape, or our copy-free transpose of a [k,1] vector) then hits a cache entry packed for the old
 * [k,n] and yields garbage. Remember the [k,n] each id was used with; on a mismatch give the kernel a copy.
 */
const bShapes = new WeakMap<object, string>();

function weightsOperand(backend: WasmBackendLike, b: TensorInfo): TensorInfo {
  const key = b.shape.slice(-2).join('x');
  const seen = bShapes.get(b.dataId);
  if (seen === undefined) {
    bShapes.set(b.dataId, key);
    return b;
  }
  if (seen === key) return b;
  const copy = runOriginal('Identity', backend, { x: b });
  bShapes.set(copy.dataId, key);
  return copy;
}

function swapLastAxes(backend: WasmBackendLike, t: TensorInfo): TensorInfo {
  const r = t.shape.length;
  return transpose(backend, t, t.shape.map((_, i) => (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i)));
}

/** Transpose the last two axes of a kernel result, freeing the result. */
function transposedResult(backend: WasmBackendLike, t: TensorInfo): TensorInfo {
  const out = swapLastAxes(backend, t);
  dispose(backend, t);
  return out;
}
