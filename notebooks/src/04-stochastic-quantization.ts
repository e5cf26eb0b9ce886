// %% [markdown]
// # Stochastic quantization: FWN, BWN, TWN vs SQ-BWN, SQ-TWN on VGG-9 / CIFAR-10
//
// **Reproduced:** Y. Dong, R. Ni, J. Li, Y. Chen, J. Zhu, H. Su, *Learning Accurate Low-Bit Deep Neural Networks
// with Stochastic Quantization*, BMVC 2017 (arXiv:1708.01001); code
// [dongyp13/Stochastic-Quantization](https://github.com/dongyp13/Stochastic-Quantization) (Caffe: the `Roulette()`
// of `conv_layer_{binary,ternary}.cu`, the VGG-9 prototxts and solvers, `train.sh`).
//
// Binarizing or ternarizing all weights at once loses accuracy. SQ quantizes only a share r of the output
// channels in each iteration, chosen at random with a probability that favours channels with a small relative
// quantization error e_c = ‖W_c - Q_c‖₁ / ‖W_c‖₁, keeps the rest in float, and raises r over four training stages,
// 50 % -> 75 % -> 87.5 % -> 100 %, each warm-started from the previous. At 100 % the network is fully BWN or TWN.
//
// Published accuracy (VGG-9, CIFAR-10): FWN 91.00, BWN 89.33, SQ-BWN 90.87, TWN 90.13, SQ-TWN 91.63 %, as quoted
// from the paper's Table 1 by the third-party report in
// [JonahMiller/Stochastic-Quantization](https://github.com/JonahMiller/Stochastic-Quantization) (`report.pdf`,
// Table 2), which also gives its own PyTorch reproduction; the paper's ResNet-56 numbers could not be found.
//
// **Data.** Full size needs the real CIFAR-10 (`npm run data -- cifar10`, see 02). At CI size the notebook
// writes generated files in the CIFAR-10 binary format (not CIFAR) and trains a few batches on them.

// %%
import { initEngine } from './src/engine';
import { size } from './src/notebook';

const engine = await initEngine({ verbose: true });
console.log('notebook size: ' + size());

// %% [markdown]
// ## Hyperparameters
//
// `HYPER` starts from the defaults of the `sq-vgg9-cifar10` experiment (`src/experiments/cifarZoo.ts`), which
// are the SQ code's VGG-9 solver: SGD with momentum 0.9, learning rate 0.1, weight decay 1e-4, batch 100,
// 100k iterations per stage with the rate x0.1 every 15k, here in epochs of the 50,000 training images (200
// epochs per single-stage method and per SQ stage, the step every 30); the prototxts mirror and crop 32 of 32,
// so no shift. A key written after the defaults replaces one.

// %%
import { sqVgg9Cifar10 } from './src/experiments/cifarZoo';
import { showTable } from './src/plots';

const RETRAIN = false; // true: train again even when results/sq-vgg9-cifar10/ holds a finished run

const HYPER = {
  ...sqVgg9Cifar10.defaults, // e.g. epochs: 20 after this line for a short schedule
};
const CI = { limitTrain: 48, limitTest: 48 };
showTable(Object.entries(HYPER).map(([key, value]) => ({ key: key, value: JSON.stringify(value) })), { caption: 'HYPER: the full-size configuration' });

// %% [markdown]
// ## The roulette selection, illustrated
//
// A kernel of 16 output channels in which channel c is a mix of weights that are already ±1 (zero BWN error) and
// Gaussian weights, in proportion c / 15, so e_c grows with c. Drawing the selection 2000 times at r = 50 %
// estimates each channel's probability of being quantized:
//
// - the **paper's rule** draws the channels to *quantize*, each draw with probability ∝ 1/e_c (g linear);
// - the **Caffe code** draws the channels to *keep in float*, each draw with probability ∝ e_c.
//
// Both favour quantizing channels with small errors. They are different distributions, but on this kernel
// their probabilities come out close.

// %%
import { rouletteDemo, stageRows, stageBaselines } from './src/notebook/sq';
import { scatter } from './src/notebook/specs';
import { showPlot, sqStages } from './src/plots';

