/**
 * Regression: the wasm BatchMatMul caches XNNPACK's packed b operand by data id, so a buffer shared under
 * another [k, n] (a reshape, or a copy-free transpose of a [k,1] vector) must not reuse the stale packing.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';

test.before(async () => {
  await initEngine({ backend: 'wasm' });
});

test('matMul after a transposed use of the same vector gives the outer product', () => {
  const a = tf.tensor2d([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
  const c = tf.tensor2d([[1], [2], [3]]);
  assert.deepEqual(Array.from(tf.matMul(a, c, true, false).dataSync()), [30, 36, 42]);
  assert.deepEqual(Array.from(tf.matMul(c, c, false, true).dataSync()), [1, 2, 3, 2, 4, 6, 3, 6, 9]);
});

test('matMul with a reshaped view of a weight used before under another shape', () => {
  const w = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
  const x = tf.tensor2d([[1, 1]]);
  assert.deepEqual(Array.from(tf.matMul(x, w).dataSync()), [5, 7, 9]);
  const w2 = tf.reshape(w, [3, 2]);
  const y = tf.tensor2d([[1, 1, 1]]);
  assert.deepEqual(Array.from(tf.matMul(y, w2).dataSync()), [9, 12]);
});
