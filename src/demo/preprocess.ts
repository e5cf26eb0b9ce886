/**
 * A digit drawn on a canvas -> a 28x28 image in MNIST's own preprocessing (LeCun et al.'s description of the
 * data set): white strokes on black, the digit's bounding box scaled (aspect ratio kept, anti-aliased by area
 * averaging) to fit a 20x20 box, then placed in the 28x28 frame so that its centre of mass is at the centre.
 * Pure JavaScript (the demo page runs it in the browser; tests run it in Node).
 */

export const MNIST_SIZE = 28;
/** The box the digit's bounding box is scaled into. */
export const MNIST_BOX = 20;

/**
 * `gray`: w*h intensities 0..255, row-major, the drawing white (high) on black (0). Returns the 28x28 image as
 * bytes (0..255, row-major), or null when nothing above `threshold` is drawn.
 */
export function toMnist(gray: ArrayLike<number>, w: number, h: number, threshold = 8): Uint8Array | null {
  if (gray.length !== w * h) throw new Error(`toMnist: ${gray.length} values for a ${w}x${h} image`);
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (gray[y * w + x] > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const scale = MNIST_BOX / Math.max(bw, bh);
  const ow = Math.max(1, Math.round(bw * scale));
  const oh = Math.max(1, Math.round(bh * scale));
  // Area averaging: output pixel (i, j) covers the source rectangle [i/sx, (i+1)/sx) x [j/sy, (j+1)/sy) of the box.
  const sx = ow / bw;
  const sy = oh / bh;
  const small = new Float64Array(ow * oh);
  for (let j = 0; j < oh; j++) {
    const top = j / sy;
    const bottom = (j + 1) / sy;
    for (let i = 0; i < ow; i++) {
      const left = i / sx;
      const right = (i + 1) / sx;
      let sum = 0;
      let area = 0;
      for (let y = Math.floor(top); y < Math.min(bh, Math.ceil(bottom)); y++) {
        const wy = Math.min(bottom, y + 1) - Math.max(top, y);
        if (wy <= 0) continue;
        for (let x = Math.floor(left); x < Math.min(bw, Math.ceil(right)); x++) {
          const wx = Math.min(right, x + 1) - Math.max(left, x);
          if (wx <= 0) continue;
          sum += wx * wy * gray[(y0 + y) * w + (x0 + x)];
          area += wx * wy;
        }
      }
      small[j * ow + i] = area > 0 ? sum / area : 0;
    }
  }
  // Centre of mass (pixel centres at +0.5), then the offset that puts it at the frame's centre.
  let m = 0;
  let cx = 0;
  let cy = 0;
  for (let j = 0; j < oh; j++) {
    for (let i = 0; i < ow; i++) {
      const v = small[j * ow + i];
      m += v;
      cx += v * (i + 0.5);
      cy += v * (j + 0.5);
    }
  }
  const half = MNIST_SIZE / 2;
  const clamp = (v: number, hi: number) => Math.max(0, Math.min(hi, v));
  const ox = clamp(Math.round(half - (m > 0 ? cx / m : ow / 2)), MNIST_SIZE - ow);
  const oy = clamp(Math.round(half - (m > 0 ? cy / m : oh / 2)), MNIST_SIZE - oh);
  const out = new Uint8Array(MNIST_SIZE * MNIST_SIZE);
  for (let j = 0; j < oh; j++) {
    for (let i = 0; i < ow; i++) out[(oy + j) * MNIST_SIZE + ox + i] = Math.max(0, Math.min(255, Math.round(small[j * ow + i])));
  }
  return out;
}

/** Centre of mass (x, y) of a 28x28 byte image, pixel centres at +0.5 (for checks). */
export function centreOfMass(img: ArrayLike<number>, size = MNIST_SIZE): { x: number; y: number; mass: number } {
  let m = 0;
  let x = 0;
  let y = 0;
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      const v = img[j * size + i];
      m += v;
      x += v * (i + 0.5);
      y += v * (j + 0.5);
    }
  }
  return { x: m > 0 ? x / m : size / 2, y: m > 0 ? y / m : size / 2, mass: m };
}
