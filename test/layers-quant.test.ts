import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine';
import {
  QuantActivation, QuantConv2D, QuantDense, ZeroPadShortcut, afterTrainStep, quantizedLayers,
} from '../src/layers';
import { registerFileRouter } from '../src/models';
import type { AddWeight, Quantizer } from '../src/quantizers/types';

test.before(async () => {
  await initEngine({ backend: process.env.QNNLAB_BACKEND ?? 'wasm' });
  registerFileRouter();
});

/** sign with sign(0) = +1 and a straight-through (identity) gradient; records the training flags it sees. */
function signQuantizer(log: boolean[] = []): Quantizer {
  const ste = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    value: tf.tidy(() => tf.sub(tf.mul(tf.cast(tf.greaterEqual(args[0] as tf.Tensor, 0), 'float32'), 2), 1)),
    gradFunc: (dy: tf.Tensor) => tf.clone(dy),
  }));
  return {
    spec: { name: 'testSign' },
    bits: 1,
    apply: (x, training) => {
      log.push(training);
      return ste(x);
    },
  };
}

/** round to integers with a straight-through gradient. */
function roundQuantizer(): Quantizer {
  const ste = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    value: tf.round(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => tf.clone(dy),
  }));
  return { spec: { name: 'testRound' }, bits: 4, apply: (x) => ste(x) };
}

const arr2 = (t: tf.Tensor) => t.arraySync() as number[][];

