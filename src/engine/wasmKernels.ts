// Placeholder until the wasm training kernels land (being written now).
export function registerWasmTrainingKernels(): void {}
