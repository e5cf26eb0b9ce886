/**
 * Bayesian M-ary LeNet-5 (6-16-120-84-10), the MNIST variant of Chien & Chang's
 * models/variational_dropout_lenet_nonsym.py:
 *   VarConv 1→6 k5 → BN → ReLU → MaxPool2 → VarConv 6→16 k5 → BN → ReLU → MaxPool2 → flatten (4·4·16 = 256)
 *   → VarFC 120 → BN → ReLU → VarFC 84 → BN → ReLU → VarFC 10 → logits
 * Fixes of the published forward: no sigmoid after the variational layers (it squashed the logits before
 * the cross-entropy) and the KL of every layer counts once (see src/bayes/README.md).
 * With inputShape [32, 32, 3] this is the code's CIFAR-10 variant (flatten 400).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/random';
import { batchNormalization } from '../layers/batchNormalization';
import { VariationalConv2D } from '../bayes/variationalConv2d';
import { VariationalDense } from '../bayes/variationalDense';
import { attachPrior } from '../bayes/modelOps';
import type { PriorSpec } from '../bayes/priors';
import type { VariationalBaseArgs } from '../bayes/variationalLayer';

export type MaryLayerOptions = Omit<VariationalBaseArgs, 'M' | 'numLevels' | 'seed' | 'name' | 'inputShape' | 'batchInputShape' | 'trainable'>;

export interface MaryLenet5Options extends MaryLayerOptions {
  /** Levels per layer, 2..8. */
  M: number;
  /** The prior the model is trained with (attached to the model, used by klDivergence(model)). */
  prior?: PriorSpec;
  seed?: number;
  inputShape?: [number, number, number];
  numClasses?: number;
  /**
   * Padding of the first convolution: 'valid' (default, the code's MNIST LeNet, 4·4·16 = 256 features into fc1)
   * or 'same' (LeCun's 32×32 input, 5·5·16 = 400: the same network as the float LeNet-5 baseline).
   */
  conv1Padding?: 'valid' | 'same';
  /** BatchNorm momentum (Keras convention; default 0.9 = the code's PyTorch 0.1). */
  bnMomentum?: number;
}

export function maryLenet5(opts: MaryLenet5Options): tf.LayersModel {
  const { prior, seed = 1, inputShape = [28, 28, 1], numClasses = 10, conv1Padding = 'valid', bnMomentum = 0.9, ...layerOpts } = opts;
  const rng = new Rng(seed);
  const v = { ...layerOpts, logSigma2Init: layerOpts.logSigma2Init ?? -10 };
  const bnSeedless = (): tf.layers.Layer => batchNormalization({ momentum: bnMomentum, epsilon: 1e-5 });

  const input = tf.input({ shape: inputShape });
  let h = new VariationalConv2D({ ...v, filters: 6, kernelSize: 5, padding: conv1Padding, seed: rng.nextSeed(), name: 'var_conv1' }).apply(input) as tf.SymbolicTensor;
  h = bnSeedless().apply(h) as tf.SymbolicTensor;
  h = tf.layers.reLU().apply(h) as tf.SymbolicTensor;
  h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
  h = new VariationalConv2D({ ...v, filters: 16, kernelSize: 5, seed: rng.nextSeed(), name: 'var_conv2' }).apply(h) as tf.SymbolicTensor;
  h = bnSeedless().apply(h) as tf.SymbolicTensor;
  h = tf.layers.reLU().apply(h) as tf.SymbolicTensor;
  h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  h = new VariationalDense({ ...v, units: 120, seed: rng.nextSeed(), name: 'var_fc1' }).apply(h) as tf.SymbolicTensor;
  h = bnSeedless().apply(h) as tf.SymbolicTensor;
  h = tf.layers.reLU().apply(h) as tf.SymbolicTensor;
  h = new VariationalDense({ ...v, units: 84, seed: rng.nextSeed(), name: 'var_fc2' }).apply(h) as tf.SymbolicTensor;
  h = bnSeedless().apply(h) as tf.SymbolicTensor;
  h = tf.layers.reLU().apply(h) as tf.SymbolicTensor;
  const logits = new VariationalDense({ ...v, units: numClasses, seed: rng.nextSeed(), name: 'var_fc3' }).apply(h) as tf.SymbolicTensor;

  const model = tf.model({ inputs: input, outputs: logits, name: `mary_lenet5_M${opts.M}` });
  if (prior) attachPrior(model, prior);
  return model;
}
