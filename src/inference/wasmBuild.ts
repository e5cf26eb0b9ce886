/**
 * Builds qnnlab's WebAssembly modules with AssemblyScript's compiler (`npm run build:wasm`): assembly/qnn.ts
 * (the low-bit inference kernels) and assembly/train.ts (training kernels, src/engine/trainKernels.ts).
 * The output is deterministic (the same source and compiler version give the same bytes), so
 * test/inference-wasm.test.ts rebuilds each into a temporary file and fails when a committed module is stale.
 *
 * Flags: -O3 (speed), --runtime stub (no garbage collector: the kernels allocate nothing), --noAssert,
 * --use abort= (no imports at all, so the module instantiates with {} in Node and in a browser),
 * --enable simd (v128, in Node >= 16 and every current browser).
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

export const ROOT = path.join(__dirname, '..', '..');
/** Each module's source and committed output. */
export const WASM_MODULES = {
  qnn: { source: path.join(ROOT, 'assembly', 'qnn.ts'), output: path.join(ROOT, 'assembly', 'qnn.wasm') },
  train: { source: path.join(ROOT, 'assembly', 'train.ts'), output: path.join(ROOT, 'assembly', 'train.wasm') },
} as const;
export type WasmModuleName = keyof typeof WASM_MODULES;
export const ASC_FLAGS = ['-O3', '--runtime', 'stub', '--noAssert', '--use', 'abort=', '--enable', 'simd'];

/** Compile one module into `outFile` (default: its committed output). */
export function buildWasm(name: WasmModuleName, outFile: string = WASM_MODULES[name].output): void {
  const asc = path.join(path.dirname(require.resolve('assemblyscript/package.json')), 'bin', 'asc.js');
  execFileSync(process.execPath, [asc, path.relative(ROOT, WASM_MODULES[name].source), '-o', outFile, ...ASC_FLAGS], { cwd: ROOT, stdio: 'inherit' });
}

if (require.main === module) {
  for (const name of Object.keys(WASM_MODULES) as WasmModuleName[]) {
    buildWasm(name);
    console.log(`wrote ${path.relative(ROOT, WASM_MODULES[name].output)}`);
  }
}
