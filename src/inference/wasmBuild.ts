/**
 * Builds assembly/qnn.wasm from assembly/qnn.ts with AssemblyScript's compiler (`npm run build:wasm`).
 * The output is deterministic (the same source and compiler version give the same bytes), so
 * test/inference-wasm.test.ts rebuilds it into a temporary file and fails when the committed module is stale.
 *
 * Flags: -O3 (speed), --runtime stub (no garbage collector: the kernels allocate nothing), --noAssert,
 * --use abort= (no imports at all, so the module instantiates with {} in Node and in a browser),
 * --enable simd (v128, in Node >= 16 and every current browser).
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

export const ROOT = path.join(__dirname, '..', '..');
export const ASC_SOURCE = path.join(ROOT, 'assembly', 'qnn.ts');
export const ASC_OUTPUT = path.join(ROOT, 'assembly', 'qnn.wasm');
export const ASC_FLAGS = ['-O3', '--runtime', 'stub', '--noAssert', '--use', 'abort=', '--enable', 'simd'];

/** Compile assembly/qnn.ts into `outFile` (default assembly/qnn.wasm). */
export function buildWasm(outFile = ASC_OUTPUT): void {
  const asc = path.join(path.dirname(require.resolve('assemblyscript/package.json')), 'bin', 'asc.js');
  execFileSync(process.execPath, [asc, path.relative(ROOT, ASC_SOURCE), '-o', outFile, ...ASC_FLAGS], { cwd: ROOT, stdio: 'inherit' });
}

if (require.main === module) {
  buildWasm(process.argv[2] ? path.resolve(process.argv[2]) : ASC_OUTPUT);
  console.log(`wrote ${process.argv[2] ?? path.relative(ROOT, ASC_OUTPUT)}`);
}
