/**
 * Low-bit inference: a WebAssembly engine (kernels in assembly/qnn.ts, AssemblyScript) that runs a packed
 * model from its codes: XNOR-popcount for binary weights × binary activations, code-table or grouped-sum
 * kernels for binary / ternary / M-ary weights × float activations. docs/inference.md.
 */
export { InferenceEngine, CompiledModel } from './engine';
export type { CompileOptions, KernelSet, FloatInputStrategy, StepInfo, ResidentBytes } from './engine';
export { modelIR, codedKernel } from './plan';
export type { ModelIR, LayerIR, CodedKernel } from './plan';
export { loadInferenceEngine, compilePacked, compileModel, packedIR, WASM_PATH } from './node';
