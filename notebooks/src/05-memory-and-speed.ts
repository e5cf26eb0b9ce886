// %% [markdown]
// # Memory and speed of quantized networks
//
// What quantization buys, measured on every model and method of the project:
//
// - **memory** at the stored bit-widths (1-bit weights cost 1/32 of float32), the **compression ratio** against the
//   same network in float32, and the **multiply-accumulates** (MACs) per image with their precision, as
//   Larq's `larq.models.summary` reports them ([larq/larq](https://github.com/larq/larq));
// - **inference time** of the quantized and float networks, measured side by side here (same backend, same batch).
//
// Chien & Chang claim that the M-ary network "achieves similar performance as FPNN, but the memory cost and the
// test time are significantly reduced" (Pattern Recognition 2023, abstract). The memory part holds by
// construction. The time part needs kernels that compute with the codes (XNOR-popcount, code tables, grouped sums):
// **simulated quantization, as trained here and in every training framework, runs float kernels on quantized
// values and is not faster**, often slightly slower because the quantizer runs in every forward pass. The first
// timing tables show exactly that. The last section runs the same nets from their codes on the project's low-bit
// WebAssembly engine (`src/inference`, [docs/inference.md](../docs/inference.md)), against the float32 twin, the
// simulated quantization and the engine's own float32 kernels (the control).

// %%
import { initEngine } from './src/engine';
import { size, bySize } from './src/notebook';

const engine = await initEngine({ verbose: true });
console.log('notebook size: ' + size());

// %% [markdown]
// ## Hyperparameters
//
// Every model and every method the project registers (`MODEL_NAMES`, `METHOD_NAMES` in `src/models`); the
// Bayesian M-ary models take M = 2, 3, 4 in place of methods. Replace a list with a few names to see fewer.

// %%
import { MODEL_NAMES, METHOD_NAMES } from './src/models';

const MODELS = MODEL_NAMES.filter((m) => !m.startsWith('mary-'));
const MARY_MODELS = MODEL_NAMES.filter((m) => m.startsWith('mary-'));
const METHODS = [...METHOD_NAMES];
const MS = [2, 3, 4];
const TIMING = {
  lenetBatch: 256, // MNIST images per forward pass
  cifarBatch: 32, // CIFAR images per forward pass (ResNet-20)
  warmup: bySize({ ci: 1, full: 3 }),
  repeats: bySize({ ci: 3, full: 20 }), // timed passes per model; the median is reported
};

// %% [markdown]
// ## Memory, compression and MACs of every model and method

// %%
import { memoryTable, pivot, timeInference, methodModels, disposeTimed } from './src/notebook/costs';
import { showPlot, showTable, methodBars } from './src/plots';
import { heatmap } from './src/notebook/specs';

// One row per (model, method); Bayesian M-ary models take M = 2, 3, 4 as their "methods".
const table = memoryTable([...MODELS, ...MARY_MODELS], METHODS, MS);
await showPlot(heatmap({ rows: table, x: 'method', y: 'model', value: 'compression', title: 'Compression ratio of memory against float32, by model and method' }));

// %%
showTable(pivot(table, { row: 'method', column: 'model', value: 'memory (KiB)' }), { caption: 'Model memory (KiB) at the stored bit-widths, by method and model' });
showTable(pivot(table, { row: 'method', column: 'model', value: 'MACs ≤ 8 bit (%)' }), { caption: 'Share of MACs (%) with both operands at 8 bits or less: only methods that also quantize activations have any' });

// %% [markdown]
// Every column, every row: parameters per bit-width, memory, float32 size, compression, MACs per image (millions).
// The M-ary rows count the variational layers' MACs (the summary's MAC column covers quantized layers only).

// %%
showTable(table, { caption: 'Stored parameters per bit-width, memory (KiB), compression and MACs per image (millions)' });

// %% [markdown]
// The same numbers for one model, layer by layer, as Larq prints them: BinaryNet's binary activations make its
// inner MACs 1-bit (XNOR-popcount on suitable hardware); the first layer reads the 32-bit image.

// %%
import { buildModel, methodOptions } from './src/models';
import { formatSummary } from './src/summary';

const binaryNet = buildModel('lenet5', { ...methodOptions('binary-net'), seed: 1 });
const binaryNetSummary = formatSummary(binaryNet);
binaryNet.dispose();
console.log(binaryNetSummary);

// %% [markdown]
// ## Inference time, quantized vs float
//
// Each model runs forward on the same random batch, in inference mode, on the backend above; rounds interleave
// the models so that load from other processes affects all of them alike. "time / reference" is relative to the
// first row (float).

