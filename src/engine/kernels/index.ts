/**
 * Training kernels for the TF.js `wasm` backend (tfjs-backend-wasm 4.22), one file per kernel family:
 *
 *  - conv.ts      Conv2DBackpropFilter (missing from the stock backend), Conv2DBackpropInput
 *  - pool.ts      MaxPoolGrad (first max wins, as on cpu), AvgPoolGrad
 *  - matmul.ts    BatchMatMul with transposeA/B
 *  - identity.ts  Identity, Cast
 *  - reduce.ts    Sum, Mean
 *  - affine.ts    FusedBatchNorm, Multiply/Add/Sub with a per-channel vector
 *  - slice.ts     Slice, StridedSlice, PadV2, SplitV, Concat
 *  - common.ts    the backend interface, the stock kernels they build on, TensorInfo and heap helpers
 *
 * The stock wasm backend cannot train a conv net, and several kernels that training hits on every step are
 * slow scalar loops or needless copies. Each override is a composition of the wasm backend's own kernels
 * (mostly XNNPACK convolutions, transposes and pads). This file captures the stock kernels and registers the
 * overrides; test/engine-kernels.test.ts checks each family against the cpu backend. See docs/engine.md for
 * the design and the measurements behind each one.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { TensorInfo, KernelArgs, original } from './common';
import { conv2DBackpropFilter, conv2DBackpropInput } from './conv';
import { maxPoolGrad, avgPoolGrad } from './pool';
import { batchMatMul } from './matmul';
import { identity, cast } from './identity';
import { reduceViaAvgPool } from './reduce';
import { multiply, add, sub, fusedBatchNorm } from './affine';
import { slice, stridedSlice, padV2, splitV, concat } from './slice';

export type { WasmBackendLike } from './common';
export { wasmKernelOptions } from './conv';

let registered = false;

/** Names of the stock kernels called by the overrides (captured up front so overriding never recurses). */
const USED_KERNELS = [
  'Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'FusedDepthwiseConv2D', 'FusedBatchNorm', 'BatchMatMul',
  'MaxPoolGrad', 'AvgPool', 'AvgPoolGrad', 'Transpose', 'Slice', 'StridedSlice', 'PadV2', 'SplitV', 'Concat', 'Identity', 'Cast',
  'Sum', 'Mean', 'Multiply', 'Add', 'Sub',
];

const OVERRIDES: Record<string, (args: KernelArgs) => TensorInfo> = {
  Conv2DBackpropFilter: conv2DBackpropFilter,
  Conv2DBackpropInput: conv2DBackpropInput,
  BatchMatMul: batchMatMul,
  MaxPoolGrad: maxPoolGrad,
  AvgPoolGrad: avgPoolGrad,
  Identity: identity,
  Cast: cast,
  FusedBatchNorm: fusedBatchNorm,
  Multiply: multiply,
  Add: add,
  Sub: sub,
  Slice: slice,
  StridedSlice: stridedSlice,
  PadV2: padV2,
  SplitV: splitV as unknown as (args: KernelArgs) => TensorInfo,
  Concat: concat,
  Sum: (args) => reduceViaAvgPool('Sum', args),
  Mean: (args) => reduceViaAvgPool('Mean', args),
};

/**
 * Register the training kernels for the 'wasm' backend. Idempotent. Call it after importing
 * '@tensorflow/tfjs-backend-wasm' (this module does) and preferably before the backend initializes.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const name of USED_KERNELS) {
    const cfg = tf.getKernel(name, 'wasm');
    if (cfg != null) original.set(name, cfg);
  }
  for (const [name, fn] of Object.entries(OVERRIDES)) {
    const prev = original.get(name);
    if (prev != null) tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: fn as unknown as tf.KernelFunc,
      // The stock setupFunc binds the C++ entry point that the original kernelFunc calls: keep it.
      setupFunc: prev?.setupFunc,
      disposeFunc: prev?.disposeFunc,
    });
  }
  registered = true;
}

/** The stock kernelFunc of a wasm kernel, as it was before registerWasmTrainingKernels (for tests and benchmarks). */
export function originalWasmKernel(name: string): tf.KernelFunc | undefined {
  return (original.get(name) ?? tf.getKernel(name, 'wasm'))?.kernelFunc;
}
