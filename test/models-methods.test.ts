import test from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../src/engine';
import { makeQuantizer } from '../src/quantizers';
import type { QuantizerSpec } from '../src/quantizers/types';
import { METHOD_NAMES, allMethods, lenet5, methodOptions, methodPreset } from '../src/models';
import type { ActivationPlacement, MethodName } from '../src/models';
import { summary } from '../src/summary';

test.before(async () => {
  await initEngine({ backend: process.env.QNNLAB_BACKEND ?? 'wasm' });
});

test('every method preset is plain data that makeQuantizer accepts', () => {
  assert.deepEqual(METHOD_NAMES, [
    'fp', 'binary-connect', 'binary-net', 'binary-weight', 'fixed-point-connect', 'fixed-point-net', 'pow2-connect',
    'pow2-net', 'inq', 'min-max', 'bwn', 'twn', 'sq-bwn', 'sq-twn',
  ]);
  for (const p of allMethods()) {
    assert.deepEqual(JSON.parse(JSON.stringify(p)), p, `${p.name} is JSON data`);
    const origin = ['bwn', 'twn', 'sq-bwn', 'sq-twn'].includes(p.name) ? 'dongyp13/Stochastic-Quantization' : 'sony/nnabla-examples';
    assert.ok(p.source.startsWith(origin), `${p.name}: source names ${origin}: ${p.source}`);
    for (const spec of [p.kernelQuantizer, p.activationQuantizer, p.biasQuantizer]) {
      if (spec) assert.doesNotThrow(() => makeQuantizer(spec), `${p.name}: ${JSON.stringify(spec)}`);
    }
    assert.equal(p.activationPlacement !== undefined, p.activationQuantizer !== null, `${p.name}: placement iff activation quantizer`);
  }
});

/**
 * What each preset wires in: [quantizer name, bits] of the kernel, the activations and the bias (null: float32),
 * and the activation placement. docs/methods.md describes the methods.
 */
const WIRING: Record<MethodName, { kernel: [string, number] | null; act: [string, number] | null; bias: [string, number] | null; placement?: ActivationPlacement }> = {
  'fp': { kernel: null, act: null, bias: null },
  'binary-connect': { kernel: ['binaryConnect', 1], act: null, bias: null },
  'binary-net': { kernel: ['binaryConnect', 1], act: ['binaryTanh', 1], bias: null, placement: 'replace-relu' },
  'binary-weight': { kernel: ['binaryWeight', 1], act: null, bias: null },
  'fixed-point-connect': { kernel: ['fixedPoint', 8], act: null, bias: ['fixedPoint', 8] },
  'fixed-point-net': { kernel: ['fixedPoint', 8], act: ['fixedPoint', 8], bias: ['fixedPoint', 8], placement: 'before-relu' },
  'pow2-connect': { kernel: ['pow2', 8], act: null, bias: ['pow2', 8] },
  'pow2-net': { kernel: ['pow2', 8], act: ['pow2', 8], bias: ['pow2', 8], placement: 'before-relu' },
  'inq': { kernel: ['inq', 4], act: null, bias: null },
  'min-max': { kernel: ['minMax', 8], act: ['minMax', 8], bias: ['minMax', 8], placement: 'relu-bn-q' },
  'bwn': { kernel: ['binaryWeight', 1], act: null, bias: null },
  'twn': { kernel: ['ternaryWeight', 2], act: null, bias: null },
  'sq-bwn': { kernel: ['stochasticQuantization', 1], act: null, bias: null },
  'sq-twn': { kernel: ['stochasticQuantization', 2], act: null, bias: null },
};

function wiring(spec: QuantizerSpec | null): [string, number] | null {
  return spec ? [spec.name, makeQuantizer(spec).bits] : null;
}

// LeNet-5 20-50-500 as lenet5() builds it: kernels and biases of conv1, conv2, fc1, fc2, fc3 (test/summary-lenet5.test.ts).
const KERNELS: Record<string, number> = { conv1: 150, conv2: 2400, fc1: 48000, fc2: 10080, fc3: 840 };
const BIASES: Record<string, number> = { conv1: 6, conv2: 16, fc1: 120, fc2: 84, fc3: 10 };

