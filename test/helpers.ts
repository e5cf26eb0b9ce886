/** Small shared fixtures for tests: a learnable synthetic image dataset and a tiny seeded conv net. */
import * as tf from '@tensorflow/tfjs';
import type { ImageDataset, ImageSplit } from '../src/data';
import { Rng } from '../src/util/random';

/** Label = which quadrant of an 8x8 image is bright (4 classes), plus noise: learnable in a few steps. */
export function quadrantDataset(nTrain: number, nTest: number, seed = 7): ImageDataset {
  const rng = new Rng(seed);
  const make = (n: number): ImageSplit => {
    const images = new Uint8Array(n * 64);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const c = rng.int(4);
      labels[i] = c;
      for (let h = 0; h < 8; h++) {
        for (let w = 0; w < 8; w++) {
          const q = (h < 4 ? 0 : 2) + (w < 4 ? 0 : 1);
          images[i * 64 + h * 8 + w] = Math.min(255, (q === c ? 160 : 30) + rng.int(60));
        }
      }
    }
    return { images, labels, count: n };
  };
  return {
    name: 'mnist', height: 8, width: 8, channels: 1, numClasses: 4, classNames: ['tl', 'tr', 'bl', 'br'],
    train: make(nTrain), test: make(nTest), mean: [0.3], std: [0.3], source: 'synthetic',
  };
}

export function tinyConvNet(seed = 3): tf.LayersModel {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed * 100 + s });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: init(1) }),
      tf.layers.batchNormalization(),
      tf.layers.reLU(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dropout({ rate: 0.2 }),
      tf.layers.dense({ units: 4, kernelInitializer: init(2) }),
    ],
  });
}
