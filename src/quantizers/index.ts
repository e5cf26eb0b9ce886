/**
 * The quantizer zoo. Each method is a small pure function `(x, options?) => tf.Tensor` with an explicit
 * straight-through gradient (Larq's `quantizers.py` style); `makeQuantizer(spec)` wraps them into the
 * stateful `Quantizer` objects that layers own (types.ts). Each registry entry is one descriptor
 * (descriptor.ts: name, source, options with defaults and ranges, `make`), kept in the file of the function
 * or class it builds; registry.ts lists them.
 *
 *   binaryConnect           BinaryConnect sign (sign(0) = +1), deterministic or stochastic, full STE
 *   binaryTanh              BinaryNet activation (x > 0 ? 1 : -1), gradient where |x| < 1
 *   binaryWeight            BWN / XNOR: alpha_c·sign(w), alpha_c = mean|w| per output channel
 *   ternaryWeight           TWN: delta = 0.7·mean|w|, alpha_c = mean |w| above delta
 *   fixedPoint              nnabla fixed_point_quantize (round half away from zero)
 *   pow2                    nnabla pow2_quantize
 *   minMax                  Jacob et al. QAT as nnabla min_max_quantize (learnable range)
 *   inq                     INQ (fixed weights at powers of two); inqQuantizeValues for the values
 *   stochasticQuantization  SQ (Dong et al. 2017): hybrid BWN/TWN weights chosen by roulette
 *   FlipRatio               Larq's flip-ratio metric
 */
import { binaryConnect } from './binaryConnect';
import { binaryTanh } from './binaryTanh';
import { binaryWeight } from './binaryWeight';
import { fixedPoint } from './fixedPoint';
import { inq } from './inq';
import { minMax } from './minMax';
import { pow2 } from './pow2';
import { stochasticQuantization } from './stochasticQuantization';
import { ternaryWeight } from './ternaryWeight';

export type { AddWeight, Quantizer, QuantizerSpec } from './types';

export { binaryConnect, binaryConnectValues, hardSigmoid } from './binaryConnect';
export type { BinaryConnectOptions } from './binaryConnect';
export { binaryTanh, binaryTanhValues } from './binaryTanh';
export type { BinaryTanhOptions } from './binaryTanh';
export { binaryWeight, binaryWeightScale, binaryWeightValues } from './binaryWeight';
export type { BinaryWeightOptions } from './binaryWeight';
export { ternaryWeight, ternaryWeightParts, ternaryWeightValues, ternaryThreshold, TERNARY_DELTA_RULES } from './ternaryWeight';
export type { TernaryWeightOptions, TernaryDeltaRule, TernaryParts } from './ternaryWeight';
export { fixedPoint, fixedPointRange, fixedPointValues } from './fixedPoint';
export type { FixedPointOptions, FixedPointRange } from './fixedPoint';
export { pow2, pow2Range, pow2Values, nearestPow2 } from './pow2';
export type { Pow2Options, Pow2Range } from './pow2';
export { minMax, minMaxValues, minMaxParams, minMaxLevels, minMaxBits } from './minMax';
export type { MinMaxOptions, MinMaxParams } from './minMax';
export { inq, inqQuantizeValues, inqQuantizeArray, inqExponentRange, INQ_DEFAULT_SCHEDULE } from './inq';
export type { InqOptions, InqGradient, InqExponentRange } from './inq';
export {
  stochasticQuantization, sqRatioSchedule, sqSelect, sqDrawMask, sqDrawCount, sqRelativeErrors, sqBaseValues,
  sqHybridValues,
} from './stochasticQuantization';
export type {
  StochasticQuantizationOptions, SqSelectOptions, SqBase, SqRule, SqProbability,
} from './stochasticQuantization';
export { rouletteWithoutReplacement } from './roulette';
export { FlipRatio, flipRatio, type FlipRatioState } from './flipRatio';
export { signWithZero, roundHalfAwayFromZero } from './ops';
export { FunctionQuantizer, identityQuantizer } from './functionQuantizer';
export { MinMaxQuantizer } from './minMaxQuantizer';
export type { MinMaxQuantizerOptions } from './minMaxQuantizer';
export { InqQuantizer, inqLargestAbsHalf } from './inqQuantizer';
export type { InqQuantizerOptions, InqSelection } from './inqQuantizer';
export { SqQuantizer } from './sqQuantizer';
export type { SqQuantizerOptions } from './sqQuantizer';
export {
  makeQuantizer, quantizerDefaults, quantizerDescriptor, quantizerDescriptors, quantizerNames, quantizerOptionNames, quantizerOptionsError,
  resolveQuantizerOptions,
} from './registry';
export { defineQuantizer } from './descriptor';
export type { QuantizerDescriptor } from './descriptor';
export { describeOption, optionTable, readOption, resolveOptions } from './options';
export type { OptionSpec, OptionTable, OptionValue, OptionValues, OptionInput } from './options';
export { binaryConnectDescriptor, BINARY_CONNECT_OPTIONS } from './binaryConnect';
export { binaryTanhDescriptor, BINARY_TANH_OPTIONS } from './binaryTanh';
export { binaryWeightDescriptor, BINARY_WEIGHT_OPTIONS } from './binaryWeight';
export { ternaryWeightDescriptor, TERNARY_WEIGHT_OPTIONS } from './ternaryWeight';
export { fixedPointDescriptor, FIXED_POINT_OPTIONS } from './fixedPoint';
export { pow2Descriptor, POW2_OPTIONS } from './pow2';
export { MIN_MAX_OPTIONS } from './minMax';
export { minMaxDescriptor, MIN_MAX_QUANTIZER_OPTIONS } from './minMaxQuantizer';
export { INQ_OPTIONS } from './inq';
export { inqDescriptor, INQ_QUANTIZER_OPTIONS } from './inqQuantizer';
export { SQ_OPTIONS } from './stochasticQuantization';
export { stochasticQuantizationDescriptor, SQ_QUANTIZER_OPTIONS } from './sqQuantizer';
export { identityDescriptor } from './functionQuantizer';

/** The pure quantizer functions by name (each `(x, options?) => tf.Tensor` with its STE gradient). */
export const quantizers = {
  binaryConnect,
  binaryTanh,
  binaryWeight,
  ternaryWeight,
  fixedPoint,
  pow2,
  minMax,
  inq,
  stochasticQuantization,
} as const;
