/**
 * The seeded random draws of the image shifts and the noise OOD set: uniform, standard normal and Poisson, all
 * from one 32-bit seed, so a (shift, seed) pair names one exact image set on every machine.
 */

import { Rng } from '../util/random';

/** The project's seeded generator (src/util/random) with normal and Poisson draws added. */
export class ShiftRng extends Rng {
  private spare: number | null = null;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number, got ${seed}`);
    super(Math.trunc(seed));
  }

  /** Standard normal (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u1 = 1 - this.next(); // (0, 1]: log(u1) is finite
    const u2 = this.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /**
   * Poisson(λ), exactly: Knuth's product of uniforms on pieces of mean ≤ 30 (a sum of independent Poisson
   * variables is Poisson with the summed mean), so exp(−λ) never underflows. O(λ) uniforms per draw.
   */
  poisson(lambda: number): number {
    if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new Error(`poisson: mean must be finite and ≥ 0, got ${lambda}`);
    let total = 0;
    let rest = lambda;
    while (rest > 0) {
      const piece = Math.min(rest, 30);
      rest -= piece;
      const limit = Math.exp(-piece);
      let prod = this.next();
      while (prod > limit) {
        total++;
        prod *= this.next();
      }
    }
    return total;
  }
}
