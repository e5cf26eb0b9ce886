// %% [markdown]
// # Robustness and uncertainty under dataset shift: quantized, Bayesian M-ary and standard Bayesian LeNet-5s
//
// **Tested claim:** Chien & Chang (Pattern Recognition 2023) claim that the weight uncertainty of the Bayesian
// M-ary network makes it robust under heterogeneous data. **Protocol:** Ovadia et al., *Can you trust your model's
// uncertainty? Evaluating predictive uncertainty under dataset shift*, NeurIPS 2019
// ([google-research/uq_benchmark_2019](https://github.com/google-research/google-research/tree/master/uq_benchmark_2019)),
// as defined in `docs/robustness.md`: every network, trained on MNIST (the last 5,000 training images held out for
// validation), is evaluated on the MNIST test set, on rotated test sets (0° to 180°), on five corruptions at five
// severities, and on two sets without digits (Fashion-MNIST, uniform noise).
//
// | network | what it is |
// |---|---|
// | `fp` | the float LeNet-5 (6-16-120-84-10, batch norm) of `mary-lenet-mnist` |
// | `twn` | ternary weights (TWN), a deterministic quantization-aware net of the same size |
// | `ste-M3-noprior` | M = 3 learned levels, straight-through, no prior (the qnnlab recipe with the KL off) |
// | `<recipe>-M<M>-<prior>` | the Bayesian M-ary nets of both recipes: `-q` the deployed Q(θ), `-mean` the trained θ (paper), `-mc` the Monte-Carlo predictive around the trained centre |
// | `dropout-det`, `mc-dropout` | the float LeNet-5 with dropout before each dense layer, without and with Monte-Carlo dropout |
// | `ensemble` | a deep ensemble of float LeNet-5s with different seeds |
//
// Per set: accuracy, NLL, Brier score and ECE (15 bins). Out of distribution: AUROC and AUPR of the max-softmax
// probability, the predictive entropy and, for predictors with a predictive distribution, the mutual information.
// Networks that `mary-lenet-mnist` already trained are loaded read-only from its results folders (`reuseFrom`).

// %%
import { initEngine } from './src/engine';
import { size } from './src/notebook';

const engine = await initEngine({ verbose: true });
console.log('notebook size: ' + size());

// %% [markdown]
// ## Hyperparameters
//
// `HYPER` starts from the defaults of `mary-robustness-mnist` (`src/experiments/maryRobustnessMnist.ts`,
// `npm run experiment -- --list`); with these values the committed run in `results/mary-robustness-mnist/` is
// loaded instead of trained. `recipes` are those of `src/bayes/recipes.ts`; `mcSamples` is the number of weight
// samples of the Bayesian predictive and of passes of MC dropout; with several `dropoutRates` the one with the
// lowest validation NLL is evaluated. At CI size the experiment's smoke preset replaces the sizes (one epoch, M = 3
// with the spike-and-slab prior, three rotations, two corruptions, 300 images).

// %%
import { maryRobustnessMnist } from './src/experiments/maryRobustnessMnist';
import { showTable } from './src/plots';

const RETRAIN = false; // true: train (and evaluate) again even when results/mary-robustness-mnist/ holds a finished run

const HYPER = {
  ...maryRobustnessMnist.defaults, // e.g. recipes: ['qnnlab'] after this line evaluates one recipe's nets
};
const CI = { mcSamples: 2 };
showTable(Object.entries(HYPER).map(([key, value]) => ({ key: key, value: JSON.stringify(value) })), { caption: 'HYPER: the full-size configuration' });

// %% [markdown]
// ## Training (or loading) and evaluating
//
// Every network trains (or is loaded), then every predictor runs through all sets; the chart shows the validation
// accuracy of the networks trained now.

// %%
import { trainOrLoad, showFigure, describeRun } from './src/notebook/runs';

const run = await trainOrLoad('mary-robustness-mnist', {
  hyper: HYPER, ci: CI, retrain: RETRAIN,
  live: { y: ['valAccuracy'], title: 'Validation accuracy of the networks trained for the robustness protocol' },
});

// %% [markdown]
// ## Rotated digits: accuracy and calibration against the angle
//
// One figure per group: the baselines, then each recipe's Bayesian nets with the float net as reference. Ovadia et
// al.'s finding for float nets: accuracy falls with the angle and the ECE rises, least for ensembles.

// %%
for (const f of run.figures.filter((x) => x.startsWith('rotation-'))) await showFigure(run, f);

// %% [markdown]
// ## Corruptions: accuracy and calibration against the severity (mean over the corruptions)

// %%
for (const f of run.figures.filter((x) => x.startsWith('corruptions-'))) await showFigure(run, f);

// %% [markdown]
// ## Reliability diagrams
//
// Accuracy against confidence per bin on the clean test set and on one rotated set; below the diagonal is
// over-confident.

// %%
await showFigure(run, 'reliability');

// %% [markdown]
// ## Out of distribution: entropy histograms and detection AUROC
//
// The predictive entropy on MNIST digits and on images that hold none; the AUROC table ranks each OOD set against
// the MNIST test set by each score (1 = perfect separation, 0.5 = chance).

// %%
import { robustnessTable, sigmaTable } from './src/notebook/robustness';

await showFigure(run, 'entropy');
if (run.figures.includes('ood-auroc')) await showFigure(run, 'ood-auroc');
showTable(robustnessTable(run.summary), { caption: 'Clean test set metrics and OOD AUROC per predictor' });

// %% [markdown]
// ## The posterior σ of the Bayesian nets
//
// If σ has not left its initial value, the posterior is effectively a point mass and the Monte-Carlo predictive is
// the deterministic net plus that noise: then `-mc` cannot be more robust than `-q` or `-mean` because of the
// weight uncertainty.

// %%
showTable(sigmaTable(run.summary), { caption: 'Posterior σ per layer (median, 90th percentile, initial value)' });
for (const note of (run.summary.notes ?? []) as string[]) console.log('note: ' + note);
console.log(describeRun(run));

// %% [markdown]
// ## What to tweak next
//
// - `mcSamples`: more samples smooth the Monte-Carlo predictive (the evaluation time grows with it).
// - `dropoutRates: [0.1, 0.25, 0.5]`: trains one net per rate and keeps the one with the lowest validation NLL.
// - `recipes: ['qnnlab']` or `Ms: [3]`: a subset of the Bayesian nets in a fraction of the time.
// - `reuseFrom: []`: train every network here instead of loading `mary-lenet-mnist`'s checkpoints.
// - `npm run experiment -- mary-robustness-mnist --show-config` prints every option.
