/**
 * Dataset shifts of the robustness protocol (docs/robustness.md) on uint8 NHWC images (MNIST: 28×28×1): rotation
 * by an angle (Ovadia et al. 2019) and five corruptions at severities 1..5 in the manner of ImageNet-C (Hendrycks
 * & Dietterich 2019) and MNIST-C (Mu & Gilmer 2019). Every function returns a new ImageSplit with the labels
 * copied unchanged; the random ones draw from a seeded generator in image order, so a (shift, level, seed) triple
 * is one exact image set, and the first m images of a shifted split do not depend on how many follow.
 *
 * Pixel arithmetic is on the 0..255 scale in float64, rounded to the nearest integer (halves up) and clipped to
 * 0..255 once at the end.
 */
import type { ImageSplit } from '../data';
import { ShiftRng } from './random';

export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

export const MNIST_SHAPE: Readonly<ImageShape> = Object.freeze({ height: 28, width: 28, channels: 1 });

/** The rotation grid of Ovadia et al. (2019): 0° (the clean test set) to 180° in 15° steps. */
export const ROTATION_DEGREES: readonly number[] = Object.freeze(Array.from({ length: 13 }, (_, i) => 15 * i));

export const SEVERITIES: readonly number[] = Object.freeze([1, 2, 3, 4, 5]);

/*
 * Severity tables, indexed by severity − 1, on the [0, 1] intensity scale unless noted. The noise, contrast and
 * brightness tables are ImageNet-C's (Hendrycks & Dietterich 2019), which the MNIST-C code (Mu & Gilmer 2019)
 * keeps unchanged for 28×28 digits; only the blur is rescaled to the image size. docs/robustness.md gives the
 * reasons.
 */

/** Standard deviation of additive Gaussian noise: x + σ·N(0, 1). */
export const GAUSSIAN_NOISE_STD: readonly number[] = Object.freeze([0.08, 0.12, 0.18, 0.26, 0.38]);
/** Photon count per unit intensity of shot noise: Poisson(c·x)/c (lower c = noisier). */
export const SHOT_NOISE_RATE: readonly number[] = Object.freeze([60, 25, 12, 5, 3]);
/** Gaussian blur standard deviation in pixels. */
export const GAUSSIAN_BLUR_SIGMA: readonly number[] = Object.freeze([0.5, 1, 1.5, 2, 2.5]);
/** Contrast factor c: (x − mean)·c + mean, the mean taken per image and channel. */
export const CONTRAST_FACTOR: readonly number[] = Object.freeze([0.4, 0.3, 0.2, 0.1, 0.05]);
/** Brightness offset: x + c. */
export const BRIGHTNESS_OFFSET: readonly number[] = Object.freeze([0.1, 0.2, 0.3, 0.4, 0.5]);

export const CORRUPTIONS = ['gaussian-noise', 'shot-noise', 'gaussian-blur', 'contrast', 'brightness'] as const;
export type CorruptionName = (typeof CORRUPTIONS)[number];
export const SHIFT_KINDS = ['rotate', ...CORRUPTIONS] as const;
export type ShiftKind = (typeof SHIFT_KINDS)[number];

/** One shifted test set: a rotation angle in degrees (0..180) or a corruption severity (1..5). */
export interface ShiftSpec {
  kind: ShiftKind;
  level: number;
}

/** Every shifted set of the protocol: 13 rotations (0° = clean) then 5 corruptions × 5 severities. */
export function protocolShifts(): ShiftSpec[] {
  const out: ShiftSpec[] = ROTATION_DEGREES.map((d) => ({ kind: 'rotate', level: d }));
  for (const kind of CORRUPTIONS) for (const level of SEVERITIES) out.push({ kind, level });
  return out;
}

/** A file-name-safe label: 'rotate-90', 'shot-noise-3'. */
export function shiftName(shift: ShiftSpec): string {
  return `${shift.kind}-${shift.level}`;
}

function pixelsOf(fn: string, split: ImageSplit, shape: ImageShape): number {
  const { height: h, width: w, channels: c } = shape;
  if (![h, w, c].every((v) => Number.isInteger(v) && v >= 1)) throw new Error(`${fn}: image shape must be positive integers, got ${h}×${w}×${c}.`);
  const per = h * w * c;
  if (!(Number.isInteger(split.count) && split.count >= 0)) throw new Error(`${fn}: count must be a non-negative integer, got ${split.count}.`);
  if (split.images.length !== split.count * per) {
    throw new Error(`${fn}: ${split.images.length} image bytes are not ${split.count} images of ${h}×${w}×${c}.`);
  }
  if (split.labels.length !== split.count) throw new Error(`${fn}: ${split.labels.length} labels for ${split.count} images.`);
  return per;
}

function severityIndex(fn: string, severity: number): number {
  if (!(Number.isInteger(severity) && severity >= 1 && severity <= 5)) throw new Error(`${fn}: severity must be an integer 1..5, got ${severity}.`);
  return severity - 1;
}

/** Round halves up and clip to a byte. */
function toByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

function withImages(split: ImageSplit, images: Uint8Array): ImageSplit {
  return { images, labels: split.labels.slice(), count: split.count };
}

