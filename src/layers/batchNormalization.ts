/**
 * tf.layers.batchNormalization with the closed-form gradient of its training pass. In training mode tfjs
 * normalizes with tf.moments and tf.batchNorm, and autodiff then runs the moments' backward as well (a Fill of
 * the input's shape per mean, broadcast subtractions and squares): about 20 full-size kernels per layer, 30 of
 * the 72 ms of a classic LeNet-5 training step on wasm. The forward here is the same tensor ops (the same
 * values to the bit), and the gradient is the textbook one, seven full-size passes:
 *     x̂ = (x - μ_B)/√(σ²_B + ε),  y = γ·x̂ + β,   μ_B, σ²_B the (biased) batch mean and variance per channel
 *     ∂L/∂β = Σ dy,  ∂L/∂γ = Σ dy·x̂,  ∂L/∂x = γ/√(σ²_B + ε) · (dy - Σdy/m - x̂·Σ(dy·x̂)/m)   (m values per channel)
 * Everything else is the stock layer: weights, config, inference and the moving averages (the same ops). The
 * class is registered under the stock name, so saved models load into it. The closed form runs on the wasm and
 * cpu backends for a channels-last input with scale and center; otherwise (tfjs-node: TensorFlow's own fused
 * kernels) the stock code runs.
 */
import * as tf from '@tensorflow/tfjs';
import { type Kwargs, singleTensor } from './base';

type StockArgs = Parameters<typeof tf.layers.batchNormalization>[0];

interface BatchNormFields {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

/** tfjs-layers does not export the class; its factory's instances carry it. */
const StockBatchNormalization = tf.layers.batchNormalization({}).constructor as new (args?: StockArgs) => tf.layers.Layer;

const FUSED_BACKENDS = new Set(['wasm', 'cpu']);

/**
 * Batch normalization with batch statistics over every axis but the last (tf.moments and tf.batchNorm, as the
 * stock layer computes it), with the closed-form gradient with respect to x, γ and β in place of autodiff
 * through the moments. Returns y and the batch mean and (biased) variance, off the tape.
 */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  const c = x.shape[x.rank - 1];
  if (gamma.size !== c || beta.size !== c) throw new Error(`batchNormTraining: ${c} channels, gamma has ${gamma.size}, beta ${beta.size}`);
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const m = x.size / c;
  let stats: { mean: tf.Tensor; variance: tf.Tensor } | null = null;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xt, gt, bt] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const { mean, variance } = tf.moments(xt, axes);
    // kept: the engine runs this function in a tidy of its own (cloned into the caller's scope below)
    stats = { mean: tf.keep(mean), variance: tf.keep(variance) };
    save([xt, gt, mean, variance]);
    return {
      value: tf.batchNorm(xt, mean, variance, bt, gt, epsilon),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, g, mu, v] = saved;
        const invStd = tf.rsqrt(tf.add(v, epsilon));
        const xc = tf.sub(xs, mu); // x̂ = xc·invStd
        const sumDy = tf.sum(dy, axes);
        const sumDyXhat = tf.mul(tf.sum(tf.mul(dy, xc), axes), invStd);
        const a = tf.mul(g, invStd);
        // dx = a·dy - a·Σdy/m - xc·(a·invStd·Σ(dy·x̂)/m)
        const dx = tf.sub(tf.mul(dy, a), tf.add(tf.mul(xc, tf.mul(a, tf.mul(invStd, tf.div(sumDyXhat, m)))), tf.mul(a, tf.div(sumDy, m))));
        return [dx, tf.reshape(sumDyXhat, g.shape), tf.reshape(sumDy, g.shape)];
      },
    };
  });
  const y = op(x, gamma, beta);
  const kept = stats as unknown as { mean: tf.Tensor; variance: tf.Tensor };
  const out = { y, mean: tf.clone(kept.mean), variance: tf.clone(kept.variance) };
  tf.dispose([kept.mean, kept.variance]);
  return out;
}

export class BatchNormalization extends StockBatchNormalization {
  static className = 'BatchNormalization';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const f = this as unknown as BatchNormFields;
    const x = singleTensor(inputs);
    const lastAxis = f.axis === -1 || f.axis === x.rank - 1;
    const fused = kwargs?.['training'] === true && lastAxis && f.scale && f.center && x.dtype === 'float32' && FUSED_BACKENDS.has(tf.getBackend());
    if (!fused) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTraining(x, f.gamma.read(), f.beta.read(), f.epsilon);
      // The stock layer's moving averages, op for op: v ← v - (v - batch value)·(1 - momentum)
      for (const [v, value] of [[f.movingMean, mean], [f.movingVariance, variance]] as const) {
        const orig = v.read();
        v.write(tf.sub(orig, tf.mul(tf.sub(orig, value), 1 - f.momentum)));
      }
      return y;
    });
  }
}
// Replaces the stock class under its name (statics such as fromConfig are inherited from it).
tf.serialization.registerClass(BatchNormalization as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);

/** Drop-in for tf.layers.batchNormalization (same arguments, same weights and config). */
export function batchNormalization(args: StockArgs = {}): BatchNormalization {
  return new BatchNormalization(args);
}
