/**
 * LeNet-5 for MNIST (28x28x1), the classic 6-16-120-84-10:
 *   conv5x5-6 (same) -> [BN] -> ReLU -> maxpool2 -> conv5x5-16 (valid) -> [BN] -> ReLU -> maxpool2
 *   -> flatten (5*5*16 = 400) -> dense 120 -> [BN] -> ReLU -> dense 84 -> [BN] -> ReLU -> dense 10 (logits).
 * 'same' padding on conv1 plays the role of LeCun's 32x32 input; with padding 'valid' the network is the
 * MNIST LeNet of Chien & Chang's code (flatten 4*4*16 = 256). BN after every hidden layer as in that code.
 * With `dropout` > 0 a dropout layer (McDropout: it can stay on at inference for Monte-Carlo dropout) goes before
 * each of the three dense layers; the default adds none, so the network is unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import type { PaddingMode } from '../layers';
import { McDropout } from '../layers/mcDropout';
import { ModelBuilder, QuantModelOptions, checkInputShape } from './common';

export interface LeNet5Options extends QuantModelOptions {
  /** BatchNorm after conv and hidden dense layers (default true). */
  batchNorm?: boolean;
  /** Padding of the first conv (default 'same'). */
  conv1Padding?: PaddingMode;
  /** Biases on conv and hidden dense layers (default true, classic LeNet-5). */
  useBias?: boolean;
  /**
   * Pool before a binary activation (BinaryNet): 'max' (default) or 'average' (nnabla's binary LeNet;
   * 96.76 % against max's 97.68 % for BinaryNet in zoo-mnist's 15-epoch run, so not the default).
   * Ignored for float or ReLU-based activations, which always max-pool after the activation.
   */
  binaryPool?: 'max' | 'average';
  /**
   * Layer widths (default the classic 6-16-120-84). Binary-activation networks need more maps after conv1:
   * nnabla's BinaryNet LeNet uses 16.
   */
  widths?: Partial<LeNet5Widths>;
  /** Input [H, W, C] (default [28, 28, 1]). */
  inputShape?: [number, number, number];
  /**
   * Dropout rate before each dense layer (fc1, fc2, fc3), in [0, 1); default 0: no dropout layers. The layers are
   * McDropout, so `setMonteCarloDropout(model, true)` keeps them on at inference (Monte-Carlo dropout).
   */
  dropout?: number;
}

export interface LeNet5Widths {
  conv1: number;
  conv2: number;
  fc1: number;
  fc2: number;
}

export const LENET5_WIDTHS: Readonly<LeNet5Widths> = { conv1: 6, conv2: 16, fc1: 120, fc2: 84 };

export function lenet5(opts: LeNet5Options = {}): tf.LayersModel {
  const b = new ModelBuilder(opts, 'glorotUniform');
  const bnOn = opts.batchNorm ?? true;
  const useBias = opts.useBias ?? true;
  const input = tf.input({ shape: checkInputShape(opts.inputShape ?? [28, 28, 1], 'lenet5'), name: 'input' });
  const fl = b.quantizeFirstLast;
  const w = { ...LENET5_WIDTHS, ...opts.widths };
  for (const [k, v] of Object.entries(w)) {
    if (!(Number.isInteger(v) && v >= 1)) throw new Error(`lenet5: widths.${k} must be a positive integer, got ${v}`);
  }
  let x = b.conv(input, { name: 'conv1', filters: w.conv1, kernelSize: 5, padding: opts.conv1Padding ?? 'same', useBias, quantize: fl });
  x = b.bnActPool(x, 'conv1', 'pool1', bnOn, opts.binaryPool);
  x = b.conv(x, { name: 'conv2', filters: w.conv2, kernelSize: 5, padding: 'valid', useBias });
  x = b.bnActPool(x, 'conv2', 'pool2', bnOn, opts.binaryPool);
  const rate = opts.dropout ?? 0;
  if (!(typeof rate === 'number' && rate >= 0 && rate < 1)) throw new Error(`lenet5: dropout must be in [0, 1), got ${rate}`);
  const drop = (t: tf.SymbolicTensor, name: string) => (rate > 0 ? new McDropout({ name, rate }).apply(t) as tf.SymbolicTensor : t);
  x = b.flatten(x);
  x = b.bnAct(b.dense(drop(x, 'fc1_dropout'), { name: 'fc1', units: w.fc1, useBias }), 'fc1', bnOn);
  x = b.bnAct(b.dense(drop(x, 'fc2_dropout'), { name: 'fc2', units: w.fc2, useBias }), 'fc2', bnOn);
  const logits = b.logits(drop(x, 'fc3_dropout'), 'fc3');
  return tf.model({ inputs: input, outputs: logits, name: opts.name ?? 'lenet5' });
}
