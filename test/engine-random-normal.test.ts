/** src/engine/randomNormal.ts must give tf.randomNormal's values to the bit (the Bayesian layers' noise). */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { randomNormal, randomNormalValues } from '../src/engine/randomNormal';

const bits = (a: Float32Array | Int32Array | Uint8Array) => Array.from(new Uint32Array(Float32Array.from(a).buffer));

test('the same values as tf.randomNormal for seeds, odd and even sizes, mean and standard deviation', () => {
  for (const [shape, mean, std, seed] of [
    [[1], 0, 1, 1], [[7], 0, 1, 42], [[128, 24, 24, 6], 0, 1, 1234567], [[3, 5], 2.5, 0.3, 2147483646], [[0], 0, 1, 9],
  ] as [number[], number, number, number][]) {
    const ref = tf.randomNormal(shape, mean, std, 'float32', seed);
    const ours = randomNormal(shape, mean, std, seed);
    assert.deepEqual(ours.shape, ref.shape);
    assert.equal(ours.dtype, 'float32');
    assert.deepEqual(bits(ours.dataSync() as Float32Array), bits(ref.dataSync() as Float32Array), `shape [${shape}], seed ${seed}`);
    tf.dispose([ref, ours]);
  }
});

test('without a seed (or seed 0) one Math.random() draw seeds it, as in tfjs', () => {
  const orig = Math.random;
  try {
    for (const seed of [undefined, 0]) {
      Math.random = () => 0.123456789;
      const ref = tf.randomNormal([33], 0, 1, 'float32', seed).dataSync() as Float32Array;
      Math.random = () => 0.123456789;
      assert.deepEqual(bits(randomNormalValues(33, 0, 1, seed)), bits(ref));
    }
  } finally {
    Math.random = orig;
  }
});

test('a bad shape is refused', () => {
  assert.throws(() => randomNormal([2, -1]), /bad shape \[2,-1\]/);
  assert.throws(() => randomNormal([1.5]), /bad shape/);
});
