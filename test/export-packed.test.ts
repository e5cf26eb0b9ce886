import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import { QuantDense, afterTrainStep } from '../src/layers';
import { lenet5, maryLenet5, methodOptions } from '../src/models';
import { summary } from '../src/summary';
import { maryMemory } from '../src/summary';
import {
  PackedFormatError, crc32, exportLayersModel, exportPacked, inspectPacked, loadPacked, packBits, packModel,
  packedByteLength, unpackBits, unpackModel,
} from '../src/export';
import { FORMAT_VERSION, PREFIX_BYTES, readContainer, writeContainer } from '../src/export/container';
import type { PackedTensorInfo } from '../src/export';

test.before(async () => {
  await initEngine({ backend: process.env.QNNLAB_BACKEND ?? 'wasm' });
});

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qnnlab-export-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A fixed batch of MNIST-shaped inputs. */
function inputs(): tf.Tensor {
  return tf.randomNormal([3, 28, 28, 1], 0, 1, 'float32', 11);
}

/** Give the batch norms non-trivial statistics, so that the comparison exercises them. */
function perturbBatchNorm(model: tf.LayersModel): void {
  let seed = 100;
  for (const l of model.layers) {
    if (l.getClassName() !== 'BatchNormalization') continue;
    l.setWeights(l.getWeights().map((w, i) => tf.tidy(() => {
      const r = tf.randomUniform(w.shape, 0.5, 1.5, 'float32', seed++);
      return i === 3 ? r : tf.mul(r, i === 1 || i === 2 ? 0.2 : 1); // gamma, beta, moving mean, moving variance
    })));
  }
}

function logits(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => Float32Array.from((model.predict(x) as tf.Tensor).dataSync() as Float32Array));
}

function bitwiseEqual(a: Float32Array, b: Float32Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

const tensorsOf = (bytes: Uint8Array): PackedTensorInfo[] => inspectPacked(bytes).header.layers.flatMap((l) => l.tensors);

test('crc32: the standard check value, zlib where Node has it, and a running checksum', () => {
  const digits = new TextEncoder().encode('123456789');
  assert.equal(crc32(digits), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37 + 11) & 0xff);
  assert.equal(crc32(data.subarray(400), crc32(data.subarray(0, 400))), crc32(data));
  const z = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32;
  if (z) assert.equal(crc32(data), z(data));
});

test('bit packing: every width from 1 to 16 round-trips, LSB first, and rejects codes that do not fit', () => {
  for (let bits = 1; bits <= 16; bits++) {
    const codes = Array.from({ length: 101 }, (_, i) => (i * 2654435761) % 2 ** bits);
    const packed = packBits(codes, bits);
    assert.equal(packed.length, packedByteLength(101, bits));
    assert.deepEqual(Array.from(unpackBits(packed, bits, 101)), codes, `${bits} bits`);
  }
  assert.deepEqual(Array.from(packBits([1, 0, 1, 1, 0, 0, 0, 0, 1], 1)), [0b00001101, 0b1]);
  assert.deepEqual(Array.from(packBits([2, 1, 0, 3], 2)), [0b11000110]);
  assert.throws(() => packBits([4], 2), /does not fit in 2 bits/);
});

interface Case {
  name: string;
  build: () => tf.LayersModel;
  /** Expected code book kind and bits of each quantized kernel. */
  kernel: { kind: string; bits: number };
  /** Per-output-channel scales the method needs beyond summary()'s count. */
  scales: boolean;
}

const quantized = (method: string, prepare?: (m: tf.LayersModel) => void) => (): tf.LayersModel => {
  const m = lenet5({ ...methodOptions(method), seed: 1 });
  prepare?.(m);
  return m;
};

