/**
 * The two reference models of the engine benchmark (`npm run bench`), built with tf.layers exactly as
 * scripts/bench_torch.py builds them in PyTorch (same layers, same parameter counts), plus one
 * training step (Adam, softmax cross-entropy) on random data of the right shape.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from '../layers/batchNormalization';

export type BenchModelName = 'lenet5' | 'resnet20';
export const BENCH_MODELS: BenchModelName[] = ['lenet5', 'resnet20'];

/** LeNet-5 (MNIST 28x28x1): conv 20@5x5+ReLU, maxpool 2, conv 50@5x5+ReLU, maxpool 2, dense 500+ReLU, dense 10. */
export function lenet5(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 20, kernelSize: 5, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 50, kernelSize: 5, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 500, activation: 'relu' }),
      tf.layers.dense({ units: 10 }),
    ],
  });
}

function convBn(x: tf.SymbolicTensor, filters: number, kernelSize: number, strides: number): tf.SymbolicTensor {
  const c = tf.layers.conv2d({ filters, kernelSize, strides, padding: 'same', useBias: false }).apply(x);
  return batchNormalization().apply(c) as tf.SymbolicTensor;
}

function relu(x: tf.SymbolicTensor): tf.SymbolicTensor {
  return tf.layers.activation({ activation: 'relu' }).apply(x) as tf.SymbolicTensor;
}

/** Basic block: conv3x3-BN-ReLU-conv3x3-BN + shortcut (1x1 conv + BN when the shape changes), ReLU. */
function basicBlock(x: tf.SymbolicTensor, filters: number, strides: number): tf.SymbolicTensor {
  const inChannels = x.shape[x.shape.length - 1];
  const h = convBn(relu(convBn(x, filters, 3, strides)), filters, 3, 1);
  const shortcut = strides !== 1 || inChannels !== filters ? convBn(x, filters, 1, strides) : x;
  return relu(tf.layers.add().apply([h, shortcut]) as tf.SymbolicTensor);
}

/** ResNet-20 (CIFAR 32x32x3): 3 stages x 3 basic blocks (16/32/64), projection shortcuts, GAP, dense 10. */
export function resnet20(): tf.LayersModel {
  const input = tf.input({ shape: [32, 32, 3] });
  let h = relu(convBn(input, 16, 3, 1));
  for (const [stage, filters] of [16, 32, 64].entries()) {
    for (let block = 0; block < 3; block++) h = basicBlock(h, filters, stage > 0 && block === 0 ? 2 : 1);
  }
  h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 10 }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

export function buildBenchModel(name: BenchModelName): { model: tf.LayersModel; inputShape: number[] } {
  return name === 'lenet5' ? { model: lenet5(), inputShape: [28, 28, 1] } : { model: resnet20(), inputShape: [32, 32, 3] };
}

export function countParams(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((n, w) => n + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
}

/**
 * A closure that runs one training step (softmax cross-entropy, `optimizer.minimize`; default tfjs's Adam 1e-3,
 * `npm run bench` passes the training loop's) on a fixed random batch and returns the loss (read back, so the
 * step is complete when it returns). The optimizer is disposed with the step.
 */
export function makeTrainStep(model: tf.LayersModel, inputShape: number[], batch: number, seed = 1, opt: tf.Optimizer = tf.train.adam(1e-3)): {
  step: () => number;
  dispose: () => void;
} {
  const x = tf.randomNormal([batch, ...inputShape], 0, 1, 'float32', seed);
  const y = tf.tidy(() => tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32', seed + 1), 10).toFloat());
  const step = (): number => {
    const loss = opt.minimize(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true,
    ) as tf.Scalar;
    const v = loss.dataSync()[0];
    loss.dispose();
    return v;
  };
  return { step, dispose: () => { opt.dispose(); tf.dispose([x, y]); } };
}
