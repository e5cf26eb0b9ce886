/**
 * ResNet-23 of the nnabla quantization example (sony/nnabla-examples compression/cifar10/quantization/models.py,
 * `cifar10_*_resnet23_prediction`; docs/methods.md#reference-architectures-and-training-setups):
 *   conv3x3-64 (no bias) -> BN -> ReLU
 *   7 bottleneck units, C = 64: conv1x1(C/2) -> BN -> ReLU -> conv3x3(C/2) -> BN -> ReLU -> conv1x1(C) -> BN,
 *     then ReLU(h + x); the 2nd, 4th and 6th units (nnabla's "conv3", "conv5", "conv7") end with maxpool 2x2
 *   average pool 4x4 -> affine 10 (logits, with bias).
 * All convs are bias-free; the first conv and the last affine are quantized too.
 * "net" variants insert activation quantizers where nnabla does: fixed-point/pow2 net ('before-relu'):
 * BN -> Q -> ReLU in the stem and units and BN -> Q before the residual sum; binary net ('replace-relu'):
 * binary_tanh instead of every ReLU, including after the sum. min-max ('relu-bn-q'): ReLU -> BN -> Q.
 * Preprocessing (image / 255, random rotation +-0.25 rad and flips in training) belongs to the data pipeline.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelBuilder, QuantModelOptions, checkInputShape } from './common';

export interface ResNet23Options extends QuantModelOptions {
  /** Feature maps C (default 64, as in nnabla). */
  maps?: number;
  /** Input [H, W, C] (default [32, 32, 3]). */
  inputShape?: [number, number, number];
}

export function resnet23(opts: ResNet23Options = {}): tf.LayersModel {
  const maps = opts.maps ?? 64;
  if (maps % 2 !== 0) throw new Error(`resnet23: maps must be even, got ${maps}.`);
  const shape = checkInputShape(opts.inputShape ?? [32, 32, 3], 'resnet23');
  const b = new ModelBuilder(opts, 'glorotUniform');
  const input = tf.input({ shape, name: 'input' });
  let x = b.conv(input, { name: 'conv1', filters: maps, kernelSize: 3, quantize: b.quantizeFirstLast });
  x = b.bnAct(x, 'conv1');
  for (let u = 2; u <= 8; u++) {
    const base = `unit${u}`;
    let h = b.conv(x, { name: `${base}_conv1`, filters: maps / 2, kernelSize: 1 });
    h = b.bnAct(h, `${base}_conv1`);
    h = b.conv(h, { name: `${base}_conv2`, filters: maps / 2, kernelSize: 3 });
    h = b.bnAct(h, `${base}_conv2`);
    h = b.conv(h, { name: `${base}_conv3`, filters: maps, kernelSize: 1 });
    h = b.bnBranchEnd(h, `${base}_conv3`);
    x = b.residual(h, x, base, true);
    if (u === 3 || u === 5 || u === 7) x = b.maxPool(x, `${base}_pool`);
  }
  // nnabla: F.average_pooling(kernel=(4, 4)) on the final 4x4 map, i.e. a global average pool (which also
  // accepts smaller test inputs).
  x = b.globalAvgPool(x, 'avgpool');
  const logits = b.logits(x, 'affine');
  return tf.model({ inputs: input, outputs: logits, name: opts.name ?? 'resnet23' });
}
