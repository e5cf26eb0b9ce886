import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { QuantActivation, QuantConv2D, QuantDense, quantizedLayers } from '../src/layers';
import { MODEL_NAMES, buildModel, densenet40, lenet5, methodOptions, resnet20, resnet23, resnet56, vgg9 } from '../src/models';

test.before(async () => {
  await initEngine({ backend: process.env.QNNLAB_BACKEND ?? 'wasm' });
});

const size = (w: tf.LayerVariable) => w.shape.reduce<number>((x, y) => x * (y ?? 1), 1);
const trainable = (m: tf.LayersModel) => m.trainableWeights.reduce((a, w) => a + size(w), 0);
const nonTrainable = (m: tf.LayersModel) => m.nonTrainableWeights.reduce((a, w) => a + size(w), 0);
const conv = (k: number, cin: number, cout: number, bias = false) => k * k * cin * cout + (bias ? cout : 0);
const dense = (i: number, o: number, bias = true) => i * o + (bias ? o : 0);
/** BatchNorm: gamma + beta trainable, moving mean + variance not. */
const bn = (c: number) => 2 * c;

test('lenet5: 6-16-120-84-10 parameter counts by hand (with and without BN, same and valid conv1)', () => {
  const weights = conv(5, 1, 6, true) + conv(5, 6, 16, true) + dense(400, 120) + dense(120, 84) + dense(84, 10);
  assert.equal(weights, 61706, 'the classic LeNet-5 count');
  const m = lenet5({ seed: 1 });
  assert.equal(trainable(m), weights + bn(6) + bn(16) + bn(120) + bn(84));
  assert.equal(nonTrainable(m), bn(6) + bn(16) + bn(120) + bn(84));
  assert.deepEqual(m.inputs[0].shape, [null, 28, 28, 1]);
  assert.deepEqual(m.outputs[0].shape, [null, 10]);
  assert.equal(quantizedLayers(m, { includeFloat: true }).length, 5);
  m.dispose();

  const plain = lenet5({ batchNorm: false });
  assert.equal(plain.countParams(), 61706);
  assert.equal(plain.layers.filter((l) => l.getClassName() === 'BatchNormalization').length, 0);
  plain.dispose();

  // Chien & Chang's MNIST LeNet: valid conv1, flatten 4*4*16 = 256.
  const valid = lenet5({ conv1Padding: 'valid', batchNorm: false });
  assert.equal(valid.countParams(), conv(5, 1, 6, true) + conv(5, 6, 16, true) + dense(256, 120) + dense(120, 84) + dense(84, 10));
  valid.dispose();
});

test('lenet5 widths and the pool before binary activations (BinaryNet)', () => {
  const wide = lenet5({ widths: { conv1: 16 }, batchNorm: false });
  assert.equal(wide.countParams(), conv(5, 1, 16, true) + conv(5, 16, 16, true) + dense(400, 120) + dense(120, 84) + dense(84, 10));
  wide.dispose();
  assert.throws(() => lenet5({ widths: { fc1: 0 } }), /widths\.fc1 must be a positive integer/);

  const binary = { ...methodOptions('binary-net'), seed: 1 };
  const kinds = (m: tf.LayersModel) => m.layers.map((l) => l.getClassName()).filter((c) => /Pooling|QuantActivation/.test(c));
  const byMax = lenet5(binary);
  // BN -> pool -> sign: each pool comes before its binary activation.
  assert.deepEqual(kinds(byMax).slice(0, 4), ['MaxPooling2D', 'QuantActivation', 'MaxPooling2D', 'QuantActivation']);
  const byAvg = lenet5({ ...binary, binaryPool: 'average' });
  assert.deepEqual(kinds(byAvg).slice(0, 4), ['AveragePooling2D', 'QuantActivation', 'AveragePooling2D', 'QuantActivation']);
  // Float ReLU models max-pool after the activation whatever binaryPool says.
  const fp = lenet5({ binaryPool: 'average' });
  assert.ok(fp.layers.every((l) => l.getClassName() !== 'AveragePooling2D'));
  [byMax, byAvg, fp].forEach((m) => m.dispose());
});

