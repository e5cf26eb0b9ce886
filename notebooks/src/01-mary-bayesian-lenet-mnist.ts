// %% [markdown]
// # Bayesian asymmetric M-ary quantization: LeNet-5 on MNIST, the paper's procedure beside ours
//
// **Reproduced:** J.-T. Chien and S.-T. Chang, *Bayesian asymmetric quantized neural networks*, Pattern Recognition
// 139 (2023) 109463 (doi:10.1016/j.patcog.2023.109463), and *Bayesian learning for neural network compression*,
// ICME Workshops 2020 (doi:10.1109/ICMEW46912.2020.9105998). Code:
// [susan0720/Su-Ting-Chang-Adaptive-Quantization-Method-for-Deep-Bayesian-Neural-Network](https://github.com/susan0720/Su-Ting-Chang-Adaptive-Quantization-Method-for-Deep-Bayesian-Neural-Network).
//
// Every weight has a Gaussian posterior N(θ, σ²); every layer has M learned representation values ("levels"),
// and the partition between them is the set of midpoints, so it can be asymmetric about 0. The *multiple
// spike-and-slab* prior (a log-uniform spike at each level, gated by a Gaussian slab) pulls the posterior means
// onto the levels. At test time each weight is replaced by its nearest level: the deployed network stores a
// ⌈log2 M⌉-bit index per weight plus M floats per layer.
//
// Two training recipes (`src/bayes/recipes.ts`, every knob with its reason):
//
// - **`paper` — the paper's procedure.** From scratch, the noisy forward pass around θ (so the loss is the negative
//   ELBO of one posterior), the code's KL scaling and 15-epoch warm-up, its Adam settings and its LeNet. Only the
//   code's bugs are fixed. **The figures labelled `paper` are the ones that test the paper's claims.**
// - **`qnnlab` — this project's recipe**: start from the trained float LeNet-5, a straight-through forward on Q(θ),
//   a per-layer prior weight, freezing of oscillating weights. Measured against the paper's procedure in
//   `results/mary-lenet-mnist-ablation`.
//
// Every choice is made on a validation split (the last 5,000 training images); the test set is evaluated once, at
// the end. Each network is evaluated in the mode it was trained for: the Monte-Carlo predictive samples around the
// trained centre, and a deterministic mode the network was not trained in gets its batch-norm statistics
// re-estimated.

// %%
import { initEngine } from './src/engine';
import { size } from './src/notebook';

const engine = await initEngine({ verbose: true });
console.log('notebook size: ' + size());

// %% [markdown]
// ## Hyperparameters
//
// `RECIPE` is the one switch: `'paper'`, `'qnnlab'` or `'both'` (side by side). `RUNS` holds what each run
// changes on top of its recipe; with these values the committed runs in `results/mary-lenet-mnist-paper` and
// `results/mary-lenet-mnist-qnnlab` are loaded instead of trained. Any knob of the table below can be added there.

// %%
import { RECIPES } from './src/bayes';
import { showTable } from './src/plots';

const RECIPE: 'paper' | 'qnnlab' | 'both' = 'both';
const RETRAIN = false; // true: train again even when results/ holds a finished run of the same configuration

const RUNS: Record<string, Record<string, unknown>> = {
  paper: { recipe: 'paper', Ms: [3], fp: false }, // M = 3, both priors; the float baseline comes from the qnnlab run
  qnnlab: { recipe: 'qnnlab', Ms: [2, 3, 4] }, // the float LeNet-5, then M = 2, 3, 4 with both priors started from it
};
const CI = { limitTest: 300, mcSamples: 3 };
const chosen = RECIPE === 'both' ? ['paper', 'qnnlab'] : [RECIPE];

const knobs = Object.keys(RECIPES.paper).map((k) => ({
  knob: k, paper: JSON.stringify(RECIPES.paper[k].value), qnnlab: JSON.stringify(RECIPES.qnnlab[k].value),
  'why (paper)': RECIPES.paper[k].why, 'why (qnnlab)': RECIPES.qnnlab[k].why,
}));
showTable(knobs, { caption: 'The two recipes, knob by knob' });

// %% [markdown]
// ## Training (or loading the committed runs)
//
// Per epoch each run logs the quantization loss Σ(Q(θ) − θ)² and the validation accuracy of the quantized network
// as training left it (`valAccuracy`; for the paper's recipe this is the code's own test procedure), and of the
// other deterministic mode with batch norm re-estimated for it.

// %%
import { trainOrLoad, showFigure, describeRun } from './src/notebook/runs';

