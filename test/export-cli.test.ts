/**
 * `npm run export` (src/cli/export.ts, src/experiments/exportRun.ts): tiny smoke runs of zoo-mnist (TWN) and
 * mary-lenet-mnist (M = 3, spike-and-slab) into a temporary folder, then export their variants and check that the
 * files load, reproduce the checkpoint model's logits bit for bit, carry σ for the Bayesian net, and are the size
 * summary() predicts; that bad requests fail with clear errors; and the packed format's optional σ section.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { variationalLayers } from '../src/bayes';
import { initEngine } from '../src/engine';
import {
  PackedFormatError, crc32, inspectPacked, loadPacked, mcPredictPacked, packModel, unpackModel, unpackPosterior, type PackedHeader,
} from '../src/export';
import { unpackModelAsync } from '../src/export/browser';
import { PREFIX_BYTES, readContainer, writeContainer } from '../src/export/container';
import { maryLenet5 } from '../src/models';
import {
  exportAll, exportVariant, exportableVariants, loadRunDataset, readRunInfo, rebuildVariant, testImages, type ModelsJson,
} from '../src/experiments/exportRun';
import { runExperiment } from '../src/experiments/run';
import { summary } from '../src/summary';

const root = path.resolve(__dirname, '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qnnlab-export-cli-'));
const zooDir = path.join(tmp, 'zoo-mnist');
const maryDir = path.join(tmp, 'mary-lenet-mnist');
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test.before(async () => {
  await initEngine({ backend: process.env.QNNLAB_BACKEND ?? 'wasm', verbose: false });
  await runExperiment('zoo-mnist', { smoke: true, outDir: zooDir, fresh: true, progress: 'none', overrides: { methods: 'twn' } });
  await runExperiment('mary-lenet-mnist', {
    smoke: true, outDir: maryDir, fresh: true, progress: 'none',
    overrides: { Ms: '3', priors: 'spikeslab', epochs: '1', limitTrain: '512', limitTest: '200', validation: '128', mcSamples: '2' },
  });
});

function logits(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => Float32Array.from((model.predict(x) as tf.Tensor).dataSync() as Float32Array));
}

function bitwiseEqual(a: Float32Array, b: Float32Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

/** The packed file loads and gives the rebuilt checkpoint model's logits, bit for bit, on `n` test images. */
async function reproduces(dir: string, variant: string, file: string, n = 32): Promise<void> {
  const info = readRunInfo(dir);
  const ds = await loadRunDataset(info);
  const r = await rebuildVariant(info, variant, ds);
  const { x } = testImages(ds, n, r.normalize);
  const loaded = await loadPacked(file);
  try {
    assert.equal(x.shape[0], Math.min(n, ds.test.count));
    assert.ok(bitwiseEqual(logits(r.model, x), logits(loaded, x)), `${variant}: logits of the file differ from the checkpoint model's`);
  } finally {
    x.dispose();
    loaded.dispose();
    r.model.dispose();
  }
}

/** Body bytes of the deployed model (without σ) and the scales summary() does not count (BWN/TWN's α). */
function deployedBody(bytes: Uint8Array) {
  const info = inspectPacked(bytes);
  const tensors = info.header.layers.flatMap((l) => l.tensors);
  const scales = tensors.reduce((n, t) => n + (t.codebook.kind === 'binary' || t.codebook.kind === 'ternary' ? 4 * t.codebook.scales : 0), 0);
  assert.equal(bytes.length, PREFIX_BYTES + info.headerBytes + info.bodyBytes);
  return { body: info.bodyBytes - info.posteriorBytes, scales, tensors: tensors.length, info };
}