const CASES: Case[] = [
  { name: 'binary-connect', build: quantized('binary-connect'), kernel: { kind: 'binary', bits: 1 }, scales: false },
  { name: 'bwn', build: quantized('bwn'), kernel: { kind: 'binary', bits: 1 }, scales: true },
  { name: 'twn', build: quantized('twn'), kernel: { kind: 'ternary', bits: 2 }, scales: true },
  { name: 'fixed-point-connect', build: quantized('fixed-point-connect'), kernel: { kind: 'fixed-point', bits: 8 }, scales: false },
  { name: 'pow2-connect', build: quantized('pow2-connect'), kernel: { kind: 'pow2', bits: 8 }, scales: false },
  // INQ's last scheduled step fixes every weight at its power of two.
  { name: 'inq', build: quantized('inq', (m) => afterTrainStep(m, 9000)), kernel: { kind: 'inq', bits: 4 }, scales: false },
  { name: 'min-max', build: quantized('min-max'), kernel: { kind: 'affine', bits: 8 }, scales: false },
  { name: 'fixed-point-net', build: quantized('fixed-point-net'), kernel: { kind: 'fixed-point', bits: 8 }, scales: false },
  { name: 'mary-lenet5 M=3', build: () => maryLenet5({ M: 3, seed: 2 }), kernel: { kind: 'levels', bits: 2 }, scales: false },
];

for (const c of CASES) {
  test(`packed ${c.name}: codes at the method's bits, size of summary(), bit-identical logits after loading`, () => {
    const model = c.build();
    perturbBatchNorm(model);
    const x = inputs();
    const before = logits(model, x);
    const bytes = packModel(model);
    const info = inspectPacked(bytes);
    const tensors = tensorsOf(bytes);
    assert.deepEqual(tensors.filter((t) => t.fallback).map((t) => `${t.name}: ${t.fallback}`), [], 'no fallback');
    const kernels = tensors.filter((t) => t.name.endsWith('/kernel'));
    assert.equal(kernels.length, 5);
    for (const k of kernels) {
      assert.equal(k.codebook.kind, c.kernel.kind, k.name);
      const bits = k.codebook.kind === 'binary' ? 1 : k.codebook.kind === 'ternary' ? 2 : (k.codebook as { bits: number }).bits;
      assert.equal(bits, c.kernel.bits, k.name);
      assert.equal(k.codes?.bytes, packedByteLength(k.shape.reduce((a, b) => a * b, 1), bits), `${k.name} packed length`);
    }

    // Size: the body is what summary() counts as deployed memory, plus the per-channel scales of BWN / TWN
    // (summary() counts their kernels at 1 / 2 bits and not the scales), within 2 % for byte rounding.
    const s = summary(model);
    const deployedBytes = s.modelSizeKiB * 1024;
    if (c.name.startsWith('mary')) assert.ok(Math.abs(s.modelSizeKiB - maryMemory(model, 3).memoryKiB) < 1e-9, 'summary() = maryMemory');
    const scaleBytes = 4 * kernels.reduce((n, k) => n + ('scales' in k.codebook ? k.codebook.scales : 0), 0);
    assert.equal(scaleBytes > 0, c.scales);
    if (c.scales) assert.equal(scaleBytes, 4 * (6 + 16 + 120 + 84 + 10), 'one float32 scale per output channel');
    assert.equal(bytes.length, PREFIX_BYTES + info.headerBytes + info.bodyBytes);
    assert.ok(info.bodyBytes >= deployedBytes + scaleBytes, `${info.bodyBytes} < ${deployedBytes} + ${scaleBytes}`);
    assert.ok(info.bodyBytes <= 1.02 * deployedBytes + scaleBytes, `${info.bodyBytes} > 1.02 * ${deployedBytes} + ${scaleBytes}`);
    assert.ok(info.headerBytes < 2500, `header ${info.headerBytes} bytes`);
    console.log(`${c.name}: file ${bytes.length} B = 20 + header ${info.headerBytes} + body ${info.bodyBytes}; ` +
      `summary() ${deployedBytes.toFixed(1)} B${c.scales ? ` + scales ${scaleBytes} B` : ''}; ` +
      `body / summary() ${(info.bodyBytes / deployedBytes).toFixed(4)}; float32 model ${(s.float32SizeKiB * 1024).toFixed(0)} B`);

    const loaded = unpackModel(bytes);
    assert.ok(bitwiseEqual(logits(loaded, x), before), 'logits bit for bit');
    tf.dispose([x]);
    model.dispose();
    loaded.dispose();
  });
}

