// %% [markdown]
// # The quantizer zoo: nnabla's nine methods, BWN, TWN and SQ on LeNet-5 / MNIST
//
// **Reproduced:** the quantization example of Sony's Neural Network Libraries,
// [sony/nnabla-examples](https://github.com/sony/nnabla-examples) `compression/cifar10/quantization`
// (`models.py`: the nine network variants; `classification.py`, `args.py`: training and defaults), with the
// exact forward and backward semantics of each quantizer; plus the BWN/TWN baselines and stochastic
// quantization of Dong et al. (BMVC 2017, code [dongyp13/Stochastic-Quantization](https://github.com/dongyp13/Stochastic-Quantization)).
//
// | method | weights | activations | source |
// |---|---|---|---|
// | binary-connect | sign(w) ∈ {-1, +1} | ReLU | Courbariaux et al., NIPS 2015 |
// | binary-net | sign(w) | binary_tanh ∈ {-1, +1} | Courbariaux et al. 2016 |
// | binary-weight | α_c · sign(w), α_c = mean abs per output channel | ReLU | Rastegari et al., ECCV 2016 (XNOR-Net's BWN) |
// | fixed-point-connect / -net | 8 bit, step 2⁻⁴ | float / 8-bit fixed point | nnabla |
// | pow2-connect / -net | ±2^k, 8 bit, largest 2 | float / pow2 with zero | nnabla |
// | inq | powers of two fixed incrementally, 4 bit | ReLU | Zhou et al., ICLR 2017 |
// | min-max | 8-bit affine, learned range | 8-bit affine, learned range | Jacob et al., CVPR 2018 |
// | bwn, twn | binary / ternary per channel | ReLU | SQ code baselines |
// | sq-bwn, sq-twn | BWN/TWN on a growing share of channels | ReLU | Dong et al., BMVC 2017 |
//
// nnabla trains ResNet-23 on CIFAR-10 (the `zoo-resnet23-cifar10` experiment, which needs the data set); this
// notebook trains every method on LeNet-5 / MNIST so that the whole zoo runs on a CPU. **nnabla publishes no
// accuracy numbers** for this example, so the comparison below is against our float network.

// %%
import { initEngine } from './src/engine';
import { size } from './src/notebook';

const engine = await initEngine({ verbose: true });
console.log('notebook size: ' + size());

// %% [markdown]
// ## Hyperparameters
//
// `HYPER` starts from the defaults of the `zoo-mnist` experiment (`src/experiments/zooMnist.ts`, every key
// documented there); a key written after them replaces one. `epochs` is per method (Adam, as nnabla's example),
// `sqStageEpochs` per SQ ratio stage (50, 75, 87.5, 100 %), and the learning rate falls x0.1 at the
// `milestones`. The `longRunMethods` (BinaryNet: binary activations learn slowly) train `longRunEpochs` instead,
// with the milestones scaled. `modelOptions` gives BinaryNet wider convolutions (nnabla's binary LeNet has 16
// conv1 maps) and slower batch-norm running averages (its sign thresholds are sensitive to them). INQ fixes half
// of its free weights after each of the `inqEpochs` (nnabla: iterations 5000..9000).

// %%
import { zooMnist } from './src/experiments/zooMnist';
import { showTable } from './src/plots';

const RETRAIN = false; // true: train again even when results/zoo-mnist/ holds a finished run

const HYPER = {
  ...zooMnist.defaults, // e.g. methods: ['fp', 'binary-net', 'min-max'] after this line trains three methods
};
const CI = { limitTrain: 512, limitTest: 256 };
showTable(Object.entries(HYPER).map(([key, value]) => ({ key: key, value: JSON.stringify(value) })), { caption: 'HYPER: the full-size configuration' });

// %% [markdown]
// ## Each quantizer's forward transfer curve
//
// q(x) for x from -2 to 2, with the settings of each method's preset (the ones trained below). BWN's and TWN's
// scale is per output channel; here the whole x axis is one channel, so α = mean |x| = 1 for BWN. SQ uses BWN or
// TWN on the channels it selects and the identity on the others (see 04-stochastic-quantization).

// %%
import { showPlot, curves, methodBars } from './src/plots';
import { transferRows } from './src/notebook/quantizers';
import { transferCurves } from './src/notebook/specs';

await showPlot(transferCurves({ rows: transferRows(), columns: 3 }));

// %% [markdown]
// ## Training
//
// Every method starts from the same seed. SQ methods train four warm-started stages, as the SQ code's
// `train.sh` does; the chart shows the method being trained and redraws after every epoch.

// %%
import { trainOrLoad, showFigure, describeRun } from './src/notebook/runs';

const run = await trainOrLoad('zoo-mnist', {
  hyper: HYPER, ci: CI, retrain: RETRAIN,
  live: { y: ['testAccuracy', 'trainLoss'], title: 'Quantizer zoo on LeNet-5 / MNIST while training' },
});

// %% [markdown]
// ## Accuracy curves

// %%
await showFigure(run, 'accuracy');

// %% [markdown]
// ## Comparison: accuracy and memory

// %%
import { zooTable, zooBars } from './src/notebook/costs';

await showPlot(zooBars(run.variants, 'LeNet-5 / MNIST: final test accuracy and memory at the stored bit-widths'));

// %%
showTable(zooTable(run.variants), { caption: 'LeNet-5 / MNIST: final test accuracy, drop against float, memory at the stored bit-widths' });

// %% [markdown]
// ## Flip ratio
//
// Larq's flip ratio: the share of quantized weights whose value changed during the epoch. It shows how settled
// a binarized or ternarized network is; INQ drops to 0 once all its weights are fixed.

// %%
const flipRows = run.history.filter((r) => typeof r.flipRatio === 'number' && Number.isFinite(r.flipRatio as number));
if (flipRows.length > 0) await showPlot(curves({ rows: flipRows, x: 'epoch', y: ['flipRatio'], color: 'variant', title: 'Flip ratio of the quantized kernels per epoch' }));
else console.log('this run logged no flip ratio');
console.log(describeRun(run));

// %% [markdown]
// ## What to tweak next
//
// - `methods`: a subset, e.g. `['fp', 'binary-net', 'min-max']`, trains in a fraction of the time.
// - The bit-width and step of fixed point, the pow2 range or the INQ bits are in `src/models/methods.ts`
//   (`methodPreset`), as nnabla's `--bit-width`, `--delta`, `--upper-bound` options are.
// - The same zoo on ResNet-23 / CIFAR-10 as nnabla trains it: `npm run data -- cifar10`, then
//   `npm run experiment -- zoo-resnet23-cifar10` (or pass that name to `trainOrLoad` with its own options).
