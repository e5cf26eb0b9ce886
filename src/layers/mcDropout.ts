/**
 * Dropout that can stay on at inference: Monte-Carlo dropout (Gal & Ghahramani 2016) averages the softmax over
 * several forward passes with units dropped, while every other layer (batch norm above all) stays in inference
 * mode. tf.layers.dropout only drops units when the whole model is called with `training: true`, which would also
 * switch batch norm to batch statistics; this layer drops when `training` is true or when its `monteCarlo` flag
 * is set (see `setMonteCarloDropout`). Inverted dropout: kept units are scaled by 1/(1 − rate) while dropping, so
 * the deterministic pass (flag off, not training) is the identity.
 *
 * The mask is drawn by tf.dropout from Math.random, which the training loop routes through its seeded generator
 * (train/seededRandom), so training is reproducible; for reproducible Monte-Carlo predictions install a seeded
 * Math.random around them as well.
 */
import * as tf from '@tensorflow/tfjs';
import { type Kwargs, type LayerArgs, type Shape, singleShape, singleTensor } from './base';

export interface McDropoutArgs extends LayerArgs {
  /** Fraction of units dropped, in [0, 1). */
  rate: number;
}

export class McDropout extends tf.layers.Layer {
  static className = 'McDropout';
  readonly rate: number;
  /** Drop units in inference calls too (Monte-Carlo dropout). Not serialized: a loaded model starts with it off. */
  monteCarlo = false;

  constructor(args: McDropoutArgs) {
    super(args);
    if (!(typeof args.rate === 'number' && args.rate >= 0 && args.rate < 1)) {
      throw new Error(`McDropout: rate must be in [0, 1), got ${args.rate}`);
    }
    this.rate = args.rate;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      const training = kwargs != null && kwargs['training'] === true;
      if (this.rate === 0 || !(training || this.monteCarlo)) return x;
      return tf.dropout(x, this.rate);
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return singleShape(inputShape);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}
tf.serialization.registerClass(McDropout);

/** The McDropout layers of a model, in model order. */
export function mcDropoutLayers(model: tf.LayersModel): McDropout[] {
  return model.layers.filter((l): l is McDropout => l instanceof McDropout);
}

/** Switch Monte-Carlo dropout on or off in every McDropout layer of `model`; returns how many layers it set. */
export function setMonteCarloDropout(model: tf.LayersModel, on: boolean): number {
  const layers = mcDropoutLayers(model);
  for (const l of layers) l.monteCarlo = on;
  return layers.length;
}
