/**
 * The threaded wasm build in Node (src/engine/wasmThreads.ts): the pool has one thread per core, training is bit
 * for bit the same with 1 and with N threads, and a bad thread count is refused. Each case runs in a child process,
 * because the wasm backend can be initialized only once per process.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');

/** Three Adam steps of a float and of a TWN LeNet-5 from seeded weights; prints threads and a hash of the weights. */
const SCRIPT = `
const tf = require('@tensorflow/tfjs');
const { createHash } = require('crypto');
const { initEngine } = require('./src/engine');
const { buildBenchModel, makeTrainStep } = require('./src/models/benchModels');
const { lenet5, methodOptions } = require('./src/models');
(async () => {
  const threads = process.env.T === '' ? undefined : Number(process.env.T);
  const e = await initEngine({ backend: 'wasm', threads });
  const h = createHash('sha256');
  for (const model of [buildBenchModel('lenet5').model, lenet5(methodOptions('twn'))]) {
    model.setWeights(model.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.1, 'float32', i + 10)));
    const s = makeTrainStep(model, [28, 28, 1], 64, 1);
    for (let i = 0; i < 3; i++) s.step();
    for (const w of model.getWeights()) h.update(Buffer.from(w.dataSync().buffer));
  }
  console.log(JSON.stringify({ threads: e.wasmThreads, notes: e.notes, hash: h.digest('hex') }));
})().catch((err) => { console.error(err.message); process.exit(1); });
`;

function run(threads: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', SCRIPT], {
    cwd: ROOT, encoding: 'utf8', timeout: 240_000, env: { ...process.env, T: threads, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the wasm backend starts one thread per core, and training is bit-identical with one thread', { skip: os.cpus().length < 2 && 'one core' }, () => {
  const all = run('', { QNNLAB_WASM_THREADS: '' });
  assert.equal(all.status, 0, all.stderr);
  const a = JSON.parse(all.stdout.trim().split('\n').pop()!);
  assert.equal(a.threads, os.cpus().length, `notes: ${a.notes.join('; ')}`);
  const one = run('1');
  assert.equal(one.status, 0, one.stderr);
  const b = JSON.parse(one.stdout.trim().split('\n').pop()!);
  assert.equal(b.threads, 1);
  assert.equal(a.hash, b.hash);
});

test('a bad thread count is refused before the backend starts', () => {
  const r = run('', { QNNLAB_WASM_THREADS: 'two' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /Bad wasm thread count 'two' \(from QNNLAB_WASM_THREADS\): use an integer >= 1/);
  const z = run('0');
  assert.notEqual(z.status, 0);
  assert.match(z.stderr, /Bad wasm thread count '0' \(from the threads option\)/);
});

test('when the threaded build cannot start, the engine falls back to one thread and says why', { skip: os.cpus().length < 2 && 'one core' }, () => {
  // The worker scripts cannot be written (a fresh temp folder, so nothing is cached): the init fails inside tfjs.
  const script = `
const realFs = require('fs');
realFs.renameSync = () => { throw new Error('simulated write failure'); };
(async () => {
  const tf = require('@tensorflow/tfjs');
  const { initEngine } = require('./src/engine');
  const e = await initEngine({ backend: 'wasm', threads: 2 });
  console.log(JSON.stringify({ threads: e.wasmThreads, notes: e.notes, sum: Array.from(tf.add(tf.tensor([1, 2]), tf.tensor([3, 4])).dataSync()) }));
})().catch((err) => { console.error(err.message); process.exit(1); });
`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qnnlab-threads-fallback-'));
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, TMPDIR: tmp },
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(out.threads, 1);
    assert.ok(out.notes.some((n: string) => /wasm with 2 threads: .*using the one-thread build/.test(n)), out.notes.join('; '));
    assert.deepEqual(out.sum, [4, 6]);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
