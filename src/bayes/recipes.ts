/**
 * Named training recipes of the Bayesian M-ary LeNet-5, as data: every knob with its value and the reason for it.
 *
 *  - `paper`: Chien & Chang's procedure as published (paper + code), with only the code's bugs fixed. From
 *    scratch, the reparameterized noisy forward pass around θ (local reparameterization; the likelihood sees
 *    q(w) = N(θ, σ²), so the loss is the negative ELBO of one posterior), the code's KL scaling (each layer's KL
 *    averaged over its weights; the code counted only the last layer, twice), KL warm-up over 15 epochs, Adam
 *    1e-3 (eps 1e-6), levels at 0.01·lr, gradients clamped to ±1, lr -= 0.001/200 per epoch from epoch 50, the
 *    code's MNIST LeNet ('valid' first convolution), BN momentum 0.1 in PyTorch terms.
 *  - `qnnlab`: this project's recipe, chosen on validation data: start from the trained float LeNet-5, a
 *    straight-through forward on Q(θ), the ELBO with the prior weighted (N/n_l)^0.5 per layer, iterative freezing
 *    of oscillating weights and a minimum gap between levels.
 *
 * Experiments read a recipe as a block of config defaults (`recipeConfig`); any single knob can still be
 * overridden on the command line. docs/mary-recipes.md explains each difference and the ablation that measures it.
 */

export interface RecipeKnob {
  value: unknown;
  /** One line: why this value. */
  why: string;
}

export type Recipe = Record<string, RecipeKnob>;

const SHARED: Recipe = {
  batchSize: { value: 128, why: 'the code\'s LeNet batch' },
  lr: { value: 1e-3, why: 'the code\'s Adam learning rate' },
  klLambda: { value: 1, why: 'no tempering: the prior at the weight the objective gives it' },
  slabWidth: { value: 0.075, why: 'the code\'s slab window width' },
  gaussianPriorLogSigma2: { value: -4, why: 'σ0 = e^-2, the Gaussian prior width the code ends up with' },
  spikeSlabGate: { value: 'normalized', why: 'the slab windows normalized into a mixture (the code\'s raw windows do not sum to one, so pushing weights away from every level also lowers its KL)' },
  logSigma2Init: { value: -10, why: 'the code\'s initial log σ² for the LeNet' },
  freezeMomentum: { value: 0.01, why: 'Nagel et al.\'s EMA momentum (used only when freezing is on)' },
};

export const RECIPES: Record<'paper' | 'qnnlab', Recipe> = {
  paper: {
    ...SHARED,
    initFromFloat: { value: false, why: 'the paper trains the Bayesian net from scratch' },
    thetaInit: { value: 'published', why: 'the code\'s U(±1/sqrt(fan-out)) initial means' },
    trainForward: { value: 'mean', why: 'the likelihood sees q(w) = N(θ, σ²) (local reparameterization): the ELBO of one posterior' },
    conv1Padding: { value: 'valid', why: 'the code\'s MNIST LeNet (4·4·16 = 256 features into fc1)' },
    bnMomentum: { value: 0.9, why: 'PyTorch\'s default BN momentum 0.1, which the code uses' },
    klNormalization: { value: 'layerMean', why: 'the code\'s KL scaling: each layer\'s KL averaged over its weights, every layer once (the code\'s bug counted the last layer twice and no other)' },
    klLayerExponent: { value: 0, why: 'no extra per-layer weighting beyond the code\'s' },
    klWarmupEpochs: { value: 15, why: 'the code\'s linear KL warm-up (coef += 1/15 per epoch)' },
    logAlphaClip: { value: 3, why: 'the code clips log α to ±3' },
    levelLrScale: { value: 0.01, why: 'the code trains its level scales at 0.01·lr' },
    minLevelGap: { value: 0, why: 'the code keeps no gap between levels' },
    freezeThreshold: { value: 0, why: 'no freezing in the paper' },
    clipValue: { value: 1, why: 'the code clamps every gradient element to [-1, 1]' },
    adamEpsilon: { value: 1e-6, why: 'the code\'s Adam eps' },
    epochs: { value: 50, why: 'at least 50 of the code\'s 195 epochs (runs resume, so a longer run continues a shorter one)' },
    lrSchedule: { value: 'linearDecay', why: 'the code: constant, then lr -= 0.001/200 per epoch from epoch 50' },
    decayStart: { value: 50, why: 'the code\'s epoch 50' },
    decayPerEpoch: { value: 0.001 / 200, why: 'the code\'s 0.001/200 per epoch' },
    milestones: { value: [], why: 'not used by the linear decay' },
  },
  qnnlab: {
    ...SHARED,
    initFromFloat: { value: true, why: 'start from the trained float LeNet-5: the prior then fixes the level assignments of a trained net (from scratch it fixes them at ~97.5 %)' },
    thetaInit: { value: 'glorotUniform', why: 'overwritten by the float net\'s weights' },
    trainForward: { value: 'ste', why: 'Q(θ) forward with a straight-through gradient: training sees the weights that are deployed' },
    conv1Padding: { value: 'same', why: 'the float LeNet-5\'s network, so the Bayesian net can start from it' },
    bnMomentum: { value: 0.99, why: 'slower BN running averages: with 0.9 the last epochs swing by 0.3 points at lr 1e-5' },
    klNormalization: { value: 'elbo', why: 'the ELBO: the KL summed over weights, divided by N' },
    klLayerExponent: { value: 0.5, why: 'layer l\'s KL weighted (N/n_l)^0.5: a stronger prior on the small layers (conv1, fc3), whose few weights get large, noisy gradients' },
    klWarmupEpochs: { value: 1, why: 'a short warm-up: the net starts trained' },
    logAlphaClip: { value: 8, why: 'with log σ² ≈ -10, ±3 zeroes the prior\'s gradient for every weight farther than ~0.03 from all levels' },
    levelLrScale: { value: 1, why: 'the levels learn at the full rate (0.01 keeps them at their initial, symmetric spread)' },
    minLevelGap: { value: 0.25, why: 'keep adjacent levels at least 0.25 of the mean spacing apart so every layer deploys M distinct values' },
    freezeThreshold: { value: 0.02, why: 'freeze weights whose level index oscillates (Nagel et al. 2022)' },
    clipValue: { value: 0, why: 'no clipping needed from a trained start' },
    adamEpsilon: { value: 1e-7, why: 'TensorFlow.js\'s default' },
    epochs: { value: 8, why: 'the loss and validation accuracy settle within 8 epochs from the float start' },
    lrSchedule: { value: 'multistep', why: 'lr x0.1 at the milestones' },
    decayStart: { value: 50, why: 'not used by the multistep schedule' },
    decayPerEpoch: { value: 0.001 / 200, why: 'not used by the multistep schedule' },
    milestones: { value: [5, 7], why: 'lr x0.1 after epochs 5 and 7' },
  },
};

export type RecipeName = keyof typeof RECIPES;
export const RECIPE_NAMES = Object.keys(RECIPES) as RecipeName[];

export function getRecipe(name: string): Recipe {
  const r = (RECIPES as Record<string, Recipe>)[name];
  if (!r) throw new Error(`Unknown recipe '${name}' (use ${RECIPE_NAMES.join(' or ')})`);
  return r;
}

/** The recipe's knobs as plain config values. */
export function recipeConfig(name: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(getRecipe(name)).map(([k, v]) => [k, JSON.parse(JSON.stringify(v.value))]));
}
