/**
 * tfjs draws the seed of every unseeded random op (dropout, randomNormal, initializers without a seed)
 * from Math.random. Routing Math.random through our seeded generator for the duration of a run makes
 * those ops reproducible, and saving the generator state in checkpoints makes a resumed run identical.
 */
import { Rng } from '../util/random';

export function installSeededMathRandom(rng: Rng): () => void {
  const original = Math.random;
  Math.random = () => rng.next();
  return () => {
    Math.random = original;
  };
}

/** Deterministic per-epoch seed for data shuffling/augmentation, independent of what ran before. */
export function epochSeed(seed: number, epoch: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (epoch + 0x7f4a7c15), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
