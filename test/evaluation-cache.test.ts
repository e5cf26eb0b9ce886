/**
 * Saved predictor evaluations (src/experiments/evaluationCache.ts): a saved evaluation comes back equal, entropy
 * arrays included; it is refused under another key, another format or when the file is damaged; the weights digest
 * changes with any weight, trainable or not.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { EVALUATION_FORMAT, evaluationFile, evaluationKey, loadEvaluation, saveEvaluation, weightsDigest } from '../src/experiments/evaluationCache';
import { canonical } from '../src/util/canonical';
import type { PredictorEvaluation } from '../src/experiments/robustnessProtocol';

const metrics = { accuracy: 0.9, nll: 0.3, brier: 0.15, ece: 0.02, mce: 0.1, meanConfidence: 0.88, meanEntropy: 0.4, meanMutualInformation: 0.01, count: 4 };
const evaluation: PredictorEvaluation = {
  clean: metrics,
  shifts: { 'rotate-90': { ...metrics, accuracy: 0.25, meanMutualInformation: null } },
  reliability: { clean: [{ lower: 0, upper: 0.5, count: 1, accuracy: 0, confidence: 0.4 }, { lower: 0.5, upper: 1, count: 3, accuracy: 1, confidence: 0.9 }] },
  ood: [{ set: 'uniform-noise', score: 'entropy', auroc: 0.75, aupr: 0.8, nIn: 4, nOut: 4 }],
  entropy: { clean: Float64Array.from([0.1, 0.2, 1 / 3, Math.PI]), 'uniform-noise': Float64Array.from([2.3, 2.2, 1e-300, 0]) },
  validation: null,
  seconds: 1.5,
};

test('canonical: key order does not matter, values do', () => {
  assert.equal(canonical({ b: 1, a: [1, { d: 2, c: 3 }] }), '{"a":[1,{"c":3,"d":2}],"b":1}');
  assert.equal(evaluationKey({ x: 1, y: 2 }), evaluationKey({ y: 2, x: 1 }));
  assert.notEqual(evaluationKey({ x: 1 }), evaluationKey({ x: 2 }));
});

test('a saved evaluation comes back equal under its key, and is refused under another key, format or a damaged file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qnn-evalcache-'));
  assert.deepEqual(loadEvaluation(dir, 'p', 'k'), { evaluation: null, why: null }, 'nothing saved yet');
  saveEvaluation(dir, 'p', 'k', evaluation);
  assert.deepEqual(fs.readdirSync(dir), ['p.json'], 'no temporary file left');
  const back = loadEvaluation(dir, 'p', 'k');
  assert.equal(back.why, null);
  assert.deepEqual(back.evaluation, evaluation, 'every number, the entropy arrays bit for bit');
  assert.ok(back.evaluation!.entropy.clean instanceof Float64Array);

  assert.equal(loadEvaluation(dir, 'p', 'other').evaluation, null);
  assert.match(loadEvaluation(dir, 'p', 'other').why!, /other weights or evaluation settings/);
  const file = evaluationFile(dir, 'p');
  fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), format: EVALUATION_FORMAT + 1 }));
  assert.match(loadEvaluation(dir, 'p', 'k').why!, /has format/);
  fs.writeFileSync(file, '{"format": 1, "key": "k", "evalu');
  assert.match(loadEvaluation(dir, 'p', 'k').why!, /unreadable/);
  assert.throws(() => evaluationFile(dir, '../escape'), /cannot name a file/);
});

test('weightsDigest: equal for equal weights, changed by any weight, a batch-norm statistic included', async () => {
  await tf.setBackend('cpu');
  const build = () => {
    const m = tf.sequential();
    m.add(tf.layers.dense({ units: 3, inputShape: [2], kernelInitializer: 'ones' }));
    m.add(tf.layers.batchNormalization());
    return m;
  };
  const a = build();
  const b = build();
  assert.equal(weightsDigest([a]), weightsDigest([b]), 'the same weights under other layer names (a process numbers its layers)');
  assert.notEqual(weightsDigest([a]), weightsDigest([a, b]), 'two models are not one');
  const movingVar = b.layers[1].weights.find((w) => w.name.includes('moving_variance'))!;
  movingVar.write(tf.tensor1d([1, 1, 1.0000001]));
  assert.notEqual(weightsDigest([a]), weightsDigest([b]), 'a non-trainable statistic changes the digest');
});
