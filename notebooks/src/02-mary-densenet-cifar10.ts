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
// `HYPER` starts from the defaults of the `mary-densenet40-cifar10` experiment
// (`src/experiments/maryDensenetCifar10.ts`), which are the code's DenseNet setup: M = 3 levels per layer, both
// priors, DenseNet-40 (3 dense blocks of 12 layers, growth rate 12), Adam with batch 64 for 195 epochs
// (`train_densenet.py`), a linear learning-rate decay from `decayStart`, the KL weight warmed up from 0 to 1 over
// `klWarmupEpochs`, gradients clamped to [-`clipValue`, `clipValue`], the code's initial log σ² of its DenseNet
// layers. A key written after the defaults replaces one. A full run is 195 epochs of DenseNet-40 over 50,000
// images per prior: plan it for a machine with `@tensorflow/tfjs-node-gpu`, not for the wasm backend.

// %%
import { maryDensenetCifar10 } from './src/experiments/maryDensenetCifar10';
import { showPlot, showTable } from './src/plots';

const RETRAIN = false; // true: train again even when results/mary-densenet40-cifar10/ holds a finished run

const HYPER = {
  ...maryDensenetCifar10.defaults, // e.g. M: 2 after this line trains binary levels
};
// CI size: the smoke preset (a DenseNet-10, 2 epochs) on 128 generated images.
const CI = { limitTrain: 128, limitTest: 64 };
showTable(Object.entries(HYPER).map(([key, value]) => ({ key: key, value: JSON.stringify(value) })), { caption: 'HYPER: the full-size configuration' });

// %% [markdown]
// ## Data

// %%
import { cifarForNotebook, describeDataset, imageGrid, classCounts } from './src/notebook/data';

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
