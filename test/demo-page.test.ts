/**
 * `npm run demo` (src/demo): the server serves the built page, the model list and the packed files on
 * 127.0.0.1; in headless Chromium the page loads the packed models, a person clicks three MNIST test digits and
 * draws a 7 with the mouse, and every prediction the page shows (logits, probabilities, Monte-Carlo entropy of the
 * Bayesian net) equals what Node computes from the same packed file (unpackModel + predict, mcPredictPacked) on
 * the same (cpu) backend. Screenshot: build/demo.png. The browser part is skipped when Chromium is absent.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { normalizationTable } from '../src/data/normalize';
import { loadMnist } from '../src/data';
import { packModel, unpackModel, unpackPosterior } from '../src/export';
import { mcPredictPacked, softmaxRows } from '../src/export/mc';
import { findChromium } from '../src/demo/chromium';
import { driveDemo } from '../src/demo/drive';
import { MC_SAMPLES, MC_SEED, type DemoManifest } from '../src/demo/manifest';
import { centreOfMass, toMnist } from '../src/demo/preprocess';
import { startDemo, type DemoServer } from '../src/demo/server';
import { buildModel, maryLenet5, methodOptions } from '../src/models';

const root = path.resolve(__dirname, '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qnnlab-demo-'));
const modelsDir = path.join(tmp, 'models');
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Batch norms with non-trivial statistics, so the comparison exercises them. */
function perturb(model: tf.LayersModel, seed: number): void {
  for (const l of model.layers) {
    if (l.getClassName() !== 'BatchNormalization') continue;
    l.setWeights(l.getWeights().map((w, i) => tf.tidy(() => {
      const r = tf.randomUniform(w.shape, 0.5, 1.5, 'float32', seed++);
      return i === 3 ? r : tf.mul(r, i === 1 || i === 2 ? 0.2 : 1);
    })));
  }
}

/**
 * Packed models as `npm run export` writes them (with metadata): a TWN LeNet-5, a Bayesian M = 3 LeNet-5 with its
 * σ section and the same without, and a CIFAR-shaped net the page must decline. Untrained (the comparison is what
 * matters), with random batch-norm statistics and log σ² spread over [-6, -3].
 */
function writeModels(): void {
  fs.mkdirSync(modelsDir, { recursive: true });
  const twn = buildModel('lenet5', { ...methodOptions('twn'), seed: 1 });
  perturb(twn, 10);
  fs.writeFileSync(path.join(modelsDir, 'twn.qnnp'), packModel(twn, { metadata: { run: 'test', variant: 'twn', kind: 'quantized', method: 'twn' } }));
  const mary = maryLenet5({ M: 3, seed: 2, conv1Padding: 'same' });
  perturb(mary, 20);
  let s = 30;
  for (const w of mary.weights) if (w.originalName.endsWith('log_sigma2')) w.write(tf.randomUniform(w.shape as number[], -6, -3, 'float32', s++));
  const meta = { run: 'test', kind: 'bayesian', M: 3, prior: 'spikeslab' };
  fs.writeFileSync(path.join(modelsDir, 'M3.qnnp'), packModel(mary, { sigmaBits: 8, trainedSampleMode: 'sampleQuantized', metadata: { ...meta, variant: 'M3' } }));
  fs.writeFileSync(path.join(modelsDir, 'M3-no-sigma.qnnp'), packModel(mary, { metadata: { ...meta, variant: 'M3-no-sigma' } }));
  const cifar = buildModel('lenet5', { seed: 3, inputShape: [32, 32, 3] });
  fs.writeFileSync(path.join(modelsDir, 'cifar.qnnp'), packModel(cifar, { metadata: { run: 'test', variant: 'cifar', kind: 'float' } }));
  fs.writeFileSync(path.join(modelsDir, 'broken.qnnp'), Buffer.from('QNNP not really'));
  tf.dispose([twn, mary, cifar] as unknown as tf.Tensor[]);
}

