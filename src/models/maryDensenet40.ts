/**
 * Bayesian M-ary DenseNet-40 (k = 12, no bottleneck, compression 1) for 32×32×3 images, as built by
 * Chien & Chang's model.py / layers.py / train_densenet.py:
 *   VarConv 3→16 3×3
 *   3 dense blocks of 12 sub-blocks: BN → ReLU → VarConv 3×3 (→12), concatenated with the input, then ReLU
 *   (the code applies a ReLU to every concatenation and again after every block and transition)
 *   between blocks: BN → ReLU → VarConv 1×1 (C→C) → AvgPool 2, then ReLU
 *   global average pool (8×8) → VarFC 448 → numClasses
 * Channels 16 → 160 → 304 → 448. Convolutions have no bias (as in the code), the classifier has one.
 * Fix: the head has `numClasses` = 10 outputs for CIFAR-10 (train_densenet.py hard-codes 100 while loading
 * CIFAR-10). The code's DenseNet layers are the M = 3, log σ² = -8 ones, hence the defaults here.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/random';
import { batchNormalization } from '../layers/batchNormalization';
import { VariationalConv2D } from '../bayes/variationalConv2d';
import { VariationalDense } from '../bayes/variationalDense';
import { attachPrior } from '../bayes/modelOps';
import type { PriorSpec } from '../bayes/priors';
import type { MaryLayerOptions } from './maryLenet5';

export interface MaryDensenet40Options extends MaryLayerOptions {
  M?: number;
  prior?: PriorSpec;
  seed?: number;
  numClasses?: number;
  inputShape?: [number, number, number];
  /** 40 by default; must be 3n + 4. */
  depth?: number;
  growthRate?: number;
}

export function maryDensenet40(opts: MaryDensenet40Options = {}): tf.LayersModel {
  const {
    M = 3, prior, seed = 1, numClasses = 10, inputShape = [32, 32, 3], depth = 40, growthRate = 12, ...layerOpts
  } = opts;
  if ((depth - 4) % 3 !== 0) throw new Error(`DenseNet depth must be 3n + 4, got ${depth}`);
  const perBlock = (depth - 4) / 3;
  const rng = new Rng(seed);
  const v = { ...layerOpts, M, logSigma2Init: layerOpts.logSigma2Init ?? -8 };
  const conv = (filters: number, k: number, name: string): tf.layers.Layer =>
    new VariationalConv2D({ ...v, filters, kernelSize: k, padding: 'same', useBias: false, seed: rng.nextSeed(), name });
  const bn = (): tf.layers.Layer => batchNormalization({ momentum: 0.9, epsilon: 1e-5 });
  const relu = (x: tf.SymbolicTensor): tf.SymbolicTensor => tf.layers.reLU().apply(x) as tf.SymbolicTensor;

  const input = tf.input({ shape: inputShape });
  let h = conv(16, 3, 'var_conv0').apply(input) as tf.SymbolicTensor;
  let channels = 16;
  for (let b = 0; b < 3; b++) {
    for (let i = 0; i < perBlock; i++) {
      const y = conv(growthRate, 3, `var_block${b + 1}_conv${i + 1}`).apply(relu(bn().apply(h) as tf.SymbolicTensor)) as tf.SymbolicTensor;
      h = relu(tf.layers.concatenate({ axis: -1 }).apply([h, y]) as tf.SymbolicTensor);
      channels += growthRate;
    }
    h = relu(h); // model.py: ReLU after every block (a no-op after the sub-block ReLU, kept for fidelity)
    if (b < 2) {
      h = conv(channels, 1, `var_trans${b + 1}`).apply(relu(bn().apply(h) as tf.SymbolicTensor)) as tf.SymbolicTensor;
      h = relu(tf.layers.averagePooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor);
    }
  }
  h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  const logits = new VariationalDense({ ...v, units: numClasses, seed: rng.nextSeed(), name: 'var_fc' }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: logits, name: `mary_densenet${depth}_M${M}` });
  if (prior) attachPrior(model, prior);
  return model;
}
