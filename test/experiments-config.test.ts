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