test('resnet20: 272,474 trainable parameters with 1x1 projections (option B), 269,722 with option A', () => {
  const stem = conv(3, 3, 16) + bn(16);
  const stage1 = 3 * 2 * (conv(3, 16, 16) + bn(16));
  const stage2 = conv(3, 16, 32) + bn(32) + 5 * (conv(3, 32, 32) + bn(32));
  const stage3 = conv(3, 32, 64) + bn(64) + 5 * (conv(3, 64, 64) + bn(64));
  const proj = conv(1, 16, 32) + bn(32) + conv(1, 32, 64) + bn(64);
  const head = dense(64, 10);
  const withoutProj = stem + stage1 + stage2 + stage3 + head;
  assert.equal(withoutProj + proj, 272474);
  const b = resnet20({ seed: 1 });
  assert.equal(trainable(b), withoutProj + proj);
  assert.equal(nonTrainable(b), bn(16) + 6 * bn(16) + 7 * bn(32) + 7 * bn(64));
  assert.equal(b.layers.filter((l) => l.getClassName() === 'Add').length, 9);
  assert.equal(b.layers.filter((l) => l.getClassName() === 'ReLU').length, 1 + 9 * 2);
  assert.deepEqual(b.outputs[0].shape, [null, 10]);
  b.dispose();
  const a = resnet20({ shortcut: 'identity' });
  assert.equal(trainable(a), withoutProj);
  assert.equal(withoutProj, 269722);
  a.dispose();
});

test('resnet56 (SQ prototxt): 57 quantized convs + 1 FC, 2x2 stride-2 projections, no ReLU after the sum', () => {
  const m = resnet56({ ...methodOptions('bwn'), seed: 1 });
  const q = quantizedLayers(m);
  assert.equal(q.filter((l) => l instanceof QuantConv2D).length, 57);
  assert.equal(q.filter((l) => l instanceof QuantDense).length, 1);
  assert.equal(m.layers.filter((l) => l.getClassName() === 'ReLU').length, 28, '1 stem + 27 blocks');
  const proj = m.layers.filter((l) => l.name.endsWith('_proj')) as QuantConv2D[];
  assert.deepEqual(proj.map((l) => [l.kernelSize, l.strides, l.padding]), [[[2, 2], [2, 2], 'valid'], [[2, 2], [2, 2], 'valid']]);
  const expected =
    conv(3, 3, 16) + bn(16) +
    18 * (conv(3, 16, 16) + bn(16)) +
    conv(3, 16, 32) + 17 * conv(3, 32, 32) + 18 * bn(32) + conv(2, 16, 32) + bn(32) +
    conv(3, 32, 64) + 17 * conv(3, 64, 64) + 18 * bn(64) + conv(2, 32, 64) + bn(64) +
    dense(64, 10);
  assert.equal(trainable(m), expected);
  assert.equal(expected, 863450);
  m.dispose();
});

test('resnet23 (nnabla): 64 maps, 7 bottleneck units, 3 maxpools, all convs bias-free, first and last quantized', () => {
  const m = resnet23({ ...methodOptions('binary-connect'), seed: 1 });
  const unit = conv(1, 64, 32) + bn(32) + conv(3, 32, 32) + bn(32) + conv(1, 32, 64) + bn(64);
  // ±1 kernels: BN after the logits, as nnabla's binary_connect classifier (bn(binary_connect_affine(pl, 10))).
  assert.equal(trainable(m), conv(3, 3, 64) + bn(64) + 7 * unit + dense(64, 10) + bn(10));
  assert.equal(trainable(m), 97502);
  const q = quantizedLayers(m);
  assert.equal(q.length, 1 + 21 + 1);
  assert.ok(q.every((l) => l.kernelQuantizer?.spec.name === 'binaryConnect'));
  assert.ok(q.filter((l) => l instanceof QuantConv2D).every((l) => !(l as QuantConv2D).useBias));
  assert.equal(m.layers.filter((l) => l.getClassName() === 'MaxPooling2D').length, 3);
  assert.equal(m.layers.filter((l) => l.getClassName() === 'QuantActivation').length, 0);
  m.dispose();
  const noFirstLast = resnet23({ ...methodOptions('binary-connect'), quantizeFirstLast: false });
  assert.equal(quantizedLayers(noFirstLast).length, 21);
  noFirstLast.dispose();
});

test('vgg9 (SQ prototxt) and densenet40 (k = 12, 3 x 12 layers) parameter counts', () => {
  const v = vgg9({ seed: 1 });
  const convs = conv(3, 3, 64) + conv(3, 64, 64) + conv(3, 64, 128) + conv(3, 128, 128) + conv(3, 128, 256) + conv(3, 256, 256);
  const fcs = dense(4 * 4 * 256, 512, false) + dense(512, 512, false) + dense(512, 10, true);
  assert.equal(trainable(v), convs + fcs + bn(64) * 2 + bn(128) * 2 + bn(256) * 2 + bn(512) * 2);
  assert.equal(v.layers.filter((l) => l.getClassName() === 'Dropout').length, 5);
  v.dispose();

  const d = densenet40({ seed: 1 });
  let expected = conv(3, 3, 16);
  let c = 16;
  for (let blk = 0; blk < 3; blk++) {
    for (let l = 0; l < 12; l++) {
      expected += bn(c) + conv(3, c, 12);
      c += 12;
    }
    if (blk < 2) expected += bn(c) + conv(1, c, c);
  }
  assert.equal(c, 448);
  expected += dense(448, 10);
  assert.equal(trainable(d), expected);
  assert.equal(d.layers.filter((l) => l.getClassName() === 'Concatenate').length, 36);
  assert.equal(d.layers.filter((l) => l.getClassName() === 'AveragePooling2D').length, 2);
  d.dispose();
});

