/**
 * Roulette-wheel selection without replacement, as in the `Roulette()` of the stochastic-quantization Caffe
 * layers (`dongyp13/Stochastic-Quantization`, `conv_layer_{binary,ternary}.cu`): each draw takes a uniform
 * p in [0, total), walks the not-yet-chosen items in index order and picks the one whose interval
 * [cum, cum + w_i) contains p; the chosen item's weight is removed from the total.
 *
 * Weights are given as natural logarithms so that softmax-like weights exp(f_i) with large f do not
 * overflow: each draw re-normalizes by the largest remaining log-weight. -Infinity means weight 0: such an
 * item is never drawn, and when only zero-weight items remain the selection stops early (as the Caffe loop,
 * which then finds no hit).
 */
import type { Rng } from '../util/random';

/**
 * Draw up to `count` distinct indices; each draw picks index i among the remaining ones with probability
 * exp(logWeights[i]) / sum over remaining. Returns the indices in draw order (fewer than `count` when the
 * remaining weight is zero).
 */
export function rouletteWithoutReplacement(logWeights: ArrayLike<number>, count: number, rng: Rng): number[] {
  const n = logWeights.length;
  const chosen = new Uint8Array(n);
  const picks: number[] = [];
  const w = new Float64Array(n);
  const want = Math.min(Math.max(0, Math.floor(count)), n);
  for (let draw = 0; draw < want; draw++) {
    let maxLog = -Infinity;
    for (let i = 0; i < n; i++) {
      if (!chosen[i] && logWeights[i] > maxLog) maxLog = logWeights[i];
    }
    if (maxLog === -Infinity || Number.isNaN(maxLog)) break;
    let total = 0;
    for (let i = 0; i < n; i++) {
      w[i] = chosen[i] ? 0 : Math.exp(logWeights[i] - maxLog);
      total += w[i];
    }
    const p = rng.next() * total;
    let cum = 0;
    let pick = -1;
    for (let i = 0; i < n; i++) {
      if (chosen[i] || w[i] === 0) continue;
      if (p < cum + w[i]) {
        pick = i;
        break;
      }
      cum += w[i];
      pick = i; // rounding guard: p can reach the last partial sum; then the last positive item wins
    }
    if (pick < 0) break;
    chosen[pick] = 1;
    picks.push(pick);
  }
  return picks;
}
