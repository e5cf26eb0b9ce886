/**
 * Each committed module (assembly/qnn.wasm, assembly/train.wasm) is what its source compiles to: the
 * AssemblyScript compiler's output is deterministic (same source, flags and compiler version -> same bytes), so
 * the test rebuilds each module into a temporary file with the flags of `npm run build:wasm` and compares bytes. A stale module fails with the
 * command that fixes it.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WASM_MODULES, buildWasm, type WasmModuleName } from '../src/inference/wasmBuild';

for (const name of Object.keys(WASM_MODULES) as WasmModuleName[]) {
  const { source, output } = WASM_MODULES[name];
  const rel = (p: string) => path.relative(path.join(__dirname, '..'), p);
  test(`${rel(output)} is up to date with ${rel(source)} (npm run build:wasm)`, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qnnlab-wasm-'));
    try {
      const fresh = path.join(dir, `${name}.wasm`);
      buildWasm(name, fresh);
      const built = fs.readFileSync(fresh);
      const committed = fs.readFileSync(output);
      assert.ok(built.equals(committed), `${rel(output)} is stale (${committed.length} bytes committed, ${built.length} built): run npm run build:wasm`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('the module needs no imports and exports the kernels the engine calls', () => {
  const WA = (globalThis as unknown as { WebAssembly: { Module: { new (b: Uint8Array): object; imports(m: object): unknown[]; exports(m: object): { name: string }[] } } }).WebAssembly;
  const mod = new WA.Module(new Uint8Array(fs.readFileSync(WASM_MODULES.qnn.output)));
  assert.deepEqual(WA.Module.imports(mod), []);
  const names = WA.Module.exports(mod).map((e) => e.name).sort();
  for (const k of ['memory', 'heapBase', 'padNHWC', 'affineAct', 'signPack', 'maxPool', 'buildLut1', 'buildLut2', 'buildMask4', 'convF32', 'convLut1', 'convLut2', 'convSum1', 'convSum2', 'convXnor']) {
    assert.ok(names.includes(k), `export ${k}`);
  }
});
