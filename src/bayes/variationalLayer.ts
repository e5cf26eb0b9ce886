/**
 * What VariationalDense and VariationalConv2D share: the variational posterior q(w) = N(θ, σ²) per weight,
 * the M learnable levels of the layer's asymmetric M-ary quantizer, and the forward passes.
 *
 * Training (kwargs.training = true), local reparameterization (Kingma et al. 2015):
 *     out = x∘W̄ + sqrt((x²)∘σ² + 1e-8) · ε + b,   ε ~ N(0, 1) of the output's shape, a fresh seed per call
 * (ε from `normalNoise`, the fast generator; the weight samples of the 'sample' modes from `randomNormal`)
 * where ∘ is the layer's linear map and W̄ = θ ('mean', default) or Q(θ) with a straight-through gradient
 * ('ste'). Inference uses the layer's mode:
 *     'quantized'  x∘Q(θ) + b     every weight replaced by its nearest level (exactly M distinct values)
 *     'mean'       x∘θ + b        the full-precision posterior means
 *     'sample'     x∘w + b,  w = θ + σ·ε   one weight sample, shared by the whole batch (Monte Carlo)
 *     'sampleQuantized'  x∘w + b,  w = Q(θ) + σ·ε   the distribution a straight-through forward trains
 * θ, the levels and the quantized weights live in the same space: there is no per-level scale, so the
 * published code's train (θ·s) / test (code/s) mismatch cannot arise.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/random';
import { normalNoise, randomNormal } from '../engine/randomNormal';
import { assignLevels, checkM, defaultLevelSpread, initLevels, partitions, separateLevels, sortLevels } from './levels';
import { OSCILLATION_STATE_KEYS, checkFreezeOptions, initialOscillationState, trackOscillations, type OscillationState } from './oscillations';
import { priorKl, type PriorSpec } from './priors';

export type VariationalMode = 'quantized' | 'mean' | 'sample' | 'sampleQuantized';

/**
 * Mean weight of the training pass.
 *  - 'mean': θ, the variational mean (the paper's ELBO: the likelihood sees q, quantization comes from
 *    the prior). The levels are then trained by the prior only.
 *  - 'ste': Q(θ) forward, gradient to θ straight through (identity) and to the level each weight uses.
 *    The likelihood then also chooses the representation values (the README's "the representation value
 *    that maximizes the likelihood"), and training sees exactly the weights that are tested.
 */
export type TrainForward = 'mean' | 'ste';

/**
 * Initialiser of θ. 'glorotUniform' (default) is Keras' default. 'published' is the code's
 * U(-1/sqrt(fanOut), 1/sqrt(fanOut)) with fanOut = units or output channels.
 */
export type ThetaInit = 'glorotUniform' | 'heNormal' | 'published';

export const NOISE_EPS = 1e-8;
export const DEFAULT_LOG_SIGMA2_INIT = -10;

export interface VariationalBaseArgs {
  /** Number of representation values, 2..8, fixed before training. */
  M?: number;
  /**
   * The same as M, under the name getConfig writes: tfjs snake-cases config keys when saving and would turn
   * 'M' into 'm'. Give one of the two.
   */
  numLevels?: number;
  /** Initial log σ² of every weight (the code's -10 for the LeNet, -8 for the DenseNet). */
  logSigma2Init?: number;
  /** Initial levels span ±levelSpread·std(θ_init); default √3·(M-1)/M (Lloyd-Max for a uniform init). */
  levelSpread?: number;
  /** Train the levels (default true); false freezes them at their initial values (ablation). */
  learnLevels?: boolean;
  thetaInit?: ThetaInit;
  useBias?: boolean;
  mode?: VariationalMode;
  trainForward?: TrainForward;
  /**
   * Iterative freezing of oscillating weights (Nagel et al. 2022, see oscillations.ts): after each optimizer
   * step a weight whose level index reversed direction more often than this (EMA frequency) is pinned to a
   * level for the rest of training. 0 (default) = off.
   */
  freezeThreshold?: number;
  /** EMA momentum of the oscillation frequency (default 0.01, Nagel et al.'s). */
  freezeMomentum?: number;
  /** Seeds the θ initialiser and the noise stream. */
  seed?: number;
  name?: string;
  trainable?: boolean;
  inputShape?: (number | null)[];
  batchInputShape?: (number | null)[];
}