test('export CLI: the TWN variant of a zoo-mnist smoke run -> models/twn.qnnp that reproduces the logits, at summary() size', async () => {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/export.ts', zooDir, 'twn'], { cwd: root, encoding: 'utf8', timeout: 240000 });
  assert.equal(r.status, 0, `exit ${r.status} (${r.signal}): ${r.stderr}\n${r.stdout}`);
  assert.match(r.stdout, /twn: .*twn\.qnnp \d+ B .*logits identical on 16 test images/);
  const file = path.join(zooDir, 'models', 'twn.qnnp');
  assert.ok(fs.existsSync(file));
  assert.deepEqual(fs.readdirSync(path.join(zooDir, 'models')), ['twn.qnnp'], 'no temporary file left');
  await reproduces(zooDir, 'twn', file);

  const bytes = new Uint8Array(fs.readFileSync(file));
  const { body, scales, tensors, info } = deployedBody(bytes);
  const json = JSON.parse(fs.readFileSync(path.join(zooDir, 'models.json'), 'utf8')) as ModelsJson;
  assert.equal(json.experiment, 'zoo-mnist');
  assert.equal(json.models.length, 1);
  const m = json.models[0];
  assert.equal(m.variant, 'twn');
  assert.equal(m.file, 'models/twn.qnnp');
  assert.equal(m.bytes, bytes.length);
  assert.equal(m.sigmaBytes, 0);
  // summary() counts each ternary weight at 2 bits and everything else at 32: the body holds that, plus TWN's
  // per-channel scales, plus at most one byte of rounding per tensor.
  const summaryBytes = m.summaryKiB * 1024;
  assert.ok(scales > 0, 'TWN stores its scales');
  assert.ok(body - scales >= Math.floor(summaryBytes) && body - scales <= Math.ceil(summaryBytes) + tensors,
    `body ${body} B - scales ${scales} B vs summary() ${summaryBytes} B`);
  assert.ok(m.float32KiB > 10 * m.summaryKiB);
  assert.equal(info.header.metadata?.variant, 'twn');
  assert.equal(info.header.metadata?.experiment, 'zoo-mnist');
  assert.equal(m.testAccuracy, m.summaryTestAccuracy, 'the rebuilt model reaches the accuracy summary.json reports');
  console.log(`  export CLI (twn): ${Date.now() - t0} ms, ${bytes.length} B, summary() ${summaryBytes.toFixed(1)} B + ${scales} B of scales`);
});

test('export: the Bayesian M = 3 variant with its σ section, and --all writes models.json', async () => {
  const out = path.join(tmp, 'M3.qnnp');
  const lines: string[] = [];
  const m = await exportVariant(maryDir, 'M3-spikeslab', { out, log: (l) => lines.push(l) });
  assert.equal(m.kind, 'bayesian');
  assert.ok(fs.existsSync(out));
  assert.ok(!fs.existsSync(path.join(maryDir, 'models.json')), 'an export to --out leaves models.json alone');
  await reproduces(maryDir, 'M3-spikeslab', out);

  const bytes = new Uint8Array(fs.readFileSync(out));
  const { body, tensors, info } = deployedBody(bytes);
  assert.equal(info.header.posterior?.trainedSampleMode, 'sampleQuantized');
  // Levels: ceil(log2 M)-bit indices plus M float32 levels per layer, which is what summary() counts.
  const summaryBytes = m.summaryKiB * 1024;
  assert.ok(body >= Math.floor(summaryBytes) && body <= Math.ceil(summaryBytes) + tensors, `body ${body} B vs summary() ${summaryBytes} B`);
  // σ: one 8-bit code per weight and two float32 (scale, offset) per Bayesian layer.
  const info2 = readRunInfo(maryDir);
  const ds = await loadRunDataset(info2);
  const r = await rebuildVariant(info2, 'M3-spikeslab', ds);
  const vls = variationalLayers(r.model);
  const weights = vls.reduce((n, l) => n + l.numWeights(), 0);
  assert.equal(m.sigmaBytes, weights + 8 * vls.length);
  assert.equal(summary(r.model).modelSizeKiB, m.summaryKiB);
  const posterior = unpackPosterior(bytes);
  assert.ok(posterior);
  for (const l of vls) {
    const stored = posterior.sigma.get(`${l.name}/kernel`)?.values as Float32Array;
    const logSigma2 = l.logSigma2Values();
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of logSigma2) (lo = Math.min(lo, v / 2), hi = Math.max(hi, v / 2));
    const step = (hi - lo) / 255;
    for (let i = 0; i < stored.length; i++) {
      assert.ok(Math.abs(Math.log(stored[i]) - logSigma2[i] / 2) <= step / 2 + 1e-6, `${l.name}: σ[${i}] within half an 8-bit step of ln σ`);
    }
  }
  // Monte-Carlo prediction with the file's σ: probabilities that sum to 1, entropies in [0, ln 10].
  const { x } = testImages(ds, 4, r.normalize);
  const loaded = await loadPacked(out);
  const before = logits(loaded, x);
  const mc = mcPredictPacked(loaded, posterior, x, { samples: 3, seed: 5 });
  assert.ok(bitwiseEqual(before, logits(loaded, x)), 'mcPredictPacked restores the deployed kernels');
  for (let i = 0; i < 4; i++) {
    assert.ok(Math.abs(mc.probs[i].reduce((a, b) => a + b, 0) - 1) < 1e-9);
    assert.ok(mc.entropy[i] >= 0 && mc.entropy[i] <= Math.log(10) + 1e-9);
  }
  assert.deepEqual(mcPredictPacked(loaded, posterior, x, { samples: 3, seed: 5 }).entropy, mc.entropy, 'same seed, same numbers');
  x.dispose();
  loaded.dispose();
  r.model.dispose();

  // --all: every variant with a checkpoint (the float net and the Bayesian net), and models.json.
  const all = await exportAll(maryDir, { log: () => undefined });
  assert.deepEqual(all.models.map((v) => v.variant), ['fp', 'M3-spikeslab']);
  const json = JSON.parse(fs.readFileSync(all.modelsJson, 'utf8')) as ModelsJson;
  assert.deepEqual(json.models.map((v) => [v.variant, v.file]), [['fp', 'models/fp.qnnp'], ['M3-spikeslab', 'models/M3-spikeslab.qnnp']]);
  for (const v of json.models) {
    assert.equal(v.bytes, fs.statSync(path.join(maryDir, v.file)).size);
    assert.ok(v.summaryKiB > 0 && v.float32KiB >= v.summaryKiB);
  }
  assert.equal(json.models[0].sigmaBytes, 0);
  assert.ok(json.models[1].sigmaBytes > 0);
  assert.equal(json.models[1].testAccuracy, json.models[1].summaryTestAccuracy);
});