/** Apply f to every byte (f gets the byte's value; the seeded draws happen inside f, in byte order). */
function mapBytes(split: ImageSplit, f: (x: number) => number): ImageSplit {
  const src = split.images;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = toByte(f(src[i]));
  return withImages(split, out);
}

/** cos and sin of an angle in degrees, exact at multiples of 90° (so 90° rotations move pixels without blur). */
function cosSinDegrees(degrees: number): [number, number] {
  const q = degrees / 90;
  if (Number.isInteger(q)) {
    const table: [number, number][] = [[1, 0], [0, 1], [-1, 0], [0, -1]];
    return table[((q % 4) + 4) % 4];
  }
  const r = (degrees * Math.PI) / 180;
  return [Math.cos(r), Math.sin(r)];
}

/**
 * Rotate every image counter-clockwise (as displayed, row 0 at the top) by `degrees` about the image centre
 * ((W−1)/2, (H−1)/2) = (13.5, 13.5) on MNIST, with bilinear interpolation and zero (black) fill outside the
 * source image; the size stays H×W, so corners rotated out are cut. The direction is that of
 * scipy.ndimage.rotate, which Ovadia et al. (2019) used (with cubic splines): a positive angle moves the
 * top-right corner towards the top-left.
 */
export function rotate(split: ImageSplit, degrees: number, shape: ImageShape = MNIST_SHAPE): ImageSplit {
  if (!Number.isFinite(degrees)) throw new Error(`rotate: degrees must be a finite number, got ${degrees}.`);
  const per = pixelsOf('rotate', split, shape);
  const { height: H, width: W, channels: C } = shape;
  const [cos, sin] = cosSinDegrees(degrees);
  const cx = (W - 1) / 2;
  const cy = (H - 1) / 2;
  // For each output pixel: four source pixel indices (−1 = outside, reads as 0) and their bilinear weights.
  const P = H * W;
  const tap = new Int32Array(4 * P);
  const weight = new Float64Array(4 * P);
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) {
      const x = c - cx;
      const y = r - cy;
      // Inverse map: the output pixel shows the source point rotated back by −degrees (y axis pointing down).
      const sx = cx + x * cos - y * sin;
      const sy = cy + x * sin + y * cos;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const p = 4 * (r * W + c);
      const corners: [number, number, number][] = [
        [y0, x0, (1 - fx) * (1 - fy)], [y0, x0 + 1, fx * (1 - fy)], [y0 + 1, x0, (1 - fx) * fy], [y0 + 1, x0 + 1, fx * fy],
      ];
      corners.forEach(([yy, xx, wgt], t) => {
        const inside = yy >= 0 && yy < H && xx >= 0 && xx < W && wgt > 0;
        tap[p + t] = inside ? yy * W + xx : -1;
        weight[p + t] = inside ? wgt : 0;
      });
    }
  }
  const src = split.images;
  const out = new Uint8Array(src.length);
  for (let n = 0; n < split.count; n++) {
    const base = n * per;
    for (let q = 0; q < P; q++) {
      for (let ch = 0; ch < C; ch++) {
        let v = 0;
        for (let t = 0; t < 4; t++) {
          const s = tap[4 * q + t];
          if (s >= 0) v += weight[4 * q + t] * src[base + s * C + ch];
        }
        out[base + q * C + ch] = toByte(v);
      }
    }
  }
  return withImages(split, out);
}

/** Additive Gaussian noise: x + 255·σ·N(0, 1), σ = GAUSSIAN_NOISE_STD[severity − 1]. */
export function gaussianNoise(split: ImageSplit, severity: number, seed: number, shape: ImageShape = MNIST_SHAPE): ImageSplit {
  const sigma = 255 * GAUSSIAN_NOISE_STD[severityIndex('gaussianNoise', severity)];
  pixelsOf('gaussianNoise', split, shape);
  const rng = new ShiftRng(seed);
  return mapBytes(split, (x) => x + sigma * rng.normal());
}

/**
 * Shot (Poisson) noise: 255·Poisson(c·x/255)/c, c = SHOT_NOISE_RATE[severity − 1]. Unbiased, with variance
 * growing with the intensity: black pixels stay exactly black, so on MNIST only the strokes are noisy.
 */
export function shotNoise(split: ImageSplit, severity: number, seed: number, shape: ImageShape = MNIST_SHAPE): ImageSplit {
  const c = SHOT_NOISE_RATE[severityIndex('shotNoise', severity)];
  pixelsOf('shotNoise', split, shape);
  const rng = new ShiftRng(seed);
  return mapBytes(split, (x) => (x === 0 ? 0 : (255 * rng.poisson((c * x) / 255)) / c));
}

