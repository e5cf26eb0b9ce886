/**
 * Identity, and Cast to the same dtype, share the buffer (a reference count) instead of a memcpy: the engine
 * clones every tensor saved for backward. Cast to bool computes x != 0 (the stock kernel wrapped -2 to 254).
 */
import { TensorInfo, WasmBackendLike, KernelArgs, runOriginal, share } from './common';

/** The engine clones every tensor saved for backward (hundreds per ResNet step): share, don't copy. */
export function identity({ inputs, backend }: KernelArgs): TensorInfo {
  const { x } = inputs;
  if (x.dtype === 'string') return runOriginal('Identity', backend, inputs);
  return share(backend, x);
}

export function cast({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { x } = inputs;
  if (attrs.dtype === x.dtype && x.dtype !== 'string') return share(backend, x);
  if (attrs.dtype === 'bool' && (x.dtype === 'float32' || x.dtype === 'int32')) return castToBool(backend, x);
  return runOriginal('Cast', backend, inputs, attrs);
}

/** x != 0 (NaN counts as true, as on cpu). The stock kernel copies into a Uint8Array: -2 became 254. */
function castToBool(backend: WasmBackendLike, x: TensorInfo): TensorInfo {
  const out = backend.makeOutput(x.shape, 'bool');
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  for (let i = 0; i < src.length; i++) dst[i] = src[i] !== 0 ? 1 : 0;
  return out;
}