test('export: clear errors for a missing run.json, a run.json without config, an unknown variant, a missing checkpoint', async () => {
  const none = path.join(tmp, 'empty');
  fs.mkdirSync(none);
  assert.throws(() => readRunInfo(none), /run\.json does not exist/);
  const old = path.join(tmp, 'old');
  fs.mkdirSync(old);
  fs.writeFileSync(path.join(old, 'run.json'), JSON.stringify({ experiment: 'zoo-mnist', command: 'x' }));
  assert.throws(() => readRunInfo(old), /has no configuration \("config"\)/);
  assert.throws(() => readRunInfo(path.join(tmp, 'nowhere')), /is not a folder/);

  await assert.rejects(exportVariant(maryDir, 'M9-foo'), /Unknown variant 'M9-foo'.*Variants with a checkpoint: fp, M3-spikeslab/);
  await assert.rejects(exportVariant(maryDir, 'M4-gaussian'), /No checkpoint for variant 'M4-gaussian'.*Variants with a checkpoint here: fp, M3-spikeslab/);
  await assert.rejects(exportVariant(zooDir, 'bwn'), /Unknown variant 'bwn'.*the run trained the methods twn/);
  await assert.rejects(exportVariant(zooDir, 'sq-bwn-stage2'), /intermediate stochastic-quantization stage/);
  assert.deepEqual(exportableVariants(readRunInfo(zooDir)), ['twn']);

  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/export.ts', maryDir], { cwd: root, encoding: 'utf8', timeout: 120000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /give a variant or --all; variants with a checkpoint in .*: fp, M3-spikeslab/);
});

