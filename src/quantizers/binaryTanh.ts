/**
 * BinaryNet's activation binarization (Courbariaux, Hubara, Soudry, El-Yaniv & Bengio 2016,
 * arXiv 1602.02830), as nnabla's `F.binary_tanh` (`include/nbla/function/binary_tanh.hpp`):
 *
 *   forward  q = +1 if x > 0, else -1        (so binaryTanh(0) = -1, unlike binaryConnect's sign(0) = +1)
 *   backward dy where |x| < 1, else 0        ("straight-through estimator of hard tanh")
 *
 * Boundary: nnabla's backward is `(std::abs(x) >= 1) ? 0 : dy`, i.e. the gradient is *cancelled at
 * |x| = 1 exactly* (strict |x| < 1; docs/methods.md#binarynet). Larq's `ste_sign` passes the gradient at
 * |x| = clip_value (|x| <= 1); `inclusive: true` gives that variant. Default = nnabla (strict).
 */
import * as tf from '@tensorflow/tfjs';
import { defineQuantizer } from './descriptor';
import { FunctionQuantizer } from './functionQuantizer';
import { customOp } from './ops';
import { type OptionInput, optionTable, resolveOptions } from './options';

export const BINARY_TANH_OPTIONS = optionTable({
  clipValue: { kind: 'number', default: 1, above: 0, description: 'Half-width of the window where the gradient passes (1: the hard-tanh range).' },
  inclusive: { kind: 'boolean', default: false, description: "Pass the gradient at |x| = clipValue too (Larq's ste_sign); false: strict, as nnabla." },
});

export type BinaryTanhOptions = OptionInput<typeof BINARY_TANH_OPTIONS>;

/** +1 where x > 0, else -1 (no gradient). */
export function binaryTanhValues(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.mul(tf.cast(tf.greater(x, 0), 'float32'), 2), 1));
}

/**
 * BinaryNet activation binarization with the hard-tanh straight-through gradient.
 * @example binaryTanh(tf.tensor([-2, -0.5, 0, 0.5, 1])) // [-1, -1, -1, 1, 1]; gradient [0, 1, 1, 1, 0]
 */
export function binaryTanh(x: tf.Tensor, options: BinaryTanhOptions = {}): tf.Tensor {
  const { clipValue: clip, inclusive } = resolveOptions('binaryTanh', BINARY_TANH_OPTIONS, options);
  return customOp([x], ([xt], save) => {
    save([xt]);
    return {
      value: binaryTanhValues(xt),
      gradFunc: (dy, saved) => {
        const a = tf.abs(saved[0]);
        const pass = inclusive ? tf.lessEqual(a, clip) : tf.less(a, clip);
        return tf.mul(dy, tf.cast(pass, 'float32'));
      },
    };
  });
}

export const binaryTanhDescriptor = defineQuantizer({
  name: 'binaryTanh',
  description: 'Activations binarized to +1 where x > 0, else -1; gradient dy where |x| < clipValue (hard-tanh STE).',
  source: 'Courbariaux, Hubara, Soudry, El-Yaniv & Bengio 2016, arXiv 1602.02830; nnabla binary_tanh.hpp',
  options: BINARY_TANH_OPTIONS,
  make: (spec, o) => new FunctionQuantizer(spec, 1, (x) => binaryTanh(x, o), (l) => binaryTanhValues(l)),
});
