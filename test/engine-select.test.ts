import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';

test('wasm is chosen when no native backend is installed, and the engine says why', async () => {
  delete process.env.QNNLAB_BACKEND;
  const info = await initEngine();
  assert.equal(info.backend, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(info.tfjsVersion, '4.22.0');
  // danfojs-node's dependency is aliased to plain tfjs by an npm override: it must not be mistaken for tfjs-node.
  assert.ok(info.notes.some((n) => /@tensorflow\/tfjs-node: not installed \(an alias of @tensorflow\/tfjs\)/.test(n)), info.notes.join('; '));
});

test('forcing an unknown or unavailable backend is a clear error', async () => {
  await assert.rejects(initEngine({ backend: 'gpu' }), /Unknown backend 'gpu'.*use tensorflow, wasm or cpu/);
  await assert.rejects(initEngine({ backend: 'tensorflow' }), /no native backend loads.*Install @tensorflow\/tfjs-node/);
});

test('the cpu backend can be forced, and wasm restored', async () => {
  assert.equal((await initEngine({ backend: 'cpu' })).backend, 'cpu');
  assert.equal((await initEngine({ backend: 'wasm' })).backend, 'wasm');
});
