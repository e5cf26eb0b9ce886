/**
 * The committed assembly/qnn.wasm is what assembly/qnn.ts compiles to: the AssemblyScript compiler's output is
 * deterministic (same source, flags and compiler version -> same bytes), so the test rebuilds the module into
 * a temporary file with the flags of `npm run build:wasm` and compares bytes. A stale module fails with the
 * command that fixes it.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ASC_OUTPUT, buildWasm } from '../src/inference/wasmBuild';

test('assembly/qnn.wasm is up to date with assembly/qnn.ts (npm run build:wasm)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qnnlab-wasm-'));
  try {
    const fresh = path.join(dir, 'qnn.wasm');
    buildWasm(fresh);
    const built = fs.readFileSync(fresh);
    const committed = fs.readFileSync(ASC_OUTPUT);
    assert.ok(built.equals(committed), `assembly/qnn.wasm is stale (${committed.length} bytes committed, ${built.length} built): run npm run build:wasm`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the module needs no imports and exports the kernels the engine calls', () => {
  const WA = (globalThis as unknown as { WebAssembly: { Module: { new (b: Uint8Array): object; imports(m: object): unknown[]; exports(m: object): { name: string }[] } } }).WebAssembly;
  const mod = new WA.Module(new Uint8Array(fs.readFileSync(ASC_OUTPUT)));
  assert.deepEqual(WA.Module.imports(mod), []);
  const names = WA.Module.exports(mod).map((e) => e.name).sort();
  for (const k of ['memory', 'heapBase', 'padNHWC', 'affineAct', 'signPack', 'maxPool', 'buildLut1', 'buildLut2', 'buildMask4', 'convF32', 'convLut1', 'convLut2', 'convSum1', 'convSum2', 'convXnor']) {
    assert.ok(names.includes(k), `export ${k}`);
  }
});