test('exportPacked / loadPacked: a file round trip (stochastic quantization at r = 0.5 keeps its float channels)', async () => {
  const model = lenet5({ ...methodOptions('sq-bwn'), seed: 3 });
  perturbBatchNorm(model);
  const x = inputs();
  const before = logits(model, x);
  const file = path.join(tmp, 'sub', 'sq-bwn.qnnp');
  const n = await exportPacked(model, file);
  assert.equal(fs.statSync(file).size, n);
  const loaded = await loadPacked(file);
  assert.ok(bitwiseEqual(logits(loaded, x), before));
  const fc1 = tensorsOf(fs.readFileSync(file)).find((t) => t.name === 'fc1/kernel')!;
  assert.equal(fc1.codebook.kind, 'binary');
  assert.equal((fc1.codebook as { fullPrecisionChannels?: number[] }).fullPrecisionChannels?.length, 60, 'half of the 120 channels in float32');
  tf.dispose(x);
  model.dispose();
  loaded.dispose();
});

test('a Sequential model with a custom quantizer and an input quantizer round-trips exactly', () => {
  const custom = {
    spec: { name: 'halves' }, bits: 3,
    apply: (x: tf.Tensor) => tf.tidy(() => tf.div(tf.round(tf.mul(tf.clipByValue(x, -1, 1), 2)), 2)),
  };
  const model = tf.sequential({
    layers: [
      new QuantDense({ inputShape: [6], units: 5, kernelQuantizer: custom, inputQuantizer: { name: 'minMax', options: { qrMin: -1, qrMax: 1 } }, name: 'dq' }),
      tf.layers.reLU({ name: 'r' }),
      new QuantDense({ units: 3, kernelQuantizer: { name: 'binaryWeight' }, name: 'dout' }),
    ],
  });
  const x = tf.randomNormal([4, 6], 0, 1, 'float32', 5);
  const bytes = packModel(model);
  const info = inspectPacked(bytes);
  assert.equal(info.header.modelClass, 'Sequential');
  const dq = info.header.layers.find((l) => l.name === 'dq')!;
  assert.deepEqual(dq.tensors.map((t) => t.name), ['dq/kernel', 'dq/bias', 'dq/input_q_qr_min', 'dq/input_q_qr_max']);
  assert.equal(dq.tensors[0].codebook.kind, 'levels', 'an unknown quantizer: a table of its distinct values');
  assert.ok((dq.tensors[0].codebook as { bits: number }).bits <= 3);
  assert.equal(dq.tensors[0].fallback, undefined);
  const loaded = unpackModel(bytes);
  assert.ok(bitwiseEqual(logits(loaded, x), logits(model, x)));
  tf.dispose(x);
  model.dispose();
  loaded.dispose();
});

test('a kernel its code book cannot hold (INQ before any weight is fixed) falls back to float32, or throws when strict', () => {
  const model = lenet5({ ...methodOptions('inq'), seed: 1 });
  const x = inputs();
  const bytes = packModel(model);
  const k = tensorsOf(bytes).find((t) => t.name === 'fc1/kernel')!;
  assert.equal(k.codebook.kind, 'float32');
  assert.match(k.fallback ?? '', /not all representable by the 'inq' code book; stored as float32/);
  const loaded = unpackModel(bytes);
  assert.ok(bitwiseEqual(logits(loaded, x), logits(model, x)));
  assert.throws(() => packModel(model, { strict: true }), /conv1\/kernel \(kernel, inq\).*strict packing/);
  tf.dispose(x);
  model.dispose();
  loaded.dispose();
});