// %%
const lenets = methodModels('lenet5', METHODS);
const lenetTimes = timeInference(lenets, { batch: TIMING.lenetBatch, warmup: TIMING.warmup, repeats: TIMING.repeats });
disposeTimed(lenets);
showTable(lenetTimes, { caption: 'LeNet-5, batch ' + TIMING.lenetBatch + ', backend ' + engine.backend });
await showPlot(methodBars({ rows: lenetTimes, x: 'variant', y: 'time / reference', title: 'LeNet-5 inference time relative to float (1 = same speed)' }));

// %% [markdown]
// The Bayesian M-ary LeNet-5 in its three inference modes: `quantized` (every weight replaced by its level: the
// deployed network), `mean` (posterior means) and `sample` (one weight sample: one term of the Monte-Carlo
// predictive, which needs S such passes).

// %%
import { maryModes } from './src/notebook/costs';

const mary = maryModes('mary-lenet5', 3);
const maryTimes = timeInference([{ label: 'lenet5 fp', model: buildModel('lenet5', { seed: 1, conv1Padding: 'valid' }) }, ...mary], { batch: TIMING.lenetBatch, warmup: TIMING.warmup, repeats: TIMING.repeats });
disposeTimed(mary);
showTable(maryTimes, { caption: 'Float LeNet-5 vs Bayesian M = 3 LeNet-5 by inference mode, batch ' + TIMING.lenetBatch });

// %%
const resnets = methodModels('resnet20', ['fp', 'binary-connect', 'twn', 'fixed-point-net', 'min-max', 'sq-twn']);
const resnetTimes = timeInference(resnets, { batch: TIMING.cifarBatch, warmup: TIMING.warmup, repeats: TIMING.repeats });
disposeTimed(resnets);
showTable(resnetTimes, { caption: 'ResNet-20 (CIFAR, 32x32x3), batch ' + TIMING.cifarBatch + ', backend ' + engine.backend });

// %% [markdown]
// ## Real low-bit inference: the engine in `src/inference`
//
// The quantized LeNet-5 variants run from their packed codes on the low-bit engine: XNOR-popcount for BinaryNet's
// binary x binary layers, code-table kernels for binary, ternary and M-ary weights with float activations. The
// committed table is `results/inference-bench.json` (`npm run bench:inference`, on an otherwise idle 2-core
// machine; its load average is shown). Speed-ups are median times of the other engine over the low-bit engine's:
// "vs own float32 kernels" is the control, the same engine with the weights decoded to float32. Where it is near 1,
// the gain over tfjs comes from a lean engine, not from the low-bit arithmetic.

// %%
import * as fs from 'node:fs';
import { benchTableRows, runInferenceBench } from './src/inference/bench';

const BENCH_FILE = 'results/inference-bench.json';
if (fs.existsSync(BENCH_FILE)) {
  const committedBench = JSON.parse(fs.readFileSync(BENCH_FILE, 'utf8'));
  showTable(benchTableRows(committedBench.variants), {
    caption: BENCH_FILE + ', ' + committedBench.date + ', load before: ' + committedBench.load.uptimeStart,
  });
} else {
  console.log('No ' + BENCH_FILE + ' yet: npm run bench:inference writes it (on an otherwise idle machine).');
}

// %% [markdown]
// The same measurement, shortened, on this machine now (BinaryNet and M = 3 at batch 1, under whatever load the
// machine has):

// %%
const benchHere = runInferenceBench({
  variants: ['binarynet', 'm3'], batches: [1], rounds: bySize({ ci: 1, full: 3 }), iters: { 1: bySize({ ci: 5, full: 100 }) }, defaultIters: 5,
});
showTable(benchTableRows(benchHere), { caption: 'Measured now, batch 1' });

// %% [markdown]
// ## Reading the numbers
//
// | claim | source | measured here |
// |---|---|---|
// | binary weights: ~32x less weight memory | BinaryConnect, XNOR-Net | compression column: the float batch-norm parameters and biases keep the whole-model ratio below 32 |
// | M-ary network: memory "significantly reduced" | Chien & Chang 2023 | ⌈log2 M⌉ bits per weight + M floats per layer |
// | M-ary network: test time "significantly reduced" | Chien & Chang 2023 | not with float kernels (the simulated-quantization tables); with the low-bit engine, see its table and its float32 control |
// | SQ, TWN: 2-bit weights | Dong et al. 2017 | the same memory as TWN: SQ changes training only |
//
// ## What to tweak next
//
// - `TIMING.lenetBatch: 1`: latency instead of throughput; the quantizer's fixed cost per pass weighs more.
// - Run with `QNNLAB_BACKEND=cpu` (restart the kernel) to compare backends; `npm run bench` measures training speed.
// - `runInferenceBench({ ..., engines: [...] })` with `'engine-lowbit-grouped'`: the papers' "M multiplications per
//   output", on hardware with vector units.
// - A model of your own, registered in `src/models/index.ts`, joins `MODELS` by itself.
