import test from 'node:test';
import assert from 'node:assert/strict';
import { makeQuantizer } from '../src/quantizers';
import { METHOD_NAMES, allMethods, methodOptions, methodPreset } from '../src/models';

test('every method preset is plain data that makeQuantizer accepts', () => {
  assert.deepEqual(METHOD_NAMES, [
    'fp', 'binary-connect', 'binary-net', 'binary-weight', 'fixed-point-connect', 'fixed-point-net', 'pow2-connect',
    'pow2-net', 'inq', 'min-max', 'bwn', 'twn', 'sq-bwn', 'sq-twn',
  ]);
  for (const p of allMethods()) {
    assert.deepEqual(JSON.parse(JSON.stringify(p)), p, `${p.name} is JSON data`);
    assert.ok(p.description.length > 10 && p.source.length > 10);
    for (const spec of [p.kernelQuantizer, p.activationQuantizer, p.biasQuantizer]) {
      if (spec) assert.doesNotThrow(() => makeQuantizer(spec), `${p.name}: ${JSON.stringify(spec)}`);
    }
    assert.equal(p.activationPlacement !== undefined, p.activationQuantizer !== null, `${p.name}: placement iff activation quantizer`);
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