test('demo: toMnist scales a drawing into 20x20 and centres its mass in 28x28', () => {
  const w = 280;
  const img = new Uint8Array(w * w);
  for (let y = 40; y < 240; y++) for (let x = 200; x < 220; x++) img[y * w + x] = 255; // a "1" far to the right
  const out = toMnist(img, w, w) as Uint8Array;
  const c = centreOfMass(out);
  assert.ok(Math.abs(c.x - 14) <= 0.5 && Math.abs(c.y - 14) <= 0.5, `centre of mass ${c.x}, ${c.y}`);
  const rows = [...Array(28).keys()].filter((y) => out.subarray(y * 28, y * 28 + 28).some((v) => v > 0));
  assert.equal(rows.length, 20, 'the taller side is 20 pixels');
  assert.equal(toMnist(new Uint8Array(w * w), w, w), null, 'nothing drawn');
});

test('demo: the server, and the page in headless Chromium predicts exactly what Node predicts from the same files', async (t) => {
  writeModels();
  const port = await freePort();
  const t0 = Date.now();
  const demo: DemoServer = await startDemo({ port, modelDirs: [modelsDir], dir: path.join(tmp, 'site'), root });
  const buildMs = Date.now() - t0;
  try {
    assert.equal(demo.url, `http://127.0.0.1:${port}/`);
    assert.ok(demo.build && demo.build.bundleBytes > 100000 && demo.build.sampleCount === 100);
    const page = await fetch(demo.url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script src="app.js"><\/script>/);
    const manifest = await (await fetch(`${demo.url}models.json`)).json() as DemoManifest;
    assert.deepEqual(manifest.models.map((m) => m.id).sort(), ['test--M3', 'test--M3-no-sigma', 'test--cifar', 'test--twn']);
    assert.deepEqual(manifest.skipped.map((s) => path.basename(s.file)), ['broken.qnnp']);
    for (const m of manifest.models) {
      const served = new Uint8Array(await (await fetch(new URL(m.url, demo.url))).arrayBuffer());
      assert.equal(m.bytes, served.length);
    }
    const m3 = manifest.models.find((m) => m.id === 'test--M3');
    assert.ok(m3 && m3.hasSigma && m3.sigmaBytes > 0 && m3.kind === 'bayesian');
    assert.equal(manifest.models.find((m) => m.id === 'test--M3-no-sigma')?.hasSigma, false);
    for (const bad of ['/../package.json', '/models/..%2Fpackage.json', '/models/nope.qnnp', '/src/demo/page.ts']) {
      assert.equal((await fetch(new URL(bad, demo.url))).status, 404, bad);
    }
    assert.equal((await fetch(demo.url, { method: 'POST' })).status, 405);

    if (!findChromium()) {
      t.skip('Chromium not found (apt-get install -y chromium, or set QNNLAB_CHROMIUM): the browser part is skipped');
      return;
    }
    const shot = path.join(root, 'build', 'demo.png');
    const t1 = Date.now();
    const r = await driveDemo(demo.url, { samples: [0, 11, 57], screenshot: shot });
    const browserMs = Date.now() - t1;
    assert.equal(r.backend, 'cpu');
    assert.equal(r.sampleCount, 100);
    assert.deepEqual(r.models.map((m) => [m.id, m.loaded]).sort(), [['test--M3', true], ['test--M3-no-sigma', true], ['test--cifar', false], ['test--twn', true]]);
    assert.match(r.models.find((m) => m.id === 'test--cifar')?.error ?? '', /not a 28x28 grey-level \(MNIST\) model/);
    assert.equal(r.results.length, 4);

    // The clicked digits are MNIST test images, with their labels.
    const mnist = loadMnist({ limitTrain: 1, limitTest: 2000 });
    for (const res of r.results.slice(0, 3)) {
      assert.equal(res.input.source, 'test');
      const i = res.input.testIndex as number;
      assert.deepEqual(res.input.pixels, Array.from(mnist.test.images.subarray(i * 784, (i + 1) * 784)));
      assert.equal(res.input.label, mnist.test.labels[i]);
    }
    assert.deepEqual(r.results.slice(0, 3).map((res) => res.input.sample), [0, 11, 57]);
    // The drawn 7: scaled into 20x20 and centred by its mass, like MNIST.
    const drawn = r.results[3].input;
    assert.equal(drawn.source, 'drawn');
    const c = centreOfMass(drawn.pixels);
    assert.ok(c.mass > 255 * 20, 'the stroke reached the models');
    assert.ok(Math.abs(c.x - 14) <= 1 && Math.abs(c.y - 14) <= 1, `centre of mass ${c.x.toFixed(2)}, ${c.y.toFixed(2)}`);

    // Node, cpu backend, the same files: the same logits bit for bit, the same probabilities and MC numbers.
    const backend = tf.getBackend();
    await tf.setBackend('cpu');
    let exactProbs = true;
    let mcDiff = 0;
    try {
      const table = normalizationTable('unit', [0], [1], 1);
      for (const id of ['test--twn', 'test--M3', 'test--M3-no-sigma']) {
        const file = path.join(modelsDir, `${id.slice('test--'.length)}.qnnp`);
        const bytes = new Uint8Array(fs.readFileSync(file));
        const model = unpackModel(bytes);
        const posterior = unpackPosterior(bytes);
        for (const res of r.results) {
          const p = res.predictions.find((q) => q.id === id);
          assert.ok(p, `${id} predicted`);
          const x = tf.tensor4d(Float32Array.from(res.input.pixels, (v) => table[v]), [1, 28, 28, 1]);
          const logits = tf.tidy(() => Float32Array.from((model.predict(x) as tf.Tensor).dataSync() as Float32Array));
          const what = `${id}, ${res.input.source} ${res.input.testIndex ?? ''}`;
          // The network is float32 arithmetic in the same tfjs cpu kernels: the same bits.
          assert.deepEqual(Float32Array.from(p.logits), logits, `${what}: logits`);
          // The softmax and the entropies use Math.exp / Math.log, which Chromium's and Node's V8 may round
          // differently in the last bit of a double; σ = exp(ln σ) too, which can move a sampled weight by one
          // float32 step: hence tolerances there.
          const probs = softmaxRows(logits, 1, 10)[0];
          assert.equal(p.predicted, probs.indexOf(Math.max(...probs)), `${what}: predicted class`);
          p.probs.forEach((v, k) => assert.ok(Math.abs(v - probs[k]) <= 1e-12, `${what}: p[${k}] ${v} vs ${probs[k]}`));
          exactProbs &&= p.probs.every((v, k) => v === probs[k]);
          if (posterior) {
            const mc = mcPredictPacked(model, posterior, x, { samples: MC_SAMPLES, seed: MC_SEED });
            assert.ok(p.mc, `${id}: Monte Carlo on the page`);
            assert.ok(Math.abs(p.mc.entropy - mc.entropy[0]) <= 1e-6, `${what}: predictive entropy ${p.mc.entropy} vs ${mc.entropy[0]}`);
            assert.ok(Math.abs(p.mc.mutualInformation - mc.mutualInformation[0]) <= 1e-6, `${what}: mutual information`);
            p.mc.probs.forEach((v, k) => assert.ok(Math.abs(v - mc.probs[0][k]) <= 1e-6, `${what}: MC p[${k}]`));
            assert.equal(p.mc.predicted, mc.probs[0].indexOf(Math.max(...mc.probs[0])));
            assert.equal(p.mc.samples, MC_SAMPLES);
            mcDiff = Math.max(mcDiff, Math.abs(p.mc.entropy - mc.entropy[0]));
          } else if (id === 'test--M3-no-sigma') {
            assert.equal(p.mc, undefined);
            assert.match(p.mcNote ?? '', /σ is not in this packed file/);
          }
          x.dispose();
        }
        model.dispose();
      }
    } finally {
      await tf.setBackend(backend);
    }
    const card = (id: string) => r.cards.find((k) => k.id === id);
    assert.match(card('test--M3')?.text ?? '', /predictive entropy \d\.\d{3} nats/);
    assert.equal(Number(card('test--M3')?.entropy), r.results[3].predictions.find((q) => q.id === 'test--M3')?.mc?.entropy);
    assert.match(card('test--M3-no-sigma')?.text ?? '', /σ is not in this packed file/);
    assert.ok((r.screenshotBytes ?? 0) > 30000 && fs.statSync(shot).size === r.screenshotBytes, 'screenshot written');
    console.log(`  demo: build + start ${buildMs} ms, browser session ${browserMs} ms; screenshot ${path.relative(root, shot)}; ` +
      `logits bit for bit, probabilities ${exactProbs ? 'bit for bit' : 'within 1e-12'}, MC entropy within ${mcDiff.toExponential(1)} nats`);
  } finally {
    await demo.close();
  }
});