test('"net" variants put activation quantizers where nnabla does (resnet23)', () => {
  const seq = (m: tf.LayersModel, prefix: string) => m.layers.filter((l) => l.name.startsWith(prefix)).map((l) => l.getClassName());
  const bnet = resnet23({ ...methodOptions('binary-net') });
  assert.equal(bnet.layers.filter((l) => l instanceof QuantActivation).length, 1 + 7 * 3);
  assert.equal(bnet.layers.filter((l) => l.getClassName() === 'ReLU').length, 0, 'binary_tanh replaces every ReLU');
  assert.deepEqual(seq(bnet, 'unit2_'), [
    'QuantConv2D', 'BatchNormalization', 'QuantActivation', 'QuantConv2D', 'BatchNormalization', 'QuantActivation',
    'QuantConv2D', 'BatchNormalization', 'Add', 'QuantActivation',
  ]);
  bnet.dispose();
  const fpnet = resnet23({ ...methodOptions('fixed-point-net') });
  assert.deepEqual(seq(fpnet, 'unit2_'), [
    'QuantConv2D', 'BatchNormalization', 'QuantActivation', 'ReLU', 'QuantConv2D', 'BatchNormalization', 'QuantActivation', 'ReLU',
    'QuantConv2D', 'BatchNormalization', 'QuantActivation', 'Add', 'ReLU',
  ]);
  assert.deepEqual(seq(fpnet, 'conv1'), ['QuantConv2D', 'BatchNormalization', 'QuantActivation', 'ReLU']);
  const act = fpnet.layers.find((l) => l instanceof QuantActivation) as QuantActivation;
  assert.deepEqual(act.quantizer.spec, { name: 'fixedPoint', options: { bits: 8, delta: 2 ** -4 } });
  fpnet.dispose();
  const mm = resnet23({ ...methodOptions('min-max') });
  assert.deepEqual(seq(mm, 'unit2_conv1'), ['QuantConv2D', 'ReLU', 'BatchNormalization', 'QuantActivation']);
  mm.dispose();
});

test('a seed fixes the initialization; buildModel rejects unknown names', () => {
  const w = (m: tf.LayersModel) => Array.from(m.getLayer('conv2').getWeights()[0].dataSync());
  const a = lenet5({ seed: 5 });
  const b = lenet5({ seed: 5 });
  const c = lenet5({ seed: 6 });
  assert.deepEqual(w(a), w(b));
  assert.notDeepEqual(w(a), w(c));
  [a, b, c].forEach((m) => m.dispose());
  assert.throws(() => buildModel('resnet18'), /Unknown model 'resnet18'. Valid models: lenet5, vgg9, resnet20, resnet23, resnet56, densenet40/);
  assert.ok(MODEL_NAMES.includes('mary-lenet5'));
  const m = buildModel('resnet20', { shortcut: 'identity', inputShape: [8, 8, 3], numClasses: 4 });
  assert.deepEqual(m.outputs[0].shape, [null, 4]);
  m.dispose();
});

test('paper models round-trip through model.save(file://) and tf.loadLayersModel', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qnnlab-models-'));
  try {
    for (const [name, method] of [['resnet23', 'min-max'], ['resnet20', 'pow2-net']] as const) {
      const m = buildModel(name, { ...methodOptions(method), seed: 4, inputShape: [8, 8, 3] });
      const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 8);
      const before = m.predict(x) as tf.Tensor;
      await m.save(`file://${dir}/${name}`);
      const loaded = await tf.loadLayersModel(`file://${dir}/${name}`);
      assert.equal(loaded.countParams(), m.countParams());
      assert.equal(quantizedLayers(loaded).length, quantizedLayers(m).length);
      const after = loaded.predict(x) as tf.Tensor;
      assert.deepEqual(Array.from(after.dataSync()), Array.from(before.dataSync()), name);
      tf.dispose([x, before, after]);
      m.dispose();
      loaded.dispose();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
