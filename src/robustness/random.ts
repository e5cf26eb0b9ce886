/**
 * The seeded random draws of the image shifts and the noise OOD set: uniform, standard normal and Poisson, all
 * from one 32-bit seed, so a (shift, seed) pair names one exact image set on every machine.
 */

/** mulberry32 (the generator of src/util/random) with normal and Poisson draws added. */
export class ShiftRng {
  private state: number;
  private spare: number | null = null;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number, got ${seed}`);
    this.state = Math.trunc(seed) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
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
