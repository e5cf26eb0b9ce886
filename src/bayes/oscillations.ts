/**
 * Oscillation tracking and iterative weight freezing (Nagel, Fournarakis, Bondarenko & Blankevoort,
 * "Overcoming Oscillations in Quantization-Aware Training", ICML 2022), for the M-ary levels.
 *
 * With a straight-through forward, a weight whose best value lies between two levels keeps crossing the
 * decision boundary: on each side the likelihood gradient points back to the other side. Such a weight sits
 * at a boundary, as far from both levels as it can be, and no prior pull holds it (the two neighbouring
 * spikes' pulls cancel there). Nagel et al. count, per weight, how often its integer (here: level index)
 * changes direction, as an exponential moving average, and freeze a weight whose frequency exceeds a threshold
 * at the rounded moving average of its index. The layer then pins its mean θ to that level.
 *
 * Everything here is a pure function of tensors: one call per optimizer step.
 */
import * as tf from '@tensorflow/tfjs';

/** Per-weight tracking state, float32 tensors of the weight's shape. */
export type OscillationState = {
  /** Level index at the previous step (frozen weights: their frozen index). */
  prevIndex: tf.Tensor;
  /** Direction (+1 / -1) of the last index change, 0 before the first. */
  lastDirection: tf.Tensor;
  /** EMA of "the index changed against the direction of its last change". */
  frequency: tf.Tensor;
  /** EMA of the index, which a weight is frozen at (rounded). */
  indexEma: tf.Tensor;
  /** 1 for frozen weights, else 0. */
  frozen: tf.Tensor;
  /** The index a frozen weight keeps (meaningless where frozen = 0). */
  frozenIndex: tf.Tensor;
};

/** The state's fields, in the order the layers store them as weights. */
export const OSCILLATION_STATE_KEYS = ['prevIndex', 'lastDirection', 'frequency', 'indexEma', 'frozen', 'frozenIndex'] as const;

export interface FreezeOptions {
  /** EMA momentum m in f ← m·oscillated + (1 - m)·f (Nagel et al.: 0.01). */
  momentum: number;
  /** Freeze where f > threshold; 0 tracks without freezing. Should be a few times the momentum. */
  threshold: number;
}

export function checkFreezeOptions(o: FreezeOptions): void {
  if (!(o.momentum > 0 && o.momentum <= 1)) throw new Error(`freeze momentum must be in (0, 1], got ${o.momentum}`);
  if (!(o.threshold >= 0 && o.threshold < 1)) throw new Error(`freeze threshold must be in [0, 1), got ${o.threshold}`);
}

/** The state before the first step: no change seen yet, nothing frozen. `index` is the current level index. */
export function initialOscillationState(index: tf.Tensor): OscillationState {
  return tf.tidy(() => {
    const i = tf.cast(index, 'float32');
    return {
      prevIndex: i.clone(), lastDirection: tf.zerosLike(i), frequency: tf.zerosLike(i), indexEma: i.clone(),
      frozen: tf.zerosLike(i), frozenIndex: i.clone(),
    };
  });
}

/**
 * One step of tracking. `index` is the level index the optimizer step produced (before freezing); the
 * result's `prevIndex` is the index the layer uses now (frozen weights keep their frozen index).
 * Returns new tensors; the caller disposes the old state.
 */
export function trackOscillations(state: OscillationState, index: tf.Tensor, o: FreezeOptions): OscillationState {
  return tf.tidy(() => {
    const m = o.momentum;
    const wasFrozen = tf.cast(state.frozen, 'bool');
    const idx = tf.where(wasFrozen, state.frozenIndex, tf.cast(index, 'float32'));
    const direction = tf.sign(tf.sub(idx, state.prevIndex));
    const oscillated = tf.cast(tf.equal(tf.mul(direction, state.lastDirection), -1), 'float32');
    const frequency = tf.add(tf.mul(m, oscillated), tf.mul(1 - m, state.frequency));
    const lastDirection = tf.where(tf.notEqual(direction, 0), direction, state.lastDirection);
    let frozen = state.frozen;
    let frozenIndex = state.frozenIndex;
    if (o.threshold > 0) {
      const freezeNow = tf.logicalAnd(tf.greater(frequency, o.threshold), tf.logicalNot(wasFrozen));
      frozen = tf.cast(tf.logicalOr(wasFrozen, freezeNow), 'float32');
      // Frozen at where the weight spent its recent steps (the EMA before this step), as Nagel et al., and
      // once: their code re-sets the index of a frozen weight while its frequency is still above the threshold.
      frozenIndex = tf.where(freezeNow, tf.round(state.indexEma), state.frozenIndex);
    }
    const indexEma = tf.add(tf.mul(m, idx), tf.mul(1 - m, state.indexEma));
    return { prevIndex: idx, lastDirection, frequency, indexEma, frozen: tf.clone(frozen), frozenIndex: tf.clone(frozenIndex) };
  });
}