function close(a: number[], b: number[], tol = 1e-5, what = ''): void {
  assert.equal(a.length, b.length, `${what}: length ${a.length} vs ${b.length}`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

const sign = (v: number) => (v >= 0 ? 1 : -1);

test('QuantDense forward equals the hand computation: round(x) . sign(W) + b', () => {
  const x = [[1.2, 2.6, -1.4], [0.4, -2.2, 3.0]];
  const W = [[0.3, -0.2], [-0.5, 0.1], [0, 0.7]];
  const b = [0.1, -0.1];
  const layer = new QuantDense({ units: 2, kernelQuantizer: signQuantizer(), inputQuantizer: roundQuantizer() });
  layer.apply(tf.zeros([1, 3]));
  layer.setWeights([tf.tensor2d(W), tf.tensor1d(b)]);
  const y = arr2(layer.apply(tf.tensor2d(x)) as tf.Tensor);
  for (let n = 0; n < 2; n++) {
    for (let j = 0; j < 2; j++) {
      let s = b[j];
      for (let i = 0; i < 3; i++) s += Math.round(x[n][i]) * sign(W[i][j]);
      assert.ok(Math.abs(y[n][j] - s) < 1e-6, `y[${n}][${j}] = ${y[n][j]}, hand ${s}`);
    }
  }
  assert.equal(layer.kernelBits, 1);
  assert.equal(layer.inputBits, 4);
  assert.equal(layer.biasBits, 32);
  assert.deepEqual(layer.computeOutputShape([null, 3]), [null, 2]);
  layer.dispose();
});

/** Reference NHWC convolution (tf conventions for 'same' padding: extra padding at the bottom/right). */
function convRef(x: number[][][][], k: number[][][][], stride: number, padding: 'same' | 'valid'): number[][][][] {
  const [N, H, W, C] = [x.length, x[0].length, x[0][0].length, x[0][0][0].length];
  const [KH, KW, , F] = [k.length, k[0].length, k[0][0].length, k[0][0][0].length];
  const OH = padding === 'same' ? Math.ceil(H / stride) : Math.ceil((H - KH + 1) / stride);
  const OW = padding === 'same' ? Math.ceil(W / stride) : Math.ceil((W - KW + 1) / stride);
  const padTop = padding === 'same' ? Math.floor(Math.max((OH - 1) * stride + KH - H, 0) / 2) : 0;
  const padLeft = padding === 'same' ? Math.floor(Math.max((OW - 1) * stride + KW - W, 0) / 2) : 0;
  const out: number[][][][] = [];
  for (let n = 0; n < N; n++) {
    out.push([]);
    for (let oh = 0; oh < OH; oh++) {
      out[n].push([]);
      for (let ow = 0; ow < OW; ow++) {
        const cell: number[] = [];
        for (let f = 0; f < F; f++) {
          let s = 0;
          for (let kh = 0; kh < KH; kh++) {
            for (let kw = 0; kw < KW; kw++) {
              const ih = oh * stride + kh - padTop;
              const iw = ow * stride + kw - padLeft;
              if (ih < 0 || iw < 0 || ih >= H || iw >= W) continue;
              for (let c = 0; c < C; c++) s += x[n][ih][iw][c] * k[kh][kw][c][f];
            }
          }
          cell.push(s);
        }
        out[n][oh].push(cell);
      }
    }
  }
  return out;
}

test('QuantConv2D forward equals a hand-written convolution with sign(W), stride 1 valid and stride 2 same', () => {
  const xT = tf.randomNormal([2, 5, 5, 2], 0, 1, 'float32', 11);
  const kT = tf.randomNormal([3, 3, 2, 3], 0, 1, 'float32', 12);
  const x = xT.arraySync() as number[][][][];
  const kq = (kT.arraySync() as number[][][][]).map((a) => a.map((b) => b.map((c) => c.map(sign))));
  for (const [stride, padding] of [[1, 'valid'], [2, 'same']] as const) {
    const layer = new QuantConv2D({ filters: 3, kernelSize: 3, strides: stride, padding, useBias: false, kernelQuantizer: signQuantizer() });
    layer.apply(xT);
    layer.setWeights([kT]);
    const y = layer.apply(xT) as tf.Tensor;
    const ref = convRef(x, kq, stride, padding);
    assert.deepEqual(y.shape, [2, ref[0].length, ref[0][0].length, 3]);
    assert.deepEqual(layer.computeOutputShape([null, 5, 5, 2]), [null, ref[0].length, ref[0][0].length, 3]);
    close(Array.from(y.dataSync()), ref.flat(3), 1e-5, `conv stride ${stride} ${padding}`);
    assert.equal(layer.macsPerSample([null, 5, 5, 2]), ref[0].length * ref[0][0].length * 3 * 9 * 2);
    y.dispose();
    layer.dispose();
  }
  xT.dispose();
  kT.dispose();
});

test('gradients reach the latent kernel through the straight-through estimator', () => {
  const x = tf.tensor2d([[1, 2, -1], [0.5, -2, 3]]);
  const dense = new QuantDense({ units: 2, kernelQuantizer: signQuantizer() });
  dense.apply(x);
  const kv = dense.latentKernel().read() as tf.Variable;
  const { grads } = tf.variableGrads(() => tf.sum(dense.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, [kv]);
  // d sum(x . Q) / dQ[i][j] = sum_n x[n][i], passed unchanged to W by the STE.
  assert.deepEqual(arr2(grads[kv.name]), [[1.5, 1.5], [0, 0], [2, 2]]);
  tf.dispose(grads);

  const xc = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 5);
  const conv = new QuantConv2D({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', kernelQuantizer: signQuantizer() });
  conv.apply(xc);
  const cv = conv.latentKernel().read() as tf.Variable;
  const w = tf.randomNormal([2, 3, 3, 3], 0, 1, 'float32', 6); // weights of the loss: sum(w * y)
  const got = tf.variableGrads(() => tf.sum(tf.mul(w, conv.apply(xc, { training: true }) as tf.Tensor)) as tf.Scalar, [cv]).grads[cv.name];
  const q = conv.quantizedKernel();
  const want = tf.grad((k: tf.Tensor) => tf.sum(tf.mul(w, tf.conv2d(xc as tf.Tensor4D, k as tf.Tensor4D, 2, 'same'))))(q);
  close(Array.from(got.dataSync()), Array.from(want.dataSync()), 1e-4, 'conv dW');
  assert.ok(tf.max(tf.abs(got)).dataSync()[0] > 0);
  tf.dispose([x, xc, w, got, q, want]);
  dense.dispose();
  conv.dispose();
});

test('the training flag comes from kwargs.training (layer and model)', () => {
  const log: boolean[] = [];
  const input = tf.input({ shape: [3] });
  const out = new QuantDense({ units: 2, kernelQuantizer: signQuantizer(log) }).apply(input) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  const x = tf.ones([1, 3]);
  log.length = 0;
  tf.dispose(model.apply(x, { training: true }) as tf.Tensor);
  assert.deepEqual(log, [true]);
  log.length = 0;
  tf.dispose(model.predict(x) as tf.Tensor);
  tf.dispose(model.apply(x) as tf.Tensor);
  assert.deepEqual(log, [false, false]);
  x.dispose();
  model.dispose();
});

test('quantizer weights are created through the layer, get gradients, and afterStep sees the latent kernel', () => {
  const steps: Array<[number, tf.Variable]> = [];
  let mask: tf.LayerVariable | null = null;
  let scale: tf.LayerVariable | null = null;
  const scaled: Quantizer = {
    spec: { name: 'testScaled' },
    bits: 3,
    build(shape: number[], addWeight: AddWeight) {
      scale = addWeight('scale', [1], { className: 'Constant', config: { value: 2 } }, true);
      mask = addWeight('mask', shape, 'zeros', false);
    },
    apply: (x) => tf.mul(x, scale!.read()),
    afterStep: (step, latent) => { steps.push([step, latent]); },
    quantizedValue: (latent) => tf.mul(latent, 10),
  };
  const input = tf.input({ shape: [4] });
  const h = new QuantDense({ units: 3, kernelQuantizer: scaled, name: 'qd' }).apply(input) as tf.SymbolicTensor;
  const out = new QuantDense({ units: 2, name: 'plain' }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  const layer = model.getLayer('qd') as QuantDense;
  assert.deepEqual(layer.trainableWeights.map((w) => w.originalName), ['qd/kernel', 'qd/bias', 'qd/kernel_q_scale']);
  assert.deepEqual(layer.nonTrainableWeights.map((w) => w.originalName), ['qd/kernel_q_mask']);
  assert.equal(layer.quantizerWeights.length, 2);
  assert.equal(layer.summaryWeightBits(mask!), 0, 'a kernel-sized non-trainable quantizer weight is training-only');
  assert.equal(layer.summaryWeightBits(scale!), 32);
  assert.equal(layer.summaryWeightBits(layer.latentKernel()), 3);

  const sv = scale!.read() as tf.Variable;
  const x = tf.randomNormal([2, 4], 0, 1, 'float32', 1);
  const { grads } = tf.variableGrads(() => tf.sum(model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, [sv]);
  assert.ok(Math.abs(grads[sv.name].dataSync()[0]) > 0, 'the quantizer parameter gets a gradient');
  tf.dispose(grads);

  assert.deepEqual(quantizedLayers(model).map((l) => l.name), ['qd']);
  assert.deepEqual(quantizedLayers(model, { includeFloat: true }).map((l) => l.name), ['qd', 'plain']);
  afterTrainStep(model, 7);
  assert.equal(steps.length, 1);
  assert.equal(steps[0][0], 7);
  assert.equal(steps[0][1], layer.latentKernel().read());

  const qk = layer.quantizedKernel();
  close(Array.from(qk.dataSync()), Array.from(layer.latentKernel().read().dataSync()).map((v) => v * 10), 1e-6, 'quantizedValue');
  const plain = (model.getLayer('plain') as QuantDense).quantizedKernel();
  assert.notEqual(plain, (model.getLayer('plain') as QuantDense).latentKernel().read(), 'a copy, not the variable');
  tf.dispose([x, qk, plain]);
  model.dispose();
});

test('QuantActivation applies its quantizer and owns its weights (real minMax and binaryTanh specs)', () => {
  const x = tf.tensor2d([[-7, -0.3, 0, 0.2, 5]]);
  const bin = new QuantActivation({ quantizer: { name: 'binaryTanh' } });
  assert.deepEqual(arr2(bin.apply(x) as tf.Tensor), [[-1, -1, -1, 1, 1]]);
  assert.equal(bin.bits, 1);
  const mm = new QuantActivation({ quantizer: { name: 'minMax', options: { qlMin: 0, qlMax: 255, qrMin: -6, qrMax: 6 } } });
  const y = mm.apply(x) as tf.Tensor;
  assert.equal(mm.bits, 8);
  assert.ok(mm.weights.length >= 2, 'learned range variables live in the layer');
  const v = y.dataSync();
  assert.ok(Math.abs(v[0] - -6) < 0.05 && Math.abs(v[4] - 5) < 0.05, `clipped/quantized: ${Array.from(v)}`);
  tf.dispose([x, y]);
  bin.dispose();
  mm.dispose();
});

test('unknown quantizer names and bad layer arguments fail with clear errors', () => {
  assert.throws(() => new QuantDense({ units: 2, kernelQuantizer: { name: 'binaryConect' } }), /binaryConect.*Valid names: .*binaryConnect/);
  assert.throws(() => new QuantDense({ units: 0 }), /units must be a positive integer/);
  assert.throws(() => new QuantConv2D({ filters: 2, kernelSize: 3, padding: 'causal' as 'same' }), /padding must be 'same' or 'valid'/);
  assert.throws(() => new QuantDense({ units: 2, kernelInitializer: 'glorotUniformm' }), /initializer/);
});

test('getConfig / fromConfig round trip with real quantizer specs', () => {
  const conv = new QuantConv2D({
    name: 'qc', filters: 4, kernelSize: [3, 2], strides: 2, padding: 'same', useBias: true,
    kernelInitializer: tf.initializers.heNormal({ seed: 3 }),
    kernelQuantizer: { name: 'fixedPoint', options: { bits: 6, delta: 0.125 } },
    inputQuantizer: { name: 'binaryTanh' },
    biasQuantizer: { name: 'fixedPoint', options: { bits: 8 } },
  });
  const cfg = conv.getConfig();
  assert.deepEqual(cfg.kernelQuantizer, { name: 'fixedPoint', options: { bits: 6, delta: 0.125 } });
  assert.deepEqual(cfg.kernelSize, [3, 2]);
  const again = QuantConv2D.fromConfig(QuantConv2D, cfg) as QuantConv2D;
  assert.deepEqual(again.getConfig(), cfg);
  assert.equal(again.kernelBits, 6);
  assert.equal(again.inputBits, 1);

  const dense = new QuantDense({ name: 'qdd', units: 3, useBias: false, kernelQuantizer: { name: 'ternaryWeight', options: { deltaRule: 'sqCode' } } });
  const dcfg = dense.getConfig();
  assert.deepEqual((QuantDense.fromConfig(QuantDense, dcfg) as QuantDense).getConfig(), dcfg);
  const act = new QuantActivation({ name: 'qa', quantizer: { name: 'pow2', options: { bits: 4, m: 1 } } });
  assert.deepEqual((QuantActivation.fromConfig(QuantActivation, act.getConfig()) as QuantActivation).getConfig(), act.getConfig());
});

test('model.save to file:// and tf.loadLayersModel give identical predictions', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qnnlab-layers-'));
  try {
    const input = tf.input({ shape: [6, 6, 2] });
    let h = new QuantConv2D({
      name: 'c1', filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      kernelQuantizer: { name: 'minMax', options: { qrMin: -2, qrMax: 2 } },
      biasQuantizer: { name: 'fixedPoint', options: { bits: 8, delta: 2 ** -4 } },
    }).apply(input) as tf.SymbolicTensor;
    h = tf.layers.batchNormalization({ name: 'bn' }).apply(h) as tf.SymbolicTensor;
    h = new QuantActivation({ name: 'q1', quantizer: { name: 'binaryTanh' } }).apply(h) as tf.SymbolicTensor;
    h = new ZeroPadShortcut({ name: 'pad', filters: 6, stride: 2 }).apply(h) as tf.SymbolicTensor;
    h = new QuantConv2D({
      name: 'c2', filters: 3, kernelSize: 1, useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      kernelQuantizer: { name: 'binaryWeight' }, inputQuantizer: { name: 'binaryTanh' },
    }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
    const out = new QuantDense({
      name: 'd', units: 5, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      kernelQuantizer: { name: 'ternaryWeight', options: { deltaRule: 'sqCode' } },
    }).apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    // Move the BN statistics and the learned ranges away from their initial values.
    const x = tf.randomNormal([3, 6, 6, 2], 0, 1, 'float32', 9);
    const opt = tf.train.adam(0.05);
    for (let i = 0; i < 2; i++) opt.minimize(() => tf.sum(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar);
    const before = model.predict(x) as tf.Tensor;

    await model.save(`file://${dir}`);
    assert.ok(fs.existsSync(path.join(dir, 'model.json')) && fs.existsSync(path.join(dir, 'weights.bin')));
    const loaded = await tf.loadLayersModel(`file://${dir}/model.json`);
    assert.ok(loaded.getLayer('c1') instanceof QuantConv2D);
    assert.ok(loaded.getLayer('q1') instanceof QuantActivation);
    assert.ok(loaded.getLayer('pad') instanceof ZeroPadShortcut);
    assert.deepEqual((loaded.getLayer('d') as QuantDense).getConfig().kernelQuantizer, { name: 'ternaryWeight', options: { deltaRule: 'sqCode' } });
    assert.equal(loaded.weights.length, model.weights.length);
    const after = loaded.predict(x) as tf.Tensor;
    assert.deepEqual(Array.from(after.dataSync()), Array.from(before.dataSync()));
    tf.dispose([x, before, after]);
    opt.dispose();
    model.dispose();
    loaded.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('ZeroPadShortcut subsamples and zero-pads channels, and passes gradients', () => {
  const x = tf.tensor4d(Array.from({ length: 2 * 4 * 4 * 2 }, (_, i) => i), [2, 4, 4, 2]);
  const layer = new ZeroPadShortcut({ filters: 4, stride: 2 });
  const y = layer.apply(x) as tf.Tensor;
  assert.deepEqual(y.shape, [2, 2, 2, 4]);
  const v = y.arraySync() as number[][][][];
  const xv = x.arraySync() as number[][][][];
  assert.deepEqual(v[1][1][0], [0, xv[1][2][0][0], xv[1][2][0][1], 0]);
  const g = tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t) as tf.Tensor))(x);
  assert.equal(tf.sum(g).dataSync()[0], 2 * 2 * 2 * 2);
  tf.dispose([x, y, g]);
});