/** Identity forward, zero gradient: the stop-gradient of the straight-through estimator. */
const stopGradient = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
  value: tf.clone(args[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as (x: tf.Tensor) => tf.Tensor;

export abstract class VariationalLayer extends tf.layers.Layer {
  readonly M: number;
  readonly logSigma2Init: number;
  readonly levelSpread: number;
  readonly learnLevels: boolean;
  readonly thetaInit: ThetaInit;
  readonly useBias: boolean;
  readonly seed: number;
  readonly freezeThreshold: number;
  readonly freezeMomentum: number;
  mode: VariationalMode;
  trainForward: TrainForward;
  /**
   * Use `mode` even in a training-mode call. Batch-norm recalibration sets it, so the batch-norm layers see
   * training batches while the weights stay those of the mode being evaluated.
   */
  modeInTraining = false;

  protected theta!: tf.LayerVariable;
  protected logSigma2!: tf.LayerVariable;
  protected levelParams!: tf.LayerVariable;
  protected bias: tf.LayerVariable | null = null;
  /** Oscillation tracking state, as non-trainable weights so checkpoints keep it (only when freezing is on). */
  private oscillation: Record<keyof OscillationState, tf.LayerVariable> | null = null;
  private rng: Rng;
  /**
   * Q(θ) of the last quantized inference call, valid while θ and the levels hold the same values: a tfjs
   * variable gets a new dataId on every write (optimizer step, checkpoint load), so the ids are the key.
   * Without it, every inference call re-ran the level assignment (several times the cost of the layer).
   */
  private quantizedCache: { theta: object; levels: object; q: tf.Tensor } | null = null;

  constructor(args: VariationalBaseArgs) {
    super(args);
    const m = args.M ?? args.numLevels;
    checkM(m as number);
    this.M = m as number;
    this.logSigma2Init = args.logSigma2Init ?? DEFAULT_LOG_SIGMA2_INIT;
    this.levelSpread = args.levelSpread ?? defaultLevelSpread(this.M);
    this.learnLevels = args.learnLevels ?? true;
    this.thetaInit = args.thetaInit ?? 'glorotUniform';
    this.useBias = args.useBias ?? true;
    this.mode = args.mode ?? 'quantized';
    this.trainForward = args.trainForward ?? 'mean';
    this.freezeThreshold = args.freezeThreshold ?? 0;
    this.freezeMomentum = args.freezeMomentum ?? 0.01;
    checkFreezeOptions({ threshold: this.freezeThreshold, momentum: this.freezeMomentum });
    // Without a seed the layer is still reproducible under a seeded Math.random (see train/seededRandom).
    this.seed = args.seed ?? Math.floor(Math.random() * 0x7fffffff);
    this.rng = new Rng(this.seed ^ 0x5bd1e995);
  }

  /** Shape of the weight tensor for this input shape. */
  protected abstract kernelShape(inputShape: (number | null)[]): number[];
  /** Number of outputs per weight column (units / filters), for the 'published' initialiser and the bias. */
  protected abstract outputChannels(): number;
  /** The layer's linear map x∘w. */
  protected abstract linear(x: tf.Tensor, w: tf.Tensor): tf.Tensor;

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as (number | null)[];
    const kshape = this.kernelShape(shape);
    this.theta = this.addWeight('theta', kshape, 'float32', this.thetaInitializer(kshape), undefined, true);
    this.logSigma2 = this.addWeight(
      'log_sigma2', kshape, 'float32', tf.initializers.constant({ value: this.logSigma2Init }), undefined, true);
    // Levels start where the initial weights are. (When a saved model is loaded, tfjs initialises θ with zeros
    // before overwriting everything; any spread does then.)
    this.levelParams = this.addWeight('levels', [this.M], 'float32', tf.initializers.zeros(), undefined, this.learnLevels);
    this.writeLevelSlots(this.levelsSpreadOver(this.theta.read()));
    if (this.useBias) {
      this.bias = this.addWeight('bias', [this.outputChannels()], 'float32', tf.initializers.zeros(), undefined, true);
    }
    if (this.freezeThreshold > 0) {
      const vars = {} as Record<keyof OscillationState, tf.LayerVariable>;
      for (const key of OSCILLATION_STATE_KEYS) {
        vars[key] = this.addWeight(`osc_${key}`, kshape, 'float32', tf.initializers.zeros(), undefined, false);
      }
      this.oscillation = vars;
      this.resetOscillations();
    }
    this.built = true;
  }

  /** M levels evenly spread over ±levelSpread·std(w) (std 0, e.g. all-zero weights, counts as 1). */
  private levelsSpreadOver(w: tf.Tensor): number[] {
    const std = tf.tidy(() => Math.sqrt(tf.moments(w).variance.dataSync()[0])) || 1;
    return initLevels(this.M, std, this.levelSpread);
  }

  /** Start the oscillation tracking afresh from the current assignment (nothing frozen). */
  private resetOscillations(): void {
    if (!this.oscillation) return;
    const init = tf.tidy(() => initialOscillationState(assignLevels(this.theta.read(), this.sortedLevels()).indices));
    for (const key of OSCILLATION_STATE_KEYS) this.oscillation[key].write(init[key]);
    tf.dispose(Object.values(init));
  }

  /**
   * Start from a trained float layer of the same shape (soft weight-sharing and sparse VD start from trained
   * nets too): θ ← kernel, bias ← bias, the levels re-spread over the kernel as at build, and
   * the oscillation tracking restarted. log σ² keeps its initial value.
   */
  loadFloatWeights(kernel: tf.Tensor, bias: tf.Tensor | null): void {
    const want = this.theta.shape.join('x');
    if (kernel.shape.join('x') !== want) {
      throw new Error(`${this.name}: float kernel has shape [${kernel.shape}], this layer's means have [${this.theta.shape}]`);
    }
    this.theta.write(kernel);
    if (this.bias && bias) this.bias.write(bias);
    this.writeLevelSlots(this.levelsSpreadOver(kernel));
    this.resetOscillations();
  }

  private thetaInitializer(kshape: number[]): ReturnType<typeof tf.initializers.zeros> {
    const seed = this.seed;
    switch (this.thetaInit) {
      case 'glorotUniform':
        return tf.initializers.glorotUniform({ seed });
      case 'heNormal':
        return tf.initializers.heNormal({ seed });
      case 'published': {
        const b = 1 / Math.sqrt(kshape[kshape.length - 1]);
        return tf.initializers.randomUniform({ minval: -b, maxval: b, seed });
      }
      default:
        throw new Error(`Unknown thetaInit '${this.thetaInit as string}'`);
    }
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const theta = this.theta.read();
      let out: tf.Tensor;
      if (kwargs.training && !this.modeInTraining) {
        const wMean = this.trainForward === 'ste' ? this.steWeights() : theta;
        const mu = this.linear(x, wMean);
        const variance = this.linear(tf.square(x), tf.exp(this.logSigma2.read()));
        const eps = normalNoise(mu.shape, this.rng.nextSeed());
        out = tf.add(mu, tf.mul(tf.sqrt(tf.add(variance, NOISE_EPS)), eps));
      } else if (this.mode === 'quantized') {
        out = this.linear(x, this.inferenceQuantizedWeights());
      } else if (this.mode === 'mean') {
        out = this.linear(x, theta);
      } else {
        const center = this.mode === 'sampleQuantized' ? assignLevels(theta, this.sortedLevels()).quantized : theta;
        const sigma = tf.exp(tf.mul(0.5, this.logSigma2.read()));
        const w = tf.add(center, tf.mul(sigma, randomNormal(theta.shape, 0, 1, this.rng.nextSeed())));
        out = this.linear(x, w);
      }
      return this.bias ? tf.add(out, this.bias.read()) : out;
    });
  }

  /** Q(θ) for an inference call: cached between weight writes, recomputed under a gradient tape. */
  private inferenceQuantizedWeights(): tf.Tensor {
    const theta = this.theta.read();
    const levels = this.levelParams.read();
    // The cached tensor carries no gradient: under tf.grad the levels' gradient must flow, so compute afresh.
    if (tf.engine().state.gradientDepth > 0) return assignLevels(theta, this.sortedLevels()).quantized;
    const c = this.quantizedCache;
    if (c && c.theta === theta.dataId && c.levels === levels.dataId && !c.q.isDisposed) return c.q;
    this.releaseQuantizedCache();
    const q = tf.keep(tf.tidy(() => assignLevels(theta, this.sortedLevels()).quantized));
    this.quantizedCache = { theta: theta.dataId, levels: levels.dataId, q };
    return q;
  }

  private releaseQuantizedCache(): void {
    this.quantizedCache?.q.dispose();
    this.quantizedCache = null;
  }

  override dispose() {
    this.releaseQuantizedCache();
    return super.dispose();
  }

  /** Q(θ) forward; ∂/∂θ = identity (straight through), ∂/∂r_k = number-weighted upstream of weights in cell k. */
  private steWeights(): tf.Tensor {
    const theta = this.theta.read();
    const q = assignLevels(theta, this.sortedLevels()).quantized;
    return tf.add(q, tf.sub(theta, stopGradient(theta)));
  }

  /**
   * Called by the training loop after every optimizer step: track level-index oscillations and pin every
   * frozen weight's mean to its level (so frozen weights follow their level when the levels move).
   */
  afterStep(): void {
    if (!this.oscillation) return;
    const vars = this.oscillation;
    tf.tidy(() => {
      const state = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, v.read()])) as unknown as OscillationState;
      const levels = this.sortedLevels();
      const theta = this.theta.read();
      const next = trackOscillations(state, assignLevels(theta, levels).indices,
        { threshold: this.freezeThreshold, momentum: this.freezeMomentum });
      for (const key of OSCILLATION_STATE_KEYS) vars[key].write(next[key]);
      const pinned = tf.sum(tf.mul(tf.oneHot(tf.cast(next.frozenIndex, 'int32'), this.M), levels), -1);
      this.theta.write(tf.where(tf.cast(next.frozen, 'bool'), pinned, theta));
    });
  }

  /** Number of weights frozen by oscillation freezing (0 when it is off). */
  frozenCount(): number {
    if (!this.oscillation) return 0;
    return tf.tidy(() => tf.sum(this.oscillation!.frozen.read()).dataSync()[0]);
  }

  /** The levels in ascending order (differentiable w.r.t. the stored level weights). */
  sortedLevels(): tf.Tensor1D {
    return sortLevels(this.levelParams.read());
  }

  /** KL(q || prior) of this layer's weights, summed over weights (a differentiable scalar). */
  kl(prior: PriorSpec): tf.Scalar {
    return tf.tidy(() =>
      priorKl(prior, { mean: this.theta.read(), logSigma2: this.logSigma2.read(), levels: this.sortedLevels() }));
  }

  /** Σ (Q(θ) - θ)²: how far the means are from their levels (the paper's "quantized loss"). */
  quantizationLoss(): tf.Scalar {
    return tf.tidy(() => {
      const theta = this.theta.read();
      return tf.sum(tf.square(tf.sub(assignLevels(theta, this.sortedLevels()).quantized, theta))) as tf.Scalar;
    });
  }

  /** Q(θ) as a tensor (caller disposes). */
  quantizedWeights(): tf.Tensor {
    return tf.tidy(() => assignLevels(this.theta.read(), this.sortedLevels()).quantized);
  }

  /** The M levels, ascending. */
  levelsValues(): number[] {
    return Array.from(tf.tidy(() => this.sortedLevels()).dataSync());
  }

  /** The stored level slots, in storage (not sorted) order. */
  levelSlots(): number[] {
    return Array.from(this.levelParams.read().dataSync());
  }

  /** Overwrite the stored level slots (storage order), e.g. to damp an optimizer step. */
  writeLevelSlots(values: number[]): void {
    if (values.length !== this.M) throw new Error(`${this.name}: expected ${this.M} level values, got ${values.length}`);
    const t = tf.tensor1d(values);
    this.levelParams.write(t);
    t.dispose();
  }

  /**
   * Projection step after an optimizer update: keep adjacent levels at least `fraction` of the mean level
   * spacing apart (see separateLevels), so the layer keeps M distinct values. Returns true if it moved any.
   */
  separateLevels(fraction: number): boolean {
    if (!(fraction > 0) || !this.learnLevels) return false;
    const now = this.levelSlots();
    const next = separateLevels(now, fraction);
    // Write back in the stored order, so each level keeps its optimizer moments.
    const order = now.map((_, i) => i).sort((a, b) => now[a] - now[b] || a - b);
    const out = now.slice();
    order.forEach((idx, k) => (out[idx] = next[k]));
    if (out.every((v, i) => v === now[i])) return false;
    this.writeLevelSlots(out);
    return true;
  }

  /** The M-1 partitions (midpoints between adjacent levels), ascending. */
  partitionValues(): number[] {
    return Array.from(tf.tidy(() => partitions(this.sortedLevels())).dataSync());
  }

  /** The variational means θ, flattened (for histograms). */
  meansValues(): Float32Array {
    return this.theta.read().dataSync() as Float32Array;
  }

  logSigma2Values(): Float32Array {
    return this.logSigma2.read().dataSync() as Float32Array;
  }

  /** How many weights use each level (for the memory/entropy report and histograms). */
  levelCounts(): number[] {
    const idx = tf.tidy(() => assignLevels(this.theta.read(), this.sortedLevels()).indices);
    const data = idx.dataSync();
    idx.dispose();
    const counts = new Array<number>(this.M).fill(0);
    for (let i = 0; i < data.length; i++) counts[data[i]]++;
    return counts;
  }

  /** Number of quantized weights (θ entries). */
  numWeights(): number {
    return this.theta.read().size;
  }

  /** Restart the noise stream (Monte-Carlo prediction with its own seed). */
  reseed(seed: number): void {
    this.rng = new Rng(seed);
  }

  /** The noise stream's position, saved in checkpoints so a resumed run draws the same noise (train/checkpoint). */
  checkpointState(): { noiseRng: number } {
    return { noiseRng: this.rng.getState() };
  }

  restoreCheckpointState(state: unknown): void {
    const s = (state as { noiseRng?: unknown } | null)?.noiseRng;
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > 0xffffffff) {
      throw new Error(`${this.name}: bad checkpoint state ${JSON.stringify(state)} (expected {noiseRng: uint32})`);
    }
    this.rng.setState(s);
  }

  /**
   * For checkpoints that did not save the noise stream: the stream as training left it after `steps` optimizer
   * steps, assuming (as the training loop does) one training-mode call per step since the layer was constructed.
   */
  reconstructCheckpointState(steps: number): void {
    this.rng = new Rng(this.seed ^ 0x5bd1e995);
    for (let i = 0; i < steps; i++) this.rng.next();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      numLevels: this.M,
      logSigma2Init: this.logSigma2Init,
      levelSpread: this.levelSpread,
      learnLevels: this.learnLevels,
      thetaInit: this.thetaInit,
      useBias: this.useBias,
      mode: this.mode,
      trainForward: this.trainForward,
      freezeThreshold: this.freezeThreshold,
      freezeMomentum: this.freezeMomentum,
      seed: this.seed,
    };
  }
}

export function isVariationalLayer(layer: unknown): layer is VariationalLayer {
  return layer instanceof VariationalLayer;
}
