/**
 * Per-example augmentation done while copying bytes into the batch's float buffer: a random crop of the
 * image zero-padded by `padCrop` pixels on every side, then a random horizontal flip (the standard CIFAR
 * recipe). Padding is black in pixel space (byte 0, then normalized), as torchvision's RandomCrop before
 * Normalize does.
 */
import type { Rng } from '../util/random';

export interface AugmentOptions {
  /** Pad by this many pixels, then crop back to the original size at a random offset. */
  padCrop?: number;
  /** Mirror left-right with probability 1/2. */
  flip?: boolean;
}

/** Output pixel (h, w) reads input pixel (h + dy, w' + dx), where w' = W-1-w when flipped. */
export interface ExampleTransform {
  dy: number;
  dx: number;
  flip: boolean;
}

export const IDENTITY: ExampleTransform = { dy: 0, dx: 0, flip: false };

/** Draw one example's transform; draws nothing for disabled parts, so enabling flip does not shift crops. */
export function drawTransform(rng: Rng, aug: AugmentOptions | undefined): ExampleTransform {
  if (!aug) return IDENTITY;
  const pad = aug.padCrop ?? 0;
  if (!(Number.isInteger(pad) && pad >= 0)) throw new Error(`augment.padCrop must be a non-negative integer, got ${pad}`);
  const dy = pad > 0 ? rng.int(2 * pad + 1) - pad : 0;
  const dx = pad > 0 ? rng.int(2 * pad + 1) - pad : 0;
  const flip = aug.flip ? rng.next() < 0.5 : false;
  return { dy, dx, flip };
}

/**
 * Write one HxWxC example from `src` (bytes at srcOff) to `dst` (floats at dstOff) through the
 * normalization table `table` (C*256 entries), applying `t`. Pixels that fall in the padding read byte 0.
 */
export function writeExample(
  src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number,
  h: number, w: number, c: number, table: Float32Array, t: ExampleTransform,
): void {
  if (t.dy === 0 && t.dx === 0 && !t.flip) {
    // Fast path (test split, no augmentation): a straight table lookup.
    const n = h * w * c;
    for (let i = 0; i < n; i++) dst[dstOff + i] = table[(i % c) * 256 + src[srcOff + i]];
    return;
  }
  for (let y = 0; y < h; y++) {
    const sy = y + t.dy;
    for (let x = 0; x < w; x++) {
      const sx = (t.flip ? w - 1 - x : x) + t.dx;
      const out = dstOff + (y * w + x) * c;
      const inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
      const at = srcOff + (sy * w + sx) * c;
      for (let k = 0; k < c; k++) dst[out + k] = table[k * 256 + (inside ? src[at + k] : 0)];
    }
  }
}
