import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { initialOscillationState, trackOscillations, type OscillationState } from '../src/bayes/oscillations';
import { VariationalDense } from '../src/bayes/variationalDense';

test.before(async () => {
  await initEngine({ backend: 'wasm' });
});

const values = (s: OscillationState) =>
  Object.fromEntries(Object.entries(s).map(([k, t]) => [k, Array.from(t.dataSync())])) as Record<keyof OscillationState, number[]>;

function run(indices: number[][], o: { momentum: number; threshold: number }) {
  let state = initialOscillationState(tf.tensor1d(indices[0]));
  const out = [values(state)];
  for (const idx of indices.slice(1)) {
    const t = tf.tensor1d(idx);
    const next = trackOscillations(state, t, o);
    tf.dispose([t, ...Object.values(state)]);
    state = next;
    out.push(values(state));
  }
  tf.dispose(Object.values(state));
  return out;
}

test('trackOscillations: frequency counts only reversals of direction (hand-computed, m = 0.5)', () => {
  // weight 0: 0, 1, 0, 1, 1, 2 (reversals at steps 2 and 3); weight 1 never moves; weight 2 climbs 0, 1, 2.
  const seq = [[0, 2, 0], [1, 2, 1], [0, 2, 2], [1, 2, 2], [1, 2, 2], [2, 2, 2]];
  const s = run(seq, { momentum: 0.5, threshold: 0 });
  assert.deepEqual(s.map((x) => x.frequency[0]), [0, 0, 0.5, 0.75, 0.375, 0.1875]);
  assert.deepEqual(s.map((x) => x.lastDirection[0]), [0, 1, -1, 1, 1, 1]);
  assert.deepEqual(s.map((x) => x.indexEma[0]), [0, 0.5, 0.25, 0.625, 0.8125, 1.40625]);
  assert.deepEqual(s.map((x) => x.frequency[1]), [0, 0, 0, 0, 0, 0]);
  assert.deepEqual(s.map((x) => x.frequency[2]), [0, 0, 0, 0, 0, 0], 'moving on in one direction is no oscillation');
  assert.deepEqual(s[5].frozen, [0, 0, 0], 'threshold 0 tracks without freezing');
});

test('trackOscillations: freezes once, at the rounded EMA of its index, and keeps that index', () => {
  const seq = [[0, 2], [1, 2], [0, 2], [1, 2], [1, 2], [2, 2], [0, 2]];
  const s = run(seq, { momentum: 0.5, threshold: 0.6 });
  // Step 3: frequency 0.75 > 0.6 -> frozen at round(EMA before the step = 0.25) = 0.
  assert.deepEqual(s.map((x) => x.frozen[0]), [0, 0, 0, 1, 1, 1, 1]);
  assert.equal(s[3].frozenIndex[0], 0);
  // From then on the weight uses index 0 whatever the optimizer does to its mean.
  assert.deepEqual(s.slice(4).map((x) => x.prevIndex[0]), [0, 0, 0]);
  assert.deepEqual(s.slice(3).map((x) => x.frozenIndex[0]), [0, 0, 0, 0], 'no re-freezing at a new index');
  assert.deepEqual(s[6].frozen[1], 0);
});

test('a layer with freezeThreshold pins oscillating means to their level, and they follow the level', () => {
  const layer = new VariationalDense({ M: 3, units: 1, seed: 3, inputShape: [2], freezeThreshold: 0.3, freezeMomentum: 0.5 });
  const model = tf.sequential({ layers: [layer] });
  assert.equal(layer.trainableWeights.length, 4, 'theta, log sigma^2, levels, bias');
  assert.equal(layer.nonTrainableWeights.length, 6, 'the tracking state');
  layer.writeLevelSlots([-1, 0, 1]);
  const setTheta = (a: number, b: number) => {
    const w = layer.getWeights();
    layer.setWeights([tf.tensor2d([[a], [b]]), ...w.slice(1)]);
  };
  // Settle both weights in their cells, then let weight 0 cross the boundary 0.5 back and forth.
  for (let i = 0; i < 3; i++) {
    setTheta(0.2, 0.9);
    layer.afterStep();
  }
  for (const a of [0.6, 0.4, 0.6, 0.4, 0.6]) {
    setTheta(a, 0.9);
    layer.afterStep();
  }
  assert.equal(layer.frozenCount(), 1);
  const theta = Array.from(layer.meansValues());
  assert.ok([0, 1].includes(theta[0]), `frozen mean sits exactly on a level, got ${theta[0]}`);
  assert.equal(theta[1], Math.fround(0.9), 'a weight that does not oscillate is left alone');
  const pinnedTo = theta[0];
  // The optimizer moves the mean away; the next afterStep pins it back, and to the level's new value.
  layer.writeLevelSlots([-1, 0.1, 1.2]);
  setTheta(-0.7, 0.9);
  layer.afterStep();
  assert.equal(layer.meansValues()[0], Math.fround(pinnedTo === 0 ? 0.1 : 1.2));
  // The state is part of the layer's weights (so checkpoints keep it) and the options of its config.
  const cfg = layer.getConfig();
  assert.equal(cfg.freezeThreshold, 0.3);
  assert.equal(cfg.freezeMomentum, 0.5);
  model.dispose();
});

test('freezing options are checked', () => {
  assert.throws(() => new VariationalDense({ M: 3, units: 1, freezeThreshold: -0.1 }), /threshold must be in \[0, 1\)/);
  assert.throws(() => new VariationalDense({ M: 3, units: 1, freezeThreshold: 0.02, freezeMomentum: 0 }), /momentum must be in \(0, 1\]/);
  const plain = new VariationalDense({ M: 3, units: 1, inputShape: [2] });
  tf.sequential({ layers: [plain] });
  assert.equal(plain.nonTrainableWeights.length, 0, 'no state without freezing');
  plain.afterStep();
  assert.equal(plain.frozenCount(), 0);
});
