/**
 * CIFAR ResNets with basic blocks (He et al. 2016, section 4.2): conv3x3-16 stem, three stages of n basic
 * blocks with 16/32/64 channels (depth = 6n + 2), global average pooling, dense logits. Used by resnet20 and
 * resnet56; the variants differ in the shortcut at stage changes and in the ReLU after the sum.
 */
import * as tf from '@tensorflow/tfjs';
import { ZeroPadShortcut } from '../layers';
import { ModelBuilder, QuantModelOptions, checkInputShape } from './common';

/**
 * Shortcut when the shape changes:
 *  'projection'    1x1 conv (stride 2) + BN, "option B";
 *  'projection2x2' 2x2 conv stride 2 + BN, as in the SQ ResNet-56 prototxt ("proj");
 *  'identity'      subsample + zero-pad channels, "option A" (no parameters).
 */
export type ShortcutKind = 'projection' | 'projection2x2' | 'identity';

export interface CifarResNetOptions extends QuantModelOptions {
  /** Input [H, W, C] (default [32, 32, 3]). */
  inputShape?: [number, number, number];
}

export interface CifarResNetSpec {
  depth: number;
  shortcut: ShortcutKind;
  reluAfterSum: boolean;
  widths?: [number, number, number];
  defaultName: string;
}

export function cifarResNet(spec: CifarResNetSpec, opts: CifarResNetOptions): tf.LayersModel {
  if ((spec.depth - 2) % 6 !== 0 || spec.depth < 8) throw new Error(`CIFAR ResNet depth must be 6n+2, got ${spec.depth}.`);
  const n = (spec.depth - 2) / 6;
  const widths = spec.widths ?? [16, 32, 64];
  const b = new ModelBuilder(opts, 'heNormal');
  const input = tf.input({ shape: checkInputShape(opts.inputShape ?? [32, 32, 3], spec.defaultName), name: 'input' });
  let x = b.conv(input, { name: 'conv1', filters: widths[0], kernelSize: 3, quantize: b.quantizeFirstLast });
  x = b.bnAct(x, 'conv1');
  let channels = widths[0];
  widths.forEach((filters, s) => {
    for (let i = 0; i < n; i++) {
      const base = `s${s + 1}b${i + 1}`;
      const stride = s > 0 && i === 0 ? 2 : 1;
      let h = b.conv(x, { name: `${base}_conv1`, filters, kernelSize: 3, strides: stride });
      h = b.bnAct(h, `${base}_conv1`);
      h = b.conv(h, { name: `${base}_conv2`, filters, kernelSize: 3 });
      h = b.bnBranchEnd(h, `${base}_conv2`);
      let shortcut = x;
      if (stride !== 1 || channels !== filters) {
        if (spec.shortcut === 'identity') {
          shortcut = new ZeroPadShortcut({ name: `${base}_shortcut`, filters, stride }).apply(x) as tf.SymbolicTensor;
        } else {
          const k = spec.shortcut === 'projection2x2' ? stride : 1;
          shortcut = b.conv(x, {
            name: `${base}_proj`, filters, kernelSize: k, strides: stride, padding: k > 1 ? 'valid' : 'same',
          });
          shortcut = b.bnBranchEnd(shortcut, `${base}_proj`);
        }
      }
      x = b.residual(h, shortcut, base, spec.reluAfterSum);
      channels = filters;
    }
  });
  x = b.globalAvgPool(x, 'gap');
  const logits = b.logits(x, 'fc');
  return tf.model({ inputs: input, outputs: logits, name: opts.name ?? spec.defaultName });
}
