/**
 * Flip ratio, as Larq's `larq.metrics.FlipRatio` (`larq/metrics.py`): the share of elements whose quantized
 * value changed since the previous step. A high flip ratio late in training means the latent weights sit
 * on quantization boundaries (Helwegen et al. 2019 use it to argue for Bop).
 *
 * Larq averages over batches with `result = total / (count - 1)` (the first batch has no previous value);
 * `mean` does the same here. `update` returns the ratio of this step (NaN on the first call).
 */
import * as tf from '@tensorflow/tfjs';

export interface FlipRatioState {
  shape: number[] | null;
  /** The stored values as float32, base64. */
  values: string | null;
  total: number;
  count: number;
}

export class FlipRatio {
  private previous: tf.Tensor | null = null;
  private total = 0;
  private count = 0;

  /**
   * Compare `quantized` with the values given at the previous call; remember a copy for the next one.
   * Returns the share of elements that changed, or NaN on the first call (nothing to compare with).
   */
  update(quantized: tf.Tensor): number {
    const prev = this.previous;
    if (prev && !tf.util.arraysEqual(prev.shape, quantized.shape)) {
      throw new Error(`FlipRatio: shape changed from [${prev.shape}] to [${quantized.shape}]; call reset() first.`);
    }
    let ratio = Number.NaN;
    if (prev) {
      const r = tf.tidy(() => tf.mean(tf.cast(tf.notEqual(quantized, prev), 'float32')));
      ratio = r.dataSync()[0];
      r.dispose();
      this.total += ratio;
      this.count += 1;
      prev.dispose();
    }
    this.previous = tf.keep(tf.clone(quantized));
    return ratio;
  }

  /** Mean flip ratio over the updates since the last reset (NaN before the second update). */
  get mean(): number {
    return this.count > 0 ? this.total / this.count : Number.NaN;
  }

  /** Forget the running mean but keep the last values (Larq resets the metric at each epoch). */
  resetMean(): void {
    this.total = 0;
    this.count = 0;
  }

  /** Forget everything, including the stored values. */
  reset(): void {
    this.resetMean();
    this.previous?.dispose();
    this.previous = null;
  }

  /** What a checkpoint needs to continue exactly: the stored values and the running mean (JSON-safe). */
  state(): FlipRatioState {
    return {
      shape: this.previous?.shape ?? null,
      values: this.previous ? Buffer.from((this.previous.dataSync() as Float32Array).slice().buffer).toString('base64') : null,
      total: this.total,
      count: this.count,
    };
  }

  /** Continue from a `state()`. */
  setState(s: FlipRatioState): void {
    this.reset();
    if (s.values != null && s.shape != null) {
      const b = Buffer.from(s.values, 'base64');
      const values = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
      if (values.length !== s.shape.reduce((a, c) => a * c, 1)) throw new Error('FlipRatio.setState: values do not match the shape');
      this.previous = tf.keep(tf.tensor(values, s.shape));
    }
    this.total = s.total;
    this.count = s.count;
  }

  /** Release the stored copy (same as reset). */
  dispose(): void {
    this.reset();
  }
}

/** A new flip-ratio tracker. */
export function flipRatio(): FlipRatio {
  return new FlipRatio();
}
