/**
 * The quantizer zoo on LeNet-5 / MNIST: nnabla's nine methods (binary connect, binary net, binary weight,
 * fixed-point connect/net, pow2 connect/net, INQ, min-max) plus BWN, TWN, SQ-BWN, SQ-TWN and full precision,
 * each trained from the same seed; one summary row per method with validation and test accuracy, model memory at
 * the real bit-widths and the compression ratio. The last `validation` training images are held out: training
 * curves and choices use them; the test set is evaluated once per method, at the end.
 *
 * nnabla trains ResNet-23 on CIFAR-10 for 234k iterations and fixes INQ weights at iterations 5000..9000;
 * on MNIST the INQ schedule is given in epochs (`inqEpochs`) so it scales with the data set.
 */
import * as path from 'node:path';
import { DEFAULT_VALIDATION_COUNT, holdOutValidation, loadDataset, numBatches } from '../data';
import { METHOD_NAMES } from '../models';
import { curves, methodBars, savePlot } from '../plots';
import { writeCsv } from '../plots/table';
import { trainMethods } from './zooCommon';
import type { Experiment } from './types';
import { lenet5ModelOptions, listOf, methodName, positiveInt } from './validate';

export interface ZooMnistConfig {
  [key: string]: unknown;
  dataset: string;
  methods: string[];
  epochs: number;
  /** Epochs per SQ ratio stage (four stages). */
  sqStageEpochs: number;
  batchSize: number;
  lr: number;
  /** Learning rate x0.1 at these epochs (scaled into each SQ stage). */
  milestones: number[];
  /**
   * Methods trained for `longRunEpochs` instead (milestones scaled to match): BinaryNet's binary activations
   * learn far slower than anything else here (Courbariaux et al. train 1000 epochs on MNIST); after 5 epochs
   * the 6-16-120-84 LeNet-5 is at 95.9 % with training accuracy still climbing.
   */
  longRunMethods: string[];
  longRunEpochs: number;
  /**
   * LeNet-5 options per method on top of its preset. BinaryNet gets wider convolutions, 16 and 32 maps
   * (nnabla's binary LeNet has 16 after conv1; with 6-16, and with 16-16, it stays below 98 % after 15 epochs,
   * training accuracy included), and BN running averages over ~100 batches (momentum 0.99): the sign after
   * each BN thresholds at its running mean, and with 0.9 the test accuracy swung by a point between epochs
   * whose weights hardly changed.
   */
  modelOptions: Record<string, Record<string, unknown>>;
  /** INQ fixes half of the free weights at the end of each of these epochs (all at the last). */
  inqEpochs: number[];
  seed: number;
  /** Training images held out as the validation split (the last ones); 0 = none (curves then show test). */
  validation: number;
  limitTrain: number;
  limitTest: number;
}

export const zooMnist: Experiment<ZooMnistConfig> = {
  name: 'zoo-mnist',
  description: "All quantization methods (nnabla's nine + BWN, TWN, SQ-BWN, SQ-TWN, float) on LeNet-5 / MNIST.",
  defaults: {
    dataset: 'mnist', methods: METHOD_NAMES.slice(), epochs: 5, sqStageEpochs: 2, batchSize: 128, lr: 1e-3,
    milestones: [3, 4], longRunMethods: ['binary-net'], longRunEpochs: 15, modelOptions: { 'binary-net': { widths: { conv1: 16, conv2: 32 }, bnMomentum: 0.99 } }, inqEpochs: [1, 2, 3, 4, 5], seed: 1,
    validation: DEFAULT_VALIDATION_COUNT, limitTrain: 0, limitTest: 0,
  },
  smoke: { epochs: 1, sqStageEpochs: 1, longRunEpochs: 2, limitTrain: 1024, limitTest: 512, validation: 128, milestones: [], inqEpochs: [1] },
  options: {
    sqStageEpochs: positiveInt, longRunMethods: listOf(methodName), longRunEpochs: positiveInt, modelOptions: lenet5ModelOptions,
    inqEpochs: listOf(positiveInt),
  },
  async run(cfg, ctx) {
    const ds = holdOutValidation(await loadDataset(cfg.dataset, { limitTrain: cfg.limitTrain || undefined, limitTest: cfg.limitTest || undefined }), cfg.validation);
    const curveKey = ds.validation ? 'valAccuracy' : 'testAccuracy';
    const split = ds.validation ? 'validation' : 'test';
    const spe = numBatches(ds, 'train', { batchSize: cfg.batchSize });
    const base = {
      model: 'lenet5' as const, batchSize: cfg.batchSize, optimizer: { name: 'adam' as const, lr: cfg.lr },
      inqSteps: cfg.inqEpochs.map((e) => e * spe), seed: cfg.seed, modelOptions: cfg.modelOptions,
    };
    // SQ stages are each a full (shorter) run, with the milestones scaled into the stage; so are long runs.
    const scaledTo = (epochs: number) => cfg.milestones.map((m) => Math.round((m * epochs) / cfg.epochs));
    const multistep = (epochs: number) => ({ name: 'multistep' as const, milestones: scaledTo(epochs), gamma: 0.1 });
    const isLong = (m: string) => cfg.longRunMethods.includes(m);
    const plain = cfg.methods.filter((m) => !m.startsWith('sq-') && !isLong(m));
    const long = cfg.methods.filter((m) => !m.startsWith('sq-') && isLong(m));
    const sq = cfg.methods.filter((m) => m.startsWith('sq-'));
    const runs = [
      await trainMethods(plain, { ...base, epochs: cfg.epochs, schedule: multistep(cfg.epochs) }, ds, ctx),
      await trainMethods(long, { ...base, epochs: cfg.longRunEpochs, schedule: multistep(cfg.longRunEpochs) }, ds, ctx),
      await trainMethods(sq, { ...base, epochs: cfg.sqStageEpochs, schedule: multistep(cfg.sqStageEpochs) }, ds, ctx),
    ];
    const order = (name: string) => cfg.methods.indexOf(name);
    const variants = runs.flatMap((r) => r.variants).sort((x, y) => order(x.name) - order(y.name));
    const table = runs.flatMap((r) => r.table).sort((x, y) => order(x.method) - order(y.method));
    const history = runs.flatMap((r) => r.history);
    await savePlot(curves({ rows: history, x: 'epoch', y: [curveKey], color: 'variant', title: `LeNet-5 / MNIST: ${split} accuracy per method` }), path.join(ctx.outDir, 'accuracy'));
    await savePlot(methodBars({ rows: table, x: 'method', y: 'testAccuracy', memory: 'memoryKiB', title: 'LeNet-5 / MNIST: final test accuracy and model memory' }), path.join(ctx.outDir, 'methods'));
    await writeCsv(table, path.join(ctx.outDir, 'table.csv'));
    return { history, variants, figures: ['accuracy', 'methods'], extra: { table } };
  },
};
