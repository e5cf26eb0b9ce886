/** FusedAdamOptimizer must give tf.train.adam's weights, moments and accumulated betas to the bit. */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { FusedAdamOptimizer } from '../src/train/adam';
import { makeOptimizer } from '../src/train/optimizer';

const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));

test.before(async () => {
  await initEngine({ backend: 'wasm' });
});

for (const backend of ['wasm', 'cpu']) {
  test(`FusedAdamOptimizer equals tf.train.adam bit for bit over 25 steps (${backend}, several shapes, odd hyperparameters)`, async () => {
    const prev = tf.getBackend();
    await tf.setBackend(backend);
    try {
      for (const [lr, b1, b2, eps] of [[1e-3, 0.9, 0.999, 1e-7], [0.0137, 0.85, 0.9731, 1e-5]]) {
        const shapes = [[5, 5, 1, 6], [400, 120], [7], [1]];
        const make = (tag: string) => shapes.map((sh, k) => tf.variable(tf.randomNormal(sh, 0, 0.1, 'float32', 100 + k), true, `${tag}_${backend}_${lr}_${k}`));
        const a = make('stock');
        const b = make('fused');
        const stock = tf.train.adam(lr, b1, b2, eps);
        const fused = new FusedAdamOptimizer(lr, b1, b2, eps);
        for (let step = 0; step < 25; step++) {
          const grads = shapes.map((sh, k) => tf.mul(tf.randomNormal(sh, 0, 1, 'float32', 1000 * step + k), step % 7 === 3 ? 1e-6 : 1));
          stock.applyGradients(a.map((v, k) => ({ name: v.name, tensor: grads[k] })));
          fused.applyGradients(b.map((v, k) => ({ name: v.name, tensor: grads[k] })));
          tf.dispose(grads);
        }
        a.forEach((v, k) => assert.deepEqual(bits(b[k]), bits(v), `variable ${k} (lr ${lr})`));
        const [ws, wf] = [await stock.getWeights(), await fused.getWeights()];
        assert.equal(wf.length, ws.length);
        ws.forEach((w, k) => assert.deepEqual(bits(wf[k].tensor), bits(w.tensor), `optimizer weight ${w.name}`));
        const acc = (o: tf.Optimizer) => [(o as unknown as { accBeta1: tf.Variable }).accBeta1, (o as unknown as { accBeta2: tf.Variable }).accBeta2].map(bits);
        assert.deepEqual(acc(fused), acc(stock));
        assert.equal(fused.iterations, stock.iterations);
        tf.dispose([...a, ...b]);
        stock.dispose();
        fused.dispose();
      }
    } finally {
      await tf.setBackend(prev);
    }
  });
}

test('makeOptimizer builds the fused Adam', () => {
  const o = makeOptimizer({ name: 'adam', lr: 1e-3 });
  assert.ok(o instanceof FusedAdamOptimizer);
  assert.equal(o.getClassName(), 'Adam');
  o.dispose();
});