test('truncated, corrupted, foreign or newer files are refused with a clear error before anything is built', () => {
  const model = lenet5({ ...methodOptions('twn'), seed: 1 });
  const bytes = packModel(model);
  model.dispose();
  const refused = (b: Uint8Array, pattern: RegExp) => {
    const tensors = tf.memory().numTensors;
    assert.throws(() => unpackModel(b), (e: unknown) => e instanceof PackedFormatError && pattern.test((e as Error).message));
    assert.equal(tf.memory().numTensors, tensors, 'no tensor (no model) was created');
  };
  refused(bytes.subarray(0, bytes.length - 1), /truncated: \d+ bytes, the prefix announces \d+/);
  refused(bytes.subarray(0, 12), /truncated: 12 bytes, shorter than the 20-byte prefix/);
  refused(Uint8Array.from([...bytes, 0]), /1 bytes after its end/);
  const flipped = Uint8Array.from(bytes);
  flipped[flipped.length - 100] ^= 0x10;
  refused(flipped, /corrupted: CRC-32 0x[0-9a-f]{8}, the file says 0x[0-9a-f]{8}/);
  const newer = Uint8Array.from(bytes);
  new DataView(newer.buffer).setUint16(4, FORMAT_VERSION + 1, true);
  refused(newer, new RegExp(`format version ${FORMAT_VERSION + 1}, newer than this qnnlab reads \\(${FORMAT_VERSION}\\)`));
  const foreign = Uint8Array.from(bytes);
  foreign[0] = 0x50;
  refused(foreign, /not a qnnlab packed model/);

  // A header from a newer writer: an unknown code book, or offsets past the body (CRC recomputed, so only the header is wrong).
  const c = readContainer(bytes);
  const header = c.header as { layers: Array<{ tensors: Array<Record<string, unknown>> }> };
  const unknown = JSON.parse(JSON.stringify(header));
  unknown.layers.find((l: { tensors: unknown[] }) => l.tensors.length > 0).tensors[0].codebook = { kind: 'vector-quantized', bits: 3 };
  refused(writeContainer(unknown, c.body), /code book 'vector-quantized', which this qnnlab does not know/);
  const past = JSON.parse(JSON.stringify(header));
  const t = past.layers.flatMap((l: { tensors: unknown[] }) => l.tensors).find((x: { codes?: unknown }) => x.codes);
  t.codes.offset = c.body.length;
  refused(writeContainer(past, c.body), /its codes run past the end of the body/);
});

test('exportLayersModel: plain tf.layers model.json + weights.bin that TensorFlow.js alone loads, same logits', async () => {
  const node = process.execPath;
  for (const build of [quantized('twn'), () => maryLenet5({ M: 3, seed: 2 })]) {
    const model = build();
    perturbBatchNorm(model);
    const x = inputs();
    const expected = logits(model, x);
    const dir = path.join(tmp, `plain-${model.name}`);
    await exportLayersModel(model, dir);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    const classes = json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name);
    assert.deepEqual([...new Set(classes)].sort(), ['BatchNormalization', 'Conv2D', 'Dense', 'Flatten', 'InputLayer', 'MaxPooling2D', 'ReLU']);

    // In this process (qnnlab's file:// handler).
    const again = await tf.loadLayersModel(`file://${dir}/model.json`);
    const here = logits(again, x);
    again.dispose();
    for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(here[i] - expected[i]) <= 1e-5 * (1 + Math.abs(expected[i])), `logit ${i}`);

    // In a fresh Node process that loads only @tensorflow/tfjs (cpu backend) and reads the two files itself.
    fs.writeFileSync(path.join(tmp, 'x.json'), JSON.stringify(Array.from(x.dataSync())));
    const script = `
      const tf = require('@tensorflow/tfjs'); const fs = require('fs'); const path = require('path');
      (async () => {
        await tf.setBackend('cpu');
        const dir = ${JSON.stringify(dir)};
        const mj = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
        const w = fs.readFileSync(path.join(dir, 'weights.bin'));
        const specs = mj.weightsManifest.flatMap((g) => g.weights);
        const m = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: mj.modelTopology, weightSpecs: specs,
          weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) }));
        const x = tf.tensor(JSON.parse(fs.readFileSync(${JSON.stringify(path.join(tmp, 'x.json'))}, 'utf8')), [3, 28, 28, 1]);
        process.stdout.write(JSON.stringify(Array.from(m.predict(x).dataSync())));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const out = JSON.parse(execFileSync(node, ['-e', script], { cwd: path.join(__dirname, '..'), encoding: 'utf8' })) as number[];
    assert.equal(out.length, expected.length);
    for (let i = 0; i < out.length; i++) assert.ok(Math.abs(out[i] - expected[i]) <= 1e-4 * (1 + Math.abs(expected[i])), `logit ${i}: ${out[i]} vs ${expected[i]}`);
    tf.dispose(x);
    model.dispose();
  }
  const net = lenet5({ ...methodOptions('fixed-point-net'), seed: 1 });
  await assert.rejects(exportLayersModel(net, path.join(tmp, 'net')), /'conv1_q' \(QuantActivation\) has no plain TensorFlow.js equivalent/);
  net.dispose();
});
