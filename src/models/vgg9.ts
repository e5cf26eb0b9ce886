/**
 * VGG-9 for CIFAR (32x32x3), as in the Stochastic-Quantization Caffe prototxts (dongyp13/Stochastic-Quantization
 * CIFAR/VGG-9; docs/methods.md#reference-architectures-and-training-setups):
 *   [conv3x3-64, BN, ReLU] x2 -> maxpool2 -> dropout .25 -> [conv3x3-128, BN, ReLU] x2 -> maxpool2 -> dropout .25
 *   -> [conv3x3-256, BN, ReLU] x2 -> maxpool2 -> dropout .25 -> FC512, BN, ReLU, dropout .5 -> FC512, BN, ReLU,
 *   dropout .5 -> FC10 (logits). Convs and the two FC512 have no bias; FC10 has one.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelBuilder, QuantModelOptions, checkInputShape } from './common';

export interface Vgg9Options extends QuantModelOptions {
  /** Input [H, W, C] (default [32, 32, 3]). */
  inputShape?: [number, number, number];
  /** Dropout after each conv stage (default 0.25) and after each FC512 (default 0.5); 0 disables. */
  convDropout?: number;
  fcDropout?: number;
}

export function vgg9(opts: Vgg9Options = {}): tf.LayersModel {
  const b = new ModelBuilder(opts, 'heNormal');
  const input = tf.input({ shape: checkInputShape(opts.inputShape ?? [32, 32, 3], 'vgg9'), name: 'input' });
  const convDrop = opts.convDropout ?? 0.25;
  const fcDrop = opts.fcDropout ?? 0.5;
  let x: tf.SymbolicTensor = input;
  let n = 0;
  [64, 128, 256].forEach((filters, stage) => {
    for (let i = 0; i < 2; i++) {
      n++;
      x = b.conv(x, { name: `conv${n}`, filters, kernelSize: 3, padding: 'same', quantize: n > 1 || b.quantizeFirstLast });
      if (i === 0) x = b.bnAct(x, `conv${n}`);
      else x = b.bnActPool(x, `conv${n}`, `pool${stage + 1}`);
    }
    if (convDrop > 0) x = b.dropout(x, `drop${stage + 1}`, convDrop);
  });
  x = b.flatten(x);
  for (const i of [7, 8]) {
    x = b.bnAct(b.dense(x, { name: `fc${i}`, units: 512, useBias: false }), `fc${i}`);
    if (fcDrop > 0) x = b.dropout(x, `fc${i}_drop`, fcDrop);
  }
  const logits = b.logits(x, 'fc9');
  return tf.model({ inputs: input, outputs: logits, name: opts.name ?? 'vgg9' });
}