const runs: Record<string, Awaited<ReturnType<typeof trainOrLoad>>> = {};
for (const r of chosen) {
  runs[r] = await trainOrLoad('mary-lenet-mnist', {
    hyper: RUNS[r], ci: { ...RUNS[r], ...CI }, retrain: RETRAIN, resultsName: 'mary-lenet-mnist-' + r,
    live: { y: ['quantizationLoss', 'valAccuracy'], title: r + ' recipe: quantization loss and quantized validation accuracy while training' },
  });
}

// %% [markdown]
// ## Figure 1: weight means per layer with the learned levels, M = 3, multiple spike-and-slab prior
//
// The paper's histogram figure: with the spike-and-slab prior the means should pile up on the dashed levels.

// %%
import { histogramFigures, levelsTable, mSweepTable, sigmaTable, entropyRows, bayesVariants } from './src/notebook/mary';

for (const r of chosen) {
  console.log(r + ' recipe' + (r === 'paper' ? ' (the paper\'s procedure)' : ''));
  const figs = histogramFigures(runs[r].figures).filter((f) => f.includes('M3-spikeslab'));
  for (const f of figs) await showFigure(runs[r], f);
  const v = bayesVariants(runs[r].variants).find((x) => x.name === 'M3-spikeslab');
  if (v) showTable(levelsTable(v), { caption: r + ': learned levels (ascending) and weights per level' });
}

// %% [markdown]
// ## Figure 2: quantization loss and accuracy per epoch, spike-and-slab vs Gaussian prior
//
// The paper reports the quantization loss falling to about 0 within about 3 epochs with the multiple
// spike-and-slab prior and slowly with a Gaussian prior, at about the float net's accuracy.

// %%
import { curves, showPlot } from './src/plots';
import { quantLossSpeed } from './src/notebook/published';

const rows = chosen.flatMap((r) => runs[r].history.filter((h) => h.variant !== 'fp').map((h) => ({ ...h, variant: r + ' ' + h.variant })));
await showPlot(curves({ rows: rows, x: 'epoch', y: ['quantizationLoss', 'valAccuracy'], color: 'variant', title: 'Quantization loss and quantized validation accuracy by recipe and prior' }));
showTable(quantLossSpeed(rows), { caption: 'How fast the quantization loss falls' });

// %% [markdown]
// ## Accuracy, memory and the posterior
//
// Quantized = the deployed network. "Trained mode" is the deterministic network the training optimized (θ for
// the paper's recipe, Q(θ) for qnnlab's); MC averages the softmax over weight samples around it. If σ never left its
// initial value the posterior is effectively a point mass and MC equals the deterministic net.

// %%
for (const r of chosen) {
  const fpRun = runs.qnnlab ?? runs[r];
  const fp = fpRun.variants.filter((v) => v.name === 'fp');
  showTable(mSweepTable([...fp, ...runs[r].variants.filter((v) => v.name !== 'fp')]), { caption: r + ' recipe: accuracy and memory (float row from the qnnlab run)' });
  showTable(sigmaTable(runs[r].variants), { caption: r + ' recipe: posterior σ per layer' });
}

// %% [markdown]
// ## Monte-Carlo predictive uncertainty
//
// Mean predictive entropy on test images classified correctly and wrongly: wrong predictions should carry
// clearly higher entropy.

// %%
import { groupedBars } from './src/notebook/specs';

const entropy = chosen.flatMap((r) => entropyRows(runs[r].variants).map((e) => ({ ...e, variant: r + ' ' + e.variant })));
await showPlot(groupedBars({ rows: entropy, x: 'variant', group: 'predictions', y: 'meanEntropy', title: 'Mean predictive entropy (nats) on correct and wrong test predictions', titles: { meanEntropy: 'mean entropy (nats)' } }));
for (const r of chosen) console.log(describeRun(runs[r]));

// %% [markdown]
// ## What to tweak next
//
// - `RUNS.paper.epochs`: the code trains 195 epochs (a longer run resumes the committed 50-epoch one).
// - `Ms: [2, 3, 4]`: the M sweep (M = 3 and 4 both take 2 bits per weight).
// - Any knob of the recipe table, e.g. `klNormalization: 'elbo'` (the ELBO's KL/N instead of the code's per-layer
//   mean), `spikeSlabGate: 'window'` (the code's raw slab windows), `logAlphaClip: 8`.
// - `npm run experiment -- mary-lenet-mnist-ablation` removes the qnnlab recipe's departures one at a time.
// - `npm run experiment -- mary-lenet-mnist --recipe paper --show-config` prints every option of a recipe.
