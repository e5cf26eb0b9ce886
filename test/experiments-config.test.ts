import test from 'node:test';
import assert from 'node:assert/strict';
import { applyOverrides, parseOverrideTokens, deepMerge } from '../src/experiments/config';

const defaults = { epochs: 10, lr: 0.001, prior: 'spikeslab', Ms: [2, 3, 4], live: false, optimizer: { name: 'adam', lr: 1e-3 } };

test('overrides take the type of the default', () => {
  const c = applyOverrides(defaults, parseOverrideTokens(['--epochs', '3', '--Ms=3,4', '--optimizer.lr', '0.01', '--live']));
  assert.deepEqual(c, { ...defaults, epochs: 3, Ms: [3, 4], live: true, optimizer: { name: 'adam', lr: 0.01 } });
  assert.equal(defaults.epochs, 10, 'defaults are not mutated');
});

test('unknown options and bad values are errors that say what is valid', () => {
  assert.throws(() => applyOverrides(defaults, { epoch: '3' }), /Unknown option --epoch\. Valid options .*--epochs/);
  assert.throws(() => applyOverrides(defaults, { epochs: 'ten' }), /--epochs expects a number, got 'ten'/);
  assert.throws(() => applyOverrides(defaults, { live: 'maybe' }), /expects true or false/);
  assert.throws(() => parseOverrideTokens(['epochs']), /Unexpected argument 'epochs'/);
});

test('deepMerge merges nested objects and replaces arrays', () => {
  assert.deepEqual(deepMerge(defaults, { Ms: [3], optimizer: { lr: 5 } } as never), { ...defaults, Ms: [3], optimizer: { name: 'adam', lr: 5 } });
});

test('checkMaryOptions rejects bad Bayesian options before any training, with the valid choices', async () => {
  const { checkMaryOptions } = await import('../src/experiments/maryCommon');
  const { maryLenetMnist } = await import('../src/experiments/maryLenetMnist');
  const cfg = maryLenetMnist.defaults;
  const d = cfg as typeof cfg & { freezeThreshold: number; klLayerExponent: number };
  assert.deepEqual(checkMaryOptions(cfg, cfg.priors), {
    trainForward: 'ste', perLayerMean: false, layerExponent: d.klLayerExponent, minLevelGap: 0.25, levelLrScale: 1,
    freezeLayerOptions: { freezeThreshold: d.freezeThreshold, freezeMomentum: 0.01 },
  });
  assert.equal(checkMaryOptions({ ...cfg, klNormalization: 'layerMean', levelLrScale: 0.01 }, []).levelLrScale, 0.01);
  assert.throws(() => checkMaryOptions(cfg, ['laplace']), /unknown prior 'laplace' \(use spikeslab, gaussian\)/);
  assert.throws(() => checkMaryOptions({ ...cfg, trainForward: 'sample' }, []), /--trainForward must be 'mean' or 'ste'/);
  assert.throws(() => checkMaryOptions({ ...cfg, klNormalization: 'batch' }, []), /--klNormalization must be 'elbo' or 'layerMean'/);
  assert.throws(() => checkMaryOptions({ ...cfg, minLevelGap: 1 }, []), /--minLevelGap must be in \[0, 1\)/);
  assert.throws(() => checkMaryOptions({ ...cfg, levelLrScale: 0 }, []), /--levelLrScale must be in \(0, 1\]/);
  assert.throws(() => checkMaryOptions({ ...cfg, klLayerExponent: 1.5 }, []), /--klLayerExponent must be in \[0, 1\]/);
  const layerMean = checkMaryOptions({ ...cfg, klNormalization: 'layerMean', klLayerExponent: 0.5 }, []);
  assert.deepEqual([layerMean.perLayerMean, layerMean.layerExponent], [true, 0], "'layerMean' is the exponent 1 and replaces it");
  assert.throws(() => checkMaryOptions({ ...cfg, freezeThreshold: 2 }, []), /--freezeThreshold.*threshold must be in \[0, 1\)/);
  assert.throws(() => checkMaryOptions({ ...cfg, freezeThreshold: 0.02, freezeMomentum: -1 }, []), /momentum must be in \(0, 1\]/);
});

test('maryMemory: the oscillation-tracking state is training-only, like log sigma^2', async () => {
  const { maryMemory } = await import('../src/summary');
  const { maryLenet5 } = await import('../src/models/maryLenet5');
  const { initEngine } = await import('../src/engine');
  await initEngine({ backend: 'wasm' });
  const plain = maryLenet5({ M: 3, seed: 1, conv1Padding: 'same' });
  const freezing = maryLenet5({ M: 3, seed: 1, conv1Padding: 'same', freezeThreshold: 0.02 });
  const a = maryMemory(plain, 3);
  assert.deepEqual(maryMemory(freezing, 3), a);
  // 61,470 two-bit indices, 15 float levels, 236 biases and 904 batch-norm parameters and statistics, as float32.
  assert.ok(Math.abs(a.memoryKiB - (61470 * 2 + (15 + 236 + 904) * 32) / 8 / 1024) < 1e-9, `${a.memoryKiB}`);
  plain.dispose();
  freezing.dispose();
});

test('an override of an array whose default is empty gets numbers when every element is one', async () => {
  const { applyOverrides } = await import('../src/experiments/config');
  assert.deepEqual(applyOverrides({ milestones: [] as number[], names: [] as string[] }, { milestones: '5,7', names: 'a,b' }), { milestones: [5, 7], names: ['a', 'b'] });
});
