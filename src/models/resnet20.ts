/**
 * ResNet-20 for CIFAR (3 stages x 3 basic blocks, 16/32/64 channels, BN after every conv, ReLU after each
 * residual sum). Default shortcut: 1x1 projection + BN at each stage change (option B, 272,474 trainable
 * parameters with 10 classes); `shortcut: 'identity'` gives option A (269,722 trainable parameters).
 */
import * as tf from '@tensorflow/tfjs';
import { CifarResNetOptions, ShortcutKind, cifarResNet } from './resnetCifar';

export interface ResNet20Options extends CifarResNetOptions {
  /** Shortcut at stage changes (default 'projection'). */
  shortcut?: ShortcutKind;
}

export function resnet20(opts: ResNet20Options = {}): tf.LayersModel {
  return cifarResNet({ depth: 20, shortcut: opts.shortcut ?? 'projection', reluAfterSum: true, defaultName: 'resnet20' }, opts);
}
