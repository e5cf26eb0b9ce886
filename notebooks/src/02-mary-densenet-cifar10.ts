// %% [markdown]
// # Bayesian M-ary quantization at scale: DenseNet-40 on CIFAR-10, M = 3
//
// **Reproduced:** the DenseNet experiment of J.-T. Chien and S.-T. Chang, *Bayesian asymmetric quantized neural
// networks*, Pattern Recognition 139 (2023) 109463, code
// [susan0720/Su-Ting-Chang-Adaptive-Quantization-Method-for-Deep-Bayesian-Neural-Network](https://github.com/susan0720/Su-Ting-Chang-Adaptive-Quantization-Method-for-Deep-Bayesian-Neural-Network)
// (`train_densenet.py`, `model.py`, `layers.py`; the README figure `densenet-M3.png`).
//
// DenseNet-40 (3 dense blocks of 12 layers, growth rate 12, no bottleneck, compression 1), every convolution and
// the classifier variational with M = 3 learned levels. The code trains 195 epochs with Adam 5e-3, batch 64, and
// (as published) a 100-way head on CIFAR-10 and a Gaussian prior; here the head has 10 classes and both priors
// are available. Differences from the code: `src/bayes/README.md`.
//
// **Data.** Full size needs the real CIFAR-10: `npm run data -- cifar10` downloads the official binary archive
// (170 MB), checks its MD5 and unpacks it into `data/cifar-10-batches-bin/`; offline, it says which file to copy
// where (`--from FILE` unpacks a copied archive). At CI size this notebook writes small files in the exact
// CIFAR-10 binary format (generated, not CIFAR: the class is drawn into the pixels) and trains on those.

// %%
import { initEngine } from './src/engine';
import { size } from './src/notebook';

const engine = await initEngine({ verbose: true });
console.log('notebook size: ' + size());

// %% [markdown]
// ## Hyperparameters
//
// `HYPER` is the code's DenseNet setup (the defaults of the `mary-densenet40-cifar10` experiment); a full run
// is 195 epochs of DenseNet-40 over 50,000 images per prior: plan it for a machine with
// `@tensorflow/tfjs-node-gpu`, not for the wasm backend.

// %%
const RETRAIN = false; // true: train again even when results/mary-densenet40-cifar10/ holds a finished run

const HYPER = {
  M: 3, // levels per layer, as the paper's DenseNet figure
  priors: ['spikeslab', 'gaussian'], // the paper's prior, and the Gaussian prior the published code wires up
  depth: 40, // DenseNet-40: 3 dense blocks of (40 - 4) / 3 = 12 layers
  growthRate: 12,
  epochs: 195, // train_densenet.py
  batchSize: 64,
  lr: 5e-3, // Adam
  decayStart: 50, // from epoch 50 the learning rate falls by decayPerEpoch each epoch
  decayPerEpoch: 1e-5,
  klWarmupEpochs: 15, // KL weight 0 -> 1 over the first 15 epochs
  clipValue: 1, // gradients clamped to [-1, 1], as the code
  logSigma2Init: -8, // as the code's DenseNet layers
  slabWidth: 0.075,
  mcSamples: 10,
  seed: 1,
};
// CI size: the smoke preset (a DenseNet-10, 2 epochs) on 128 generated images.
const CI = { limitTrain: 128, limitTest: 64 };

// %% [markdown]
// ## Data

// %%
import { cifarForNotebook, describeDataset, imageGrid, classCounts } from './src/notebook/data';
import { showPlot, showTable } from './src/plots';

const cifar = await cifarForNotebook(size(), { limitTrain: size() === 'ci' ? CI.limitTrain : undefined, limitTest: size() === 'ci' ? CI.limitTest : undefined });
console.log(cifar.message);
if (cifar.ds) {
  console.log(describeDataset(cifar.ds));
  await showPlot(imageGrid(cifar.ds, { count: 12 }));
}

// %% [markdown]
// ## Model

// %%
import { memoryTable } from './src/notebook/costs';

// The Bayesian network deploys a 2-bit index per weight (M = 3) plus 3 floats per layer; the float and TWN
// DenseNet-40 for comparison.
showTable(memoryTable(['densenet40', 'mary-densenet40'], ['fp', 'twn'], [HYPER.M]), { caption: 'DenseNet-40: memory and MACs per image' });

// %% [markdown]
// ## Training

// %%
import { trainOrLoad, showFigure, describeRun } from './src/notebook/runs';

const run = await trainOrLoad('mary-densenet40-cifar10', {
  hyper: HYPER, ci: { ...CI, dataDir: cifar.dir ?? '', fixture: false }, retrain: RETRAIN,
  live: { y: ['quantizationLoss', 'testAccuracy'], title: 'DenseNet-40, M = 3: quantization loss and quantized test accuracy' },
});

// %% [markdown]
// ## Figure: weight means per layer with the learned levels (the paper's densenet-M3.png)

// %%
import { histogramFigures, levelsTable, mSweepTable, memoryRows, bayesVariants } from './src/notebook/mary';

for (const f of histogramFigures(run.figures)) await showFigure(run, f);

// %%
for (const v of bayesVariants(run.variants)) showTable(levelsTable(v).slice(0, 8), { caption: 'Learned levels of ' + v.name + ' (first 8 layers)' });

// %% [markdown]
// ## Quantization loss and accuracy

// %%
import { curves } from './src/plots';
import { quantLossSpeed, CHIEN_CHANG_CLAIMS } from './src/notebook/published';

await showPlot(curves({ rows: run.history, x: 'epoch', y: ['quantizationLoss', 'testAccuracy'], color: 'variant', title: 'DenseNet-40 / CIFAR-10: quantization loss and quantized test accuracy' }));
showTable(quantLossSpeed(run.history), { caption: 'How fast the quantization loss falls (ours)' });
showTable(CHIEN_CHANG_CLAIMS, { caption: 'What the paper reports (figures only)' });

// %% [markdown]
// ## Accuracy and memory

// %%
showTable(mSweepTable(run.variants), { caption: 'Test accuracy (quantized = deployed network)' });
showTable(memoryRows(run.variants), { caption: 'Deployed memory' });
console.log(describeRun(run));

// %% [markdown]
// ## What to tweak next
//
// - `M: 2` (binary levels, 1 bit per weight) or `M: 4` (still 2 bits).
// - The code's optimizer: Adam 5e-3, batch 64, 195 epochs (see `npm run experiment -- --list` for the names).
// - Compare the priors on this network as 01 does on LeNet-5.
