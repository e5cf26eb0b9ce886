/** Test-set evaluation in inference mode (quantized layers use their quantized weights). */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data';

export interface EvalResult {
  loss: number;
  accuracy: number;
  count: number;
}

/** Softmax cross-entropy (mean) and number of correct predictions for one batch of logits. */
export function lossAndCorrect(logits: tf.Tensor, y: tf.Tensor): { loss: tf.Scalar; correct: tf.Scalar } {
  return tf.tidy(() => {
    const loss = tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
    const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), tf.argMax(y, -1)), 'float32')) as tf.Scalar;
    return { loss, correct };
  });
}

/**
 * Mean loss and accuracy over batches. `predict` defaults to the model in inference mode; pass another
 * (e.g. a Monte-Carlo predictive) to evaluate that instead.
 */
export function evaluate(
  model: tf.LayersModel,
  batches: Iterable<Batch>,
  predict: (x: tf.Tensor4D) => tf.Tensor = (x) => model.apply(x, { training: false }) as tf.Tensor,
): EvalResult {
  let lossSum = 0;
  let correct = 0;
  let count = 0;
  for (const b of batches) {
    const [l, c] = tf.tidy(() => {
      const r = lossAndCorrect(predict(b.x), b.y);
      return [r.loss.dataSync()[0], r.correct.dataSync()[0]];
    });
    lossSum += l * b.size;
    correct += c;
    count += b.size;
    tf.dispose([b.x, b.y]);
  }
  if (count === 0) throw new Error('evaluate: no test examples');
  return { loss: lossSum / count, accuracy: correct / count, count };
}
