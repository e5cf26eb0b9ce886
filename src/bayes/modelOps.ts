/** Model-level sums and switches over all variational layers of a tf.LayersModel (nested models included). */
import * as tf from '@tensorflow/tfjs';
import { isVariationalLayer, type VariationalLayer, type VariationalMode } from './variationalLayer';
import type { PriorSpec } from './priors';

/** All VariationalDense / VariationalConv2D layers, in model order. */
export function variationalLayers(model: tf.LayersModel): VariationalLayer[] {
  const out: VariationalLayer[] = [];
  const visit = (layers: tf.layers.Layer[]): void => {
    for (const l of layers) {
      if (isVariationalLayer(l)) out.push(l);
      else if (l instanceof tf.LayersModel) visit(l.layers);
    }
  };
  visit(model.layers);
  return out;
}

function sumOver(model: tf.LayersModel, term: (l: VariationalLayer) => tf.Scalar): tf.Scalar {
  return tf.tidy(() => {
    const layers = variationalLayers(model);
    if (layers.length === 0) return tf.scalar(0);
    return tf.addN(layers.map(term)) as tf.Scalar;
  });
}

/** Σ_layers Σ_weights (Q(θ) - θ)², the "quantized loss" of the paper's figures. Differentiable. */
export function quantizationLoss(model: tf.LayersModel): tf.Scalar {
  return sumOver(model, (l) => l.quantizationLoss());
}

const priors = new WeakMap<tf.LayersModel, PriorSpec>();

/** Remember the prior a model was built for (the model builders do this), so callers need not repeat it. */
export function attachPrior(model: tf.LayersModel, prior: PriorSpec): void {
  priors.set(model, prior);
}

export function modelPrior(model: tf.LayersModel): PriorSpec | undefined {
  return priors.get(model);
}

/**
 * Σ_layers KL(q || prior), summed over every weight (scale it in the ELBO, see elbo.ts). Differentiable.
 * Without `prior`, the one attached to the model is used. `perLayerMean` averages each layer's KL over its
 * weights before summing the layers (the published code's scaling, which weighs small layers far more).
 */
export function klDivergence(
  model: tf.LayersModel, prior: PriorSpec | undefined = modelPrior(model),
  opts: { perLayerMean?: boolean; layerWeight?: (numWeights: number) => number } = {},
): tf.Scalar {
  if (!prior) throw new Error('klDivergence: no prior given and none attached to the model (attachPrior)');
  // perLayerMean: Σ_layers KL_l / n_l, the published code's scaling (each layer's KL averaged over its weights);
  // layerWeight: Σ_layers w(n_l)·KL_l, any other per-layer weighting.
  const weight = opts.perLayerMean ? (n: number) => 1 / n : opts.layerWeight;
  return sumOver(model, (l) => (weight ? tf.mul(l.kl(prior), weight(l.numWeights())) as tf.Scalar : l.kl(prior)));
}

/** Set the inference mode of every variational layer; returns the previous modes (for restoreModes). */
export function setMode(model: tf.LayersModel, mode: VariationalMode): VariationalMode[] {
  return variationalLayers(model).map((l) => {
    const old = l.mode;
    l.mode = mode;
    return old;
  });
}

export function restoreModes(model: tf.LayersModel, modes: VariationalMode[]): void {
  variationalLayers(model).forEach((l, i) => (l.mode = modes[i] ?? l.mode));
}

/** Per-layer summary for logs and plots: levels, partitions, level usage, mean log σ². */
export function levelReport(model: tf.LayersModel): {
  name: string; levels: number[]; partitions: number[]; counts: number[]; meanLogSigma2: number;
}[] {
  return variationalLayers(model).map((l) => {
    const ls = l.logSigma2Values();
    let s = 0;
    for (let i = 0; i < ls.length; i++) s += ls[i];
    return { name: l.name, levels: l.levelsValues(), partitions: l.partitionValues(), counts: l.levelCounts(), meanLogSigma2: s / ls.length };
  });
}

/**
 * Start a Bayesian network from a trained float network of the same architecture: the i-th variational layer
 * takes the i-th kernel layer's kernel and bias (its levels are re-spread over the kernel, see
 * `loadFloatWeights`), and the i-th batch norm layer takes the i-th batch norm's parameters and statistics.
 */
export function initFromFloat(model: tf.LayersModel, floatModel: tf.LayersModel): void {
  const vls = variationalLayers(model);
  const kernelLayers = floatModel.layers.filter((l) => l.weights.some((w) => w.originalName.endsWith('/kernel')));
  const bnOf = (m: tf.LayersModel) => m.layers.filter((l) => l.getClassName() === 'BatchNormalization');
  const [bn, floatBn] = [bnOf(model), bnOf(floatModel)];
  if (kernelLayers.length !== vls.length || bn.length !== floatBn.length) {
    throw new Error(`initFromFloat: the float network has ${kernelLayers.length} kernel and ${floatBn.length} batch norm layers, ` +
      `the Bayesian one ${vls.length} variational and ${bn.length} batch norm layers: not the same architecture`);
  }
  vls.forEach((l, i) => {
    const find = (suffix: string) => kernelLayers[i].weights.find((w) => w.originalName.endsWith(suffix))?.read() ?? null;
    l.loadFloatWeights(find('/kernel') as tf.Tensor, find('/bias'));
  });
  bn.forEach((l, i) => l.setWeights(floatBn[i].getWeights()));
}
