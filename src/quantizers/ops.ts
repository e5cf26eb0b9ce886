/**
 * Small tensor helpers shared by the quantizers: exact sign and rounding conventions, per-channel axes,
 * gradient reduction to a broadcast input's shape.
 *
 * tfjs conventions this file exists to avoid: `tf.sign(0) = 0` (and `tf.sign` has a zero gradient), and
 * `tf.round` rounds half to even (`round(0.5) = 0`, `round(2.5) = 2`). The papers and the nnabla/Caffe
 * code use sign(0) = +1 and C's `std::round` (half away from zero).
 */
import * as tf from '@tensorflow/tfjs';

/**
 * sign with an explicit value at zero: +1 for x > 0, -1 for x < 0, `zeroTo` for x = 0.
 * nnabla's `F.sign(x, alpha)` ("y = 1 (x>0), alpha (x=0), -1 (x<0)", `sign.hpp`); Larq's `math.sign`
 * and the Caffe SQ code (`weight >= 0` -> +1) use zeroTo = +1.
 */
export function signWithZero(x: tf.Tensor, zeroTo = 1): tf.Tensor {
  return tf.tidy(() => {
    const pos = tf.cast(tf.greater(x, 0), 'float32');
    const neg = tf.cast(tf.less(x, 0), 'float32');
    const s = tf.sub(pos, neg);
    if (zeroTo === 0) return s;
    return tf.add(s, tf.mul(tf.cast(tf.equal(x, 0), 'float32'), zeroTo));
  });
}

/**
 * C's `std::round`: round half away from zero (0.5 -> 1, 1.5 -> 2, 2.5 -> 3, -0.5 -> -1).
 * Computed exactly in float32 as floor(|x|) + [|x| - floor(|x|) >= 0.5]: the fractional part of a float
 * is exact, whereas `floor(|x| + 0.5)` rounds 0.49999997 up because the sum is not representable.
 */
export function roundHalfAwayFromZero(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const a = tf.abs(x);
    const f = tf.floor(a);
    const up = tf.cast(tf.greaterEqual(tf.sub(a, f), 0.5), 'float32');
    return tf.mul(signWithZero(x, 0), tf.add(f, up));
  });
}

/**
 * Axes that hold the fan-in of one output channel. tfjs kernels keep the output channel last
 * (dense [in, out], conv2d [kh, kw, cin, cout]), so these are all axes but the last. A tensor of rank
 * 0 or 1 (a bias, a vector) is one group: all axes.
 */
export function fanInAxes(rank: number): number[] {
  const axes: number[] = [];
  const n = rank >= 2 ? rank - 1 : rank;
  for (let i = 0; i < n; i++) axes.push(i);
  return axes;
}

/** Number of output channels (size of the last axis; 1 for rank <= 1 tensors). */
export function numChannels(shape: readonly number[]): number {
  return shape.length >= 2 ? shape[shape.length - 1] : 1;
}

/**
 * Sum a gradient computed in x's (broadcast) shape down to the shape of a smaller input that was
 * broadcast against x (e.g. a scalar or [1] range bound of min-max quantization).
 */
export function sumToShape(t: tf.Tensor, shape: readonly number[]): tf.Tensor {
  return tf.tidy(() => {
    const size = shape.reduce((a, b) => a * b, 1);
    if (size === 1) return tf.reshape(tf.sum(t), shape as number[]);
    const rank = t.rank;
    const padded = Array<number>(rank - shape.length).fill(1).concat(shape as number[]);
    const axes: number[] = [];
    for (let i = 0; i < rank; i++) if (padded[i] === 1 && t.shape[i] !== 1) axes.push(i);
    const s = axes.length > 0 ? tf.sum(t, axes, true) : t;
    return tf.reshape(s, shape as number[]);
  });
}

/** dy where `mask` (bool) holds, else 0: the gradient of a clipped straight-through estimator. */
export function maskGradient(dy: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(dy, tf.cast(mask, dy.dtype)));
}

/** `tf.where(cond, a, b)` with a per-channel (last-axis) boolean vector broadcast to `shape`. */
export function selectChannels(channelMask: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const shape = a.shape;
    const c = shape.length >= 2 ? channelMask : tf.reshape(channelMask, []);
    return tf.where(tf.broadcastTo(c, shape), a, b);
  });
}

/** The forward of a custom-gradient op: its value and the gradient function (one gradient per input). */
export interface CustomOpResult {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}

/**
 * `tf.customGrad` with a typed signature: `forward(inputs, save)` computes the value and returns the
 * gradient function. Tensors the gradient needs must go through `save` (the forward runs in its own tidy,
 * so a tensor captured by the closure would be disposed before the backward pass).
 */
export function customOp(inputs: tf.Tensor[], forward: (xs: tf.Tensor[], save: tf.GradSaveFunc) => CustomOpResult): tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    return forward(args.slice(0, -1) as tf.Tensor[], save);
  });
  return op(...inputs);
}