test('each preset wires in its quantizers (name, bits) and LeNet-5 summary() stores its weights at those bits', () => {
  assert.deepEqual(Object.keys(WIRING), METHOD_NAMES);
  for (const p of allMethods()) {
    const want = WIRING[p.name];
    assert.deepEqual(wiring(p.kernelQuantizer), want.kernel, `${p.name}: kernel quantizer`);
    assert.deepEqual(wiring(p.activationQuantizer), want.act, `${p.name}: activation quantizer`);
    assert.deepEqual(wiring(p.biasQuantizer), want.bias, `${p.name}: bias quantizer`);
    assert.equal(p.activationPlacement, want.placement, `${p.name}: activation placement`);

    const kBits = want.kernel?.[1] ?? 32;
    const bBits = want.bias?.[1] ?? 32;
    const aBits = want.act?.[1] ?? 32;
    const model = lenet5({ ...methodOptions(p.name), seed: 1 });
    const s = summary(model);
    for (const name of Object.keys(KERNELS)) {
      const row = s.layers.find((l) => l.name === name)!;
      assert.equal(row.weightPrecision, kBits, `${p.name} ${name}: bits per weight`);
      const stored = row.paramsByBits;
      if (kBits === bBits) assert.equal(stored[kBits], KERNELS[name] + BIASES[name], `${p.name} ${name}: kernel and bias at ${kBits} bits`);
      else assert.deepEqual([stored[kBits], stored[bBits]], [KERNELS[name], BIASES[name]], `${p.name} ${name}: kernel / bias bits`);
      // The first layer reads the float32 image; the others read the quantized activations.
      assert.equal(row.inputPrecision, name === 'conv1' ? 32 : aBits, `${p.name} ${name}: input precision`);
    }
    const K = Object.values(KERNELS).reduce((a, b) => a + b, 0);
    const B = Object.values(BIASES).reduce((a, b) => a + b, 0);
    if (kBits !== 32) assert.equal(s.paramsByBits[kBits], K + (bBits === kBits ? B : 0), `${p.name}: parameters stored at ${kBits} bits`);
    // Only INQ keeps training-only state (one mask entry per kernel weight).
    assert.equal(s.trainingOnlyParams, p.name === 'inq' ? K : 0, `${p.name}: training-only parameters`);
    assert.ok(s.compressionRatio >= (kBits === 32 ? 1 : 3), `${p.name}: compression ${s.compressionRatio}`);
    if (kBits === 32) assert.equal(s.compressionRatio, 1);
    model.dispose();
  }
});

test('nnabla defaults: 8 bits, delta 2^-4, pow2 m = 1, INQ 4 bits, min-max 0..255 with [-2, 2] / [-6, 6]', () => {
  assert.deepEqual(methodPreset('fixed-point-net').activationQuantizer, { name: 'fixedPoint', options: { bits: 8, delta: 0.0625 } });
  assert.equal(makeQuantizer(methodPreset('fixed-point-connect').kernelQuantizer!).bits, 8);
  assert.equal(methodPreset('pow2-connect').kernelQuantizer!.options!.m, 1);
  assert.equal(methodPreset('pow2-connect').kernelQuantizer!.options!.withZero, false);
  assert.equal(methodPreset('pow2-net').activationQuantizer!.options!.withZero, true);
  assert.equal(makeQuantizer(methodPreset('inq').kernelQuantizer!).bits, 4);
  assert.deepEqual(methodPreset('min-max').kernelQuantizer!.options, { qlMin: 0, qlMax: 255, qrMin: -2, qrMax: 2 });
  assert.deepEqual(methodPreset('min-max').activationQuantizer!.options, { qlMin: 0, qlMax: 255, qrMin: -6, qrMax: 6 });
  assert.equal(methodPreset('binary-net').activationPlacement, 'replace-relu');
  assert.equal(methodPreset('fp').kernelQuantizer, null);
});

test('unknown methods list the valid names; sqRatio sets the SQ stage', () => {
  assert.throws(() => methodPreset('binary'), /Unknown quantization method 'binary'. Valid methods: fp, binary-connect, .*sq-twn\./);
  assert.equal(methodOptions('sq-twn', { sqRatio: 0.875 }).kernelQuantizer!.options!.ratio, 0.875);
  assert.equal(methodPreset('sq-twn').kernelQuantizer!.options!.ratio, 0.5, 'presets are copies');
  assert.throws(() => methodOptions('bwn', { sqRatio: 0.5 }), /sqRatio applies to the SQ methods/);
});