const demo = rouletteDemo({ channels: 16, ratio: 0.5, draws: 2000 });
await showPlot(scatter({ rows: demo.rows, x: 'relativeError', y: 'probabilityQuantized', color: 'selection', colors: ['#e15759', '#4e79a7'], line: true, title: 'SQ at r = 50 %: probability that a channel is quantized', titles: { relativeError: 'relative BWN error e_c of the channel', probabilityQuantized: 'probability of being quantized' } }));

// %% [markdown]
// ## Data

// %%
import { cifarForNotebook, describeDataset, imageGrid } from './src/notebook/data';

const cifar = await cifarForNotebook(size(), { limitTrain: size() === 'ci' ? CI.limitTrain : undefined, limitTest: size() === 'ci' ? CI.limitTest : undefined });
console.log(cifar.message);
if (cifar.ds) {
  console.log(describeDataset(cifar.ds));
  await showPlot(imageGrid(cifar.ds, { count: 12 }));
}

// %% [markdown]
// ## Model: VGG-9

// %%
import { buildModel, methodOptions } from './src/models';
import { formatSummary } from './src/summary';

const vgg = buildModel('vgg9', { ...methodOptions('sq-twn'), seed: 1 });
const vggSummary = formatSummary(vgg);
vgg.dispose();
console.log(vggSummary);

// %% [markdown]
// ## Training
//
// FWN, BWN and TWN train one stage; SQ-BWN and SQ-TWN train four stages (r = 50, 75, 87.5, 100 %). During stages
// 1-3 the test accuracy is that of the hybrid network, as in the paper; only stage 4 is fully quantized.

// %%
import { trainOrLoad, showFigure, describeRun } from './src/notebook/runs';

const run = await trainOrLoad('sq-vgg9-cifar10', {
  hyper: HYPER, ci: { ...CI, dataDir: cifar.dir ?? '', fixture: false }, retrain: RETRAIN,
  live: { y: ['testAccuracy', 'trainLoss'], title: 'VGG-9 / CIFAR-10 while training' },
});

// %% [markdown]
// ## Figure: accuracy after each SQ stage
//
// Dashed: the single-stage baselines. SQ-BWN and SQ-TWN should end above BWN and TWN.

// %%
await showPlot(sqStages({ rows: stageRows(run.variants), baselines: stageBaselines(run.variants), title: 'VGG-9 / CIFAR-10: test accuracy after each SQ ratio stage' }));

// %%
await showFigure(run, 'accuracy');

// %% [markdown]
// ## Comparison with the published numbers

// %%
import { compareWithPublished, comparisonRows, SQ_PAPER_VGG9_CIFAR10, SQ_REIMPL_VGG9_CIFAR10 } from './src/notebook/published';
import { groupedBars } from './src/notebook/specs';

if (run.source === 'smoke') console.log('CI size: "ours" is a few batches on generated images, not comparable with the published numbers.');
const published = [SQ_PAPER_VGG9_CIFAR10, SQ_REIMPL_VGG9_CIFAR10];
showTable(compareWithPublished(run.variants, published), { caption: 'VGG-9 / CIFAR-10 test accuracy (%): ours vs ' + SQ_PAPER_VGG9_CIFAR10.source });
await showPlot(groupedBars({ rows: comparisonRows(run.variants, published), x: 'method', group: 'source', y: 'testAccuracy', colors: ['#f28e2b', '#4e79a7', '#a0cbe8'], title: 'VGG-9 / CIFAR-10: ours and published' }));
console.log(describeRun(run));

// %% [markdown]
// ## What to tweak next
//
// - `sq-resnet56-cifar10`: the paper's ResNet-56 setup (pass the name to `trainOrLoad`).
// - The selection rule and probability function: `rule: 'code'` or `g: 'constant' | 'sigmoid' | 'softmax'` in
//   the SQ presets of `src/models/methods.ts`; `rouletteDemo({ g: 'softmax' })` shows the effect first.
// - Fewer epochs per stage (`epochs`) to see how much of SQ's gain survives a short schedule.
