import test from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { lenet5, methodOptions } from '../src/models';
import { formatSummary, summary } from '../src/summary';

test.before(async () => {
  await initEngine({ backend: process.env.QNNLAB_BACKEND ?? 'wasm' });
});

// LeNet-5 by hand: conv1 5x5x1x6 'same' on 28x28, conv2 5x5x6x16 'valid' on 14x14 -> 10x10, fc 400-120-84-10.
const KERNELS = { conv1: 5 * 5 * 1 * 6, conv2: 5 * 5 * 6 * 16, fc1: 400 * 120, fc2: 120 * 84, fc3: 84 * 10 };
const BIASES = { conv1: 6, conv2: 16, fc1: 120, fc2: 84, fc3: 10 };
const MACS = { conv1: 28 * 28 * 6 * (5 * 5 * 1), conv2: 10 * 10 * 16 * (5 * 5 * 6), fc1: 400 * 120, fc2: 120 * 84, fc3: 84 * 10 };
const BN = 4 * (6 + 16 + 120 + 84); // gamma, beta, moving mean, moving variance
const K = Object.values(KERNELS).reduce((a, b) => a + b, 0);
const B = Object.values(BIASES).reduce((a, b) => a + b, 0);
const KIB = 8 * 1024; // bits per KiB
const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9 * Math.max(1, b), `${what}: ${a} vs ${b}`);

test('LeNet-5 summary: parameters, MACs and memory at 1, 2, 8 and 32 bits, computed by hand', () => {
  assert.equal(K, 61470);
  assert.equal(K + B, 61706);
  const cases: Array<[string, number]> = [['binary-connect', 1], ['twn', 2], ['fp', 32]];
  for (const [method, bits] of cases) {
    const m = lenet5({ ...methodOptions(method), seed: 1 });
    const s = summary(m);
    for (const name of Object.keys(KERNELS) as Array<keyof typeof KERNELS>) {
      const row = s.layers.find((l) => l.name === name)!;
      assert.equal(row.type, name.startsWith('conv') ? 'QuantConv2D' : 'QuantDense');
      assert.equal(row.macs, MACS[name], `${name} MACs`);
      assert.equal(row.totalParams, KERNELS[name] + BIASES[name]);
      assert.equal(row.weightPrecision, bits);
      const expectBits: Record<number, number> = bits === 32 ? { 32: KERNELS[name] + BIASES[name] } : { [bits]: KERNELS[name], 32: BIASES[name] };
      assert.deepEqual(row.paramsByBits, expectBits, `${method} ${name}`);
      near(row.memoryKiB, (KERNELS[name] * bits + BIASES[name] * 32) / KIB, `${method} ${name} KiB`);
      assert.equal(row.inputPrecision, 32);
    }
    const bn1 = s.layers.find((l) => l.name === 'conv1_bn')!;
    // ±1 kernels (binary-connect) get a BN after the logits (4 x 10 parameters), as nnabla's binary nets.
    const bnAll = BN + (method === 'binary-connect' ? 4 * 10 : 0);
    assert.deepEqual(bn1.paramsByBits, { 32: 24 });
    assert.equal(bn1.trainableParams, 12);
    assert.equal(s.totalParams, K + B + bnAll);
    assert.equal(s.trainableParams, K + B + bnAll / 2);
    assert.equal(s.nonTrainableParams, bnAll / 2);
    near(s.modelSizeKiB, (K * bits + (B + bnAll) * 32) / KIB, `${method} model size`);
    near(s.float32SizeKiB, (K + B + bnAll) * 32 / KIB, 'float32 size');
    near(s.compressionRatio, ((K + B + bnAll) * 32) / (K * bits + (B + bnAll) * 32), 'compression');
    assert.equal(s.totalMacs, 416520);
    assert.deepEqual(s.macsByPrecision, { 32: 416520 }, 'weights-only methods: MACs at max(input, weight) = 32 bits');
    m.dispose();
  }
  // 1-bit: 8 * 1024 binary weights = 1 KiB.
  near((K * 1 + (B + BN) * 32) / KIB, 97950 / 8192, 'hand value at 1 bit');
});

test('8-bit fixed point (bias quantized too) and activation precision of the "net" variants', () => {
  const models = ['fixed-point-connect', 'fixed-point-net', 'binary-net'].map((m) => lenet5({ ...methodOptions(m), seed: 1 }));
  const [fpc, fpn, bnet] = models.map(summary);
  near(fpc.modelSizeKiB, ((K + B) * 8 + BN * 32) / KIB, '8-bit weights and biases');
  assert.deepEqual(fpc.paramsByBits, { 8: K + B, 32: BN });

  const prec = Object.fromEntries(fpn.layers.map((l) => [l.name, l.inputPrecision]));
  assert.deepEqual([prec.conv1, prec.conv2, prec.fc1, prec.fc2, prec.fc3], [32, 8, 8, 8, 8]);
  const mac8 = MACS.conv2 + MACS.fc1 + MACS.fc2 + MACS.fc3;
  assert.deepEqual(fpn.macsByPrecision, { 32: MACS.conv1, 8: mac8 });

  assert.deepEqual(bnet.macsByPrecision, { 32: MACS.conv1, 1: mac8 }, 'binary weights x binary activations');
  const text = formatSummary(bnet); // 62,610 + the logits BN of the ±1 kernels (40)
  for (const s of ['conv1 (QuantConv2D)', '# 1-bit', '# 32-bit', '1-bit MACs', '32-bit MACs', 'Model size:', 'Float-32 equivalent:',
    'Compression ratio of memory:', 'Total params:                 62,650', 'Number of MACs:               416,520']) {
    assert.ok(text.includes(s), `formatSummary lacks '${s}':\n${text}`);
  }
  models.forEach((m) => m.dispose());
});

test('INQ masks count as training-only parameters; plain tf.layers models are summarized at 32 bits', () => {
  const inqModel = lenet5({ ...methodOptions('inq'), seed: 1 });
  const inq = summary(inqModel);
  assert.equal(inq.trainingOnlyParams, K);
  assert.equal(inq.totalParams, K + B + BN + K);
  assert.deepEqual(inq.paramsByBits, { 4: K, 32: B + BN });
  near(inq.modelSizeKiB, (K * 4 + (B + BN) * 32) / KIB, 'INQ 4-bit size');
  assert.ok(formatSummary(inq).includes('Training-only params:         61,470 (not stored)'));
  inqModel.dispose();

  const seq = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 2], filters: 3, kernelSize: 3, padding: 'same' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 4 }),
    ],
  });
  const s = summary(seq);
  assert.deepEqual(s.layers.map((l) => l.macs), [8 * 8 * 3 * 9 * 2, 0, 192 * 4]);
  assert.equal(s.totalParams, seq.countParams());
  near(s.compressionRatio, 1, 'float model');
  seq.dispose();
});