test('export: a file that does not reproduce the logits is refused and not kept', async () => {
  const out = path.join(tmp, 'refused', 'twn.qnnp');
  // Change one float of the last layer's bias (and the CRC, so the file still loads): a consistent but wrong file.
  const tamper = (bytes: Uint8Array): Uint8Array => {
    const info = inspectPacked(bytes);
    const bias = info.header.layers.flatMap((l) => l.tensors).find((t) => t.name === 'fc3/bias');
    assert.ok(bias?.floats);
    const b = Uint8Array.from(bytes);
    const dv = new DataView(b.buffer);
    const at = PREFIX_BYTES + info.headerBytes + bias.floats.offset;
    dv.setFloat32(at, dv.getFloat32(at, true) + 0.5, true);
    dv.setUint32(16, crc32(b.subarray(PREFIX_BYTES)), true);
    return b;
  };
  await assert.rejects(exportVariant(zooDir, 'twn', { out, afterPack: tamper, evaluate: false, log: () => undefined }),
    /does not reproduce the checkpoint model's logits bit for bit on 16 test images; the file was not kept/);
  assert.deepEqual(fs.readdirSync(path.dirname(out)), [], 'neither the file nor a temporary file is left');
});

test('packed σ section: optional and checked; the browser reader (DecompressionStream) decodes what the Node reader does', async () => {
  const model = maryLenet5({ M: 3, seed: 4 });
  let s = 40;
  for (const w of model.weights) if (w.originalName.endsWith('log_sigma2')) w.write(tf.randomUniform(w.shape as number[], -7, -2, 'float32', s++));
  const plain = packModel(model);
  const withSigma = packModel(model, { sigmaBits: 8, trainedSampleMode: 'sampleQuantized', metadata: { note: 'test' } });
  const exact = packModel(model, { sigmaBits: 32 });
  assert.equal(unpackPosterior(plain), null);
  assert.equal(inspectPacked(plain).posteriorBytes, 0);
  assert.equal(inspectPacked(withSigma).posteriorBytes, unpackPosterior(withSigma)?.bytes);
  // The deployed model is the same with or without the section.
  const x = tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 3);
  const a = unpackModel(plain);
  const b = unpackModel(withSigma);
  assert.ok(bitwiseEqual(logits(a, x), logits(b, x)));
  // float32 σ is exact: exp(0.5 log σ²) rounded to float32.
  const sigma32 = unpackPosterior(exact) as NonNullable<ReturnType<typeof unpackPosterior>>;
  for (const l of variationalLayers(model)) {
    const ls2 = l.logSigma2Values();
    const got = sigma32.sigma.get(`${l.name}/kernel`)?.values as Float32Array;
    for (let i = 0; i < got.length; i += 97) assert.equal(got[i], Math.fround(Math.exp(Math.fround(0.5 * ls2[i]))));
  }
  // The browser reader, here in Node: the same header, weights and σ.
  const web = await unpackModelAsync(withSigma);
  assert.ok(bitwiseEqual(logits(web.model, x), logits(b, x)));
  assert.deepEqual(web.header, inspectPacked(withSigma).header);
  assert.deepEqual([...(web.posterior?.sigma.keys() ?? [])], [...(unpackPosterior(withSigma)?.sigma.keys() ?? [])]);
  for (const [k, v] of unpackPosterior(withSigma)?.sigma ?? []) assert.deepEqual(web.posterior?.sigma.get(k)?.values, v.values);
  await assert.rejects(unpackModelAsync(withSigma.subarray(0, withSigma.length - 1)), PackedFormatError);
  // A σ tensor that names no kernel, or has another shape, is refused before anything is built.
  const rewrite = (edit: (h: PackedHeader) => void): Uint8Array => {
    const c = readContainer(withSigma);
    const h = JSON.parse(JSON.stringify(c.header)) as PackedHeader;
    edit(h);
    return writeContainer(h, c.body);
  };
  assert.throws(() => unpackModel(rewrite((h) => (h.posterior!.tensors[0].name = 'nope/kernel'))), /posterior tensor "nope\/kernel" names no stored tensor/);
  assert.throws(() => unpackPosterior(rewrite((h) => h.posterior!.tensors[1].shape.reverse())), /has shape \[16,6,5,5\], the tensor it belongs to \[5,5,6,16\]/);
  assert.throws(() => unpackModel(rewrite((h) => ((h.posterior as unknown as Record<string, unknown>).stores = 'sigma-squared'))), /stores "sigma-squared"/);
  tf.dispose([x]);
  [a, b, web.model, model].forEach((m) => m.dispose());
});
