/**
 * DenseNet-40 (k = 12) as in Chien & Chang's code (model.py, layers.py; docs/chien-chang-code.md#architectures;
 * deterministic weights here, the
 * Bayesian version is maryDensenet40): conv3x3-16 stem, 3 dense blocks of (depth - 4) / 3 = 12 layers
 * BN -> ReLU -> conv3x3(k) concatenated with their input, transitions BN -> ReLU -> conv1x1(theta * C)
 * -> avgpool2 with compression theta = 1.0, no bottleneck, no dropout; global average pooling -> dense.
 * With `extraRelu` (default true, as coded there) a ReLU follows every concatenation, every transition and the
 * last block (which then goes straight to pooling); with `extraRelu: false` it is the standard DenseNet
 * (final BN -> ReLU before pooling). Channels: 16 -> 160 -> 304 -> 448.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelBuilder, QuantModelOptions, checkInputShape } from './common';

export interface DenseNet40Options extends QuantModelOptions {
  /** Depth (default 40): (depth - 4) must be divisible by 3. */
  depth?: number;
  /** Growth rate k (default 12). */
  growthRate?: number;
  /** Transition compression theta (default 1.0, as hard-coded in Chien & Chang's train_densenet.py). */
  compression?: number;
  /** Channels of the stem conv (default 16). */
  stemChannels?: number;
  /** Chien & Chang's extra ReLUs (default true). */
  extraRelu?: boolean;
  /** Input [H, W, C] (default [32, 32, 3]). */
  inputShape?: [number, number, number];
}

export function densenet40(opts: DenseNet40Options = {}): tf.LayersModel {
  const depth = opts.depth ?? 40;
  if ((depth - 4) % 3 !== 0 || depth < 7) throw new Error(`densenet40: (depth - 4) must be a positive multiple of 3, got ${depth}.`);
  const perBlock = (depth - 4) / 3;
  const k = opts.growthRate ?? 12;
  const theta = opts.compression ?? 1.0;
  const extraRelu = opts.extraRelu ?? true;
  const b = new ModelBuilder(opts, 'heNormal');
  const input = tf.input({ shape: checkInputShape(opts.inputShape ?? [32, 32, 3], 'densenet40'), name: 'input' });
  let x = b.conv(input, { name: 'conv1', filters: opts.stemChannels ?? 16, kernelSize: 3, quantize: b.quantizeFirstLast });
  let channels = opts.stemChannels ?? 16;
  for (let blk = 1; blk <= 3; blk++) {
    for (let l = 1; l <= perBlock; l++) {
      const base = `block${blk}_layer${l}`;
      let h = b.bnAct(x, base);
      h = b.conv(h, { name: `${base}_conv`, filters: k, kernelSize: 3 });
      x = tf.layers.concatenate({ name: `${base}_concat`, axis: -1 }).apply([x, h]) as tf.SymbolicTensor;
      if (extraRelu) x = b.relu(x, `${base}_concat_relu`);
      channels += k;
    }
    if (blk < 3) {
      const base = `transition${blk}`;
      channels = Math.floor(theta * channels);
      let h = b.bnAct(x, base);
      h = b.conv(h, { name: `${base}_conv`, filters: channels, kernelSize: 1 });
      x = b.avgPool(h, `${base}_pool`);
      if (extraRelu) x = b.relu(x, `${base}_out_relu`);
    }
  }
  if (!extraRelu) x = b.bnAct(x, 'final');
  x = b.globalAvgPool(x, 'gap');
  const logits = b.logits(x, 'fc');
  return tf.model({ inputs: input, outputs: logits, name: opts.name ?? 'densenet40' });
}
