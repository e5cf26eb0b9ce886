/**
 * ResNet-56 as in the Stochastic-Quantization Caffe code (dongyp13/Stochastic-Quantization CIFAR/ResNet-56;
 * docs/methods.md#reference-architectures-and-training-setups): conv3x3-16 + BN + ReLU, 3 groups x
 * 9 basic blocks (conv3x3 -> BN -> ReLU -> conv3x3 -> BN, summed with the shortcut, **no ReLU after the sum**),
 * 16/32/64 channels; the first block of groups 2 and 3 has stride 2 and a quantized 2x2 stride-2 projection
 * conv + BN as shortcut; global average pooling -> FC10. 57 quantized convs + 1 FC.
 */
import * as tf from '@tensorflow/tfjs';
import { CifarResNetOptions, ShortcutKind, cifarResNet } from './resnetCifar';

export interface ResNet56Options extends CifarResNetOptions {
  /** Shortcut at stage changes (default 'projection2x2', as in the SQ prototxt). */
  shortcut?: ShortcutKind;
  /** ReLU after each residual sum (default false, as in the SQ prototxt). */
  reluAfterSum?: boolean;
}

export function resnet56(opts: ResNet56Options = {}): tf.LayersModel {
  return cifarResNet({
    depth: 56, shortcut: opts.shortcut ?? 'projection2x2', reluAfterSum: opts.reluAfterSum ?? false, defaultName: 'resnet56',
  }, opts);
}