/** Normalized 1-D Gaussian kernel of standard deviation sigma, radius round(4σ) (scipy's default truncation). */
export function gaussianKernel(sigma: number): Float64Array {
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new Error(`gaussianKernel: sigma must be positive, got ${sigma}.`);
  const radius = Math.floor(4 * sigma + 0.5);
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let d = -radius; d <= radius; d++) sum += k[d + radius] = Math.exp(-(d * d) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/**
 * Gaussian blur with σ = GAUSSIAN_BLUR_SIGMA[severity − 1] pixels, separable (rows then columns), zero (black)
 * outside the image, so near the border some intensity leaves the image (none does on MNIST's black margins).
 */
export function gaussianBlur(split: ImageSplit, severity: number, shape: ImageShape = MNIST_SHAPE): ImageSplit {
  const sigma = GAUSSIAN_BLUR_SIGMA[severityIndex('gaussianBlur', severity)];
  const per = pixelsOf('gaussianBlur', split, shape);
  const { height: H, width: W, channels: C } = shape;
  const k = gaussianKernel(sigma);
  const R = (k.length - 1) / 2;
  const src = split.images;
  const out = new Uint8Array(src.length);
  const tmp = new Float64Array(per);
  for (let n = 0; n < split.count; n++) {
    const base = n * per;
    for (let r = 0; r < H; r++) {
      for (let c = 0; c < W; c++) {
        for (let ch = 0; ch < C; ch++) {
          let v = 0;
          for (let d = -R; d <= R; d++) {
            const cc = c + d;
            if (cc >= 0 && cc < W) v += k[d + R] * src[base + (r * W + cc) * C + ch];
          }
          tmp[(r * W + c) * C + ch] = v;
        }
      }
    }
    for (let r = 0; r < H; r++) {
      for (let c = 0; c < W; c++) {
        for (let ch = 0; ch < C; ch++) {
          let v = 0;
          for (let d = -R; d <= R; d++) {
            const rr = r + d;
            if (rr >= 0 && rr < H) v += k[d + R] * tmp[(rr * W + c) * C + ch];
          }
          out[base + (r * W + c) * C + ch] = toByte(v);
        }
      }
    }
  }
  return withImages(split, out);
}

/**
 * Contrast reduction: (x − m)·c + m, m the mean of the image (per channel), c = CONTRAST_FACTOR[severity − 1].
 * On MNIST m is about 33 of 255, so the black background lifts to about (1 − c)·m and the strokes fall to
 * (255 − m)·c + m.
 */
export function contrast(split: ImageSplit, severity: number, shape: ImageShape = MNIST_SHAPE): ImageSplit {
  const c = CONTRAST_FACTOR[severityIndex('contrast', severity)];
  const per = pixelsOf('contrast', split, shape);
  const C = shape.channels;
  const P = per / C;
  const src = split.images;
  const out = new Uint8Array(src.length);
  for (let n = 0; n < split.count; n++) {
    const base = n * per;
    for (let ch = 0; ch < C; ch++) {
      let sum = 0;
      for (let q = 0; q < P; q++) sum += src[base + q * C + ch];
      const m = sum / P;
      for (let q = 0; q < P; q++) out[base + q * C + ch] = toByte((src[base + q * C + ch] - m) * c + m);
    }
  }
  return withImages(split, out);
}

/**
 * Brightness increase: x + 255·c, c = BRIGHTNESS_OFFSET[severity − 1], clipped at 255. For a grey image this is
 * what ImageNet-C's change of the HSV value channel reduces to (saturation 0, value = grey). On MNIST the black
 * background turns grey and the saturated strokes stay white, so the digit's contrast shrinks to (1 − c).
 */
export function brightness(split: ImageSplit, severity: number, shape: ImageShape = MNIST_SHAPE): ImageSplit {
  const offset = 255 * BRIGHTNESS_OFFSET[severityIndex('brightness', severity)];
  pixelsOf('brightness', split, shape);
  return mapBytes(split, (x) => x + offset);
}

/**
 * The shifted copy of `test` named by `shift`: rotate (level = degrees, 0..180) or a corruption (level =
 * severity, 1..5). `seed` is used by the noise corruptions only.
 */
export function shiftedSplit(test: ImageSplit, shift: ShiftSpec, seed = 0, shape: ImageShape = MNIST_SHAPE): ImageSplit {
  const { kind, level } = shift ?? ({} as ShiftSpec);
  if (!(SHIFT_KINDS as readonly string[]).includes(kind)) {
    throw new Error(`shiftedSplit: unknown shift kind '${kind}'; known: ${SHIFT_KINDS.join(', ')}.`);
  }
  if (kind === 'rotate') {
    if (!(typeof level === 'number' && level >= 0 && level <= 180)) {
      throw new Error(`shiftedSplit: rotate level is an angle in degrees, 0..180 (the protocol's grid: ${ROTATION_DEGREES.join(', ')}), got ${level}.`);
    }
    return rotate(test, level, shape);
  }
  if (!(Number.isInteger(level) && level >= 1 && level <= 5)) {
    throw new Error(`shiftedSplit: ${kind} level is a severity, an integer 1..5, got ${level}.`);
  }
  switch (kind) {
    case 'gaussian-noise': return gaussianNoise(test, level, seed, shape);
    case 'shot-noise': return shotNoise(test, level, seed, shape);
    case 'gaussian-blur': return gaussianBlur(test, level, shape);
    case 'contrast': return contrast(test, level, shape);
    case 'brightness': return brightness(test, level, shape);
  }
}
