/**
 * The named quantization methods of the nnabla quantization example (sony/nnabla-examples
 * compression/cifar10/quantization) and of the Stochastic-Quantization paper / Caffe code (Dong et al.,
 * BMVC 2017; dongyp13/Stochastic-Quantization), as plain data: spread a preset into any model's options.
 * Semantics and sources of each method: docs/methods.md.
 *
 * @example resnet23({...methodOptions('fixed-point-net'), seed: 1})
 *
 * nnabla defaults reproduced: bit-width 8, delta 2^-4, pow2 n = 8 and m = 1 (the example's `--upper-bound`;
 * weights sign = true, with_zero = false as PF.pow2_quantized_*; activations F.pow2_quantize's with_zero = true),
 * INQ 4 bits with fixing steps 5000..9000 and 'largest_abs' selection, min-max ql 0..255 with learned ranges
 * initialised to [-2, 2] for weights and [-6, 6] for activations. nnabla's fixed-point, pow2 and min-max
 * layers quantize the bias with the kernel's settings, hence `biasQuantizer`.
 */
import { quantizerDefaults } from '../quantizers/registry';
import type { QuantizerSpec } from '../quantizers/types';
import type { ActivationPlacement } from './common';

export type MethodName =
  | 'fp' | 'binary-connect' | 'binary-net' | 'binary-weight' | 'fixed-point-connect' | 'fixed-point-net'
  | 'pow2-connect' | 'pow2-net' | 'inq' | 'min-max' | 'bwn' | 'twn' | 'sq-bwn' | 'sq-twn';

export interface MethodPreset {
  name: MethodName;
  kernelQuantizer: QuantizerSpec | null;
  activationQuantizer: QuantizerSpec | null;
  biasQuantizer: QuantizerSpec | null;
  /** Where activation quantizers go (see models/common.ts); undefined without activation quantizer. */
  activationPlacement?: ActivationPlacement;
  description: string;
  /** Where the method and its settings come from. */
  source: string;
}

/** The options a preset contributes to a model builder. */
export interface MethodModelOptions {
  kernelQuantizer: QuantizerSpec | null;
  activationQuantizer: QuantizerSpec | null;
  biasQuantizer: QuantizerSpec | null;
  activationPlacement?: ActivationPlacement;
}

const NNABLA = 'sony/nnabla-examples compression/cifar10/quantization/models.py';
const SQ = 'dongyp13/Stochastic-Quantization (Caffe), Dong et al. BMVC 2017, arXiv 1708.01001';

/**
 * A spec that states some of the quantizer's defaults explicitly (they are the nnabla example's settings, and a
 * preset should say what it uses) plus its own settings.
 */
function preset(name: string, defaults: readonly string[], settings: Record<string, unknown> = {}): QuantizerSpec {
  return { name, options: { ...quantizerDefaults(name, defaults), ...settings } };
}

const FIXED_POINT = preset('fixedPoint', ['bits', 'delta']); // 8 bits, delta 2^-4
const POW2_WEIGHT = preset('pow2', ['bits', 'm', 'signed'], { withZero: false }); // 8 bits, m = 1
const POW2_ACT = preset('pow2', ['bits', 'm', 'signed', 'withZero']); // with zero
const MIN_MAX_WEIGHT = preset('minMax', ['qlMin', 'qlMax'], { qrMin: -2, qrMax: 2 }); // 0..255
const MIN_MAX_ACT = preset('minMax', ['qlMin', 'qlMax', 'qrMin', 'qrMax']); // 0..255, [-6, 6]

const PRESETS: Record<MethodName, Omit<MethodPreset, 'name'>> = {
  'fp': {
    kernelQuantizer: null, activationQuantizer: null, biasQuantizer: null,
    description: 'Full precision (float32 weights and activations): the reference network.',
    source: `${NNABLA} (cifar10_resnet23_prediction); SQ "FWN"`,
  },
  'binary-connect': {
    kernelQuantizer: { name: 'binaryConnect' }, activationQuantizer: null, biasQuantizer: null,
    description: 'BinaryConnect: weights sign(w) in {-1, +1} (sign(0) = +1), full straight-through gradient; ReLU activations.',
    source: `${NNABLA} (binary_connect); Courbariaux et al. NIPS 2015, arXiv 1511.00363`,
  },
  'binary-net': {
    kernelQuantizer: { name: 'binaryConnect' }, activationQuantizer: { name: 'binaryTanh' }, biasQuantizer: null,
    activationPlacement: 'replace-relu',
    description: 'BinaryNet: BinaryConnect weights and binary_tanh activations (+-1, gradient where |x| < 1) instead of ReLU.',
    source: `${NNABLA} (binary_net); Courbariaux et al. 2016, arXiv 1602.02830`,
  },
  'binary-weight': {
    kernelQuantizer: { name: 'binaryWeight' }, activationQuantizer: null, biasQuantizer: null,
    description: 'Binary-weight network (XNOR-Net BWN): alpha_c * sign(w), alpha_c = mean |w| per output channel.',
    source: `${NNABLA} (binary_weight); Rastegari et al. ECCV 2016, arXiv 1603.05279`,
  },
  'fixed-point-connect': {
    kernelQuantizer: FIXED_POINT, activationQuantizer: null, biasQuantizer: FIXED_POINT,
    description: 'Fixed-point weights: 8 bits, delta 2^-4 (range +-7.9375), round half away from zero.',
    source: `${NNABLA} (fp_connect, n = 8, delta = 2^-4)`,
  },
  'fixed-point-net': {
    kernelQuantizer: FIXED_POINT, activationQuantizer: FIXED_POINT, biasQuantizer: FIXED_POINT,
    activationPlacement: 'before-relu',
    description: 'Fixed-point weights and activations (8 bits, delta 2^-4); activations quantized after BN, before ReLU.',
    source: `${NNABLA} (fp_net, n = 8, delta = 2^-4)`,
  },
  'pow2-connect': {
    kernelQuantizer: POW2_WEIGHT, activationQuantizer: null, biasQuantizer: POW2_WEIGHT,
    description: 'Power-of-two weights: sign * 2^round(log2 |w|), 8 bits, largest value 2^1.',
    source: `${NNABLA} (pow2_connect, n = 8, m = 1)`,
  },
  'pow2-net': {
    kernelQuantizer: POW2_WEIGHT, activationQuantizer: POW2_ACT, biasQuantizer: POW2_WEIGHT,
    activationPlacement: 'before-relu',
    description: 'Power-of-two weights and activations (8 bits, m = 1); activations quantized after BN, before ReLU.',
    source: `${NNABLA} (pow2_net, n = 8, m = 1)`,
  },
  'inq': {
    kernelQuantizer: preset('inq', ['numBits', 'schedule', 'selection']), // 4 bits, steps 5000..9000, largest |w| first
    activationQuantizer: null, biasQuantizer: null,
    description: 'Incremental network quantization: half of the free weights fixed to powers of two (4 bits) at steps 5000..9000.',
    source: `${NNABLA} (inq, PF.inq_* num_bits = 4); Zhou et al. ICLR 2017, arXiv 1702.03044`,
  },
  'min-max': {
    kernelQuantizer: MIN_MAX_WEIGHT, activationQuantizer: MIN_MAX_ACT, biasQuantizer: MIN_MAX_WEIGHT,
    activationPlacement: 'relu-bn-q',
    description: 'Min-max QAT (Jacob et al.): 8-bit affine quantization with learned ranges, weights init [-2, 2], activations [-6, 6].',
    source: `${NNABLA} (min_max, ql 0..255); Jacob et al. CVPR 2018, arXiv 1712.05877`,
  },
  'bwn': {
    kernelQuantizer: { name: 'binaryWeight' }, activationQuantizer: null, biasQuantizer: null,
    description: 'BWN baseline of the SQ paper: alpha_n * sign(w) per output filter, plain STE.',
    source: `${SQ} (CIFAR/*/BWN)`,
  },
  'twn': {
    kernelQuantizer: { name: 'ternaryWeight', options: { deltaRule: 'sqCode' } }, activationQuantizer: null, biasQuantizer: null,
    description: 'TWN baseline of the SQ code: delta = 0.7 * mean|w - mean(w)|, alpha per output filter.',
    source: `${SQ} (CIFAR/*/TWN, conv_layer_ternary.cu)`,
  },
  'sq-bwn': {
    kernelQuantizer: { name: 'stochasticQuantization', options: { base: 'bwn', ratio: 0.5 } },
    activationQuantizer: null, biasQuantizer: null,
    description: 'Stochastic quantization over BWN: a ratio r of the output channels is binarized, picked by roulette on the quantization error (stages r = 0.5, 0.75, 0.875, 1).',
    source: `${SQ} (CIFAR/*/SQ-BWN)`,
  },
  'sq-twn': {
    kernelQuantizer: { name: 'stochasticQuantization', options: { base: 'twn', ratio: 0.5, deltaRule: 'sqCode' } },
    activationQuantizer: null, biasQuantizer: null,
    description: 'Stochastic quantization over TWN (stages r = 0.5, 0.75, 0.875, 1).',
    source: `${SQ} (CIFAR/*/SQ-TWN)`,
  },
};

/** All method names, in presentation order. */
export const METHOD_NAMES = Object.keys(PRESETS) as MethodName[];

function clone<T>(x: T): T {
  return x == null ? x : (JSON.parse(JSON.stringify(x)) as T);
}

/** The preset of a method (a fresh copy). Unknown name -> error listing the valid names. */
export function methodPreset(name: string): MethodPreset {
  if (!Object.prototype.hasOwnProperty.call(PRESETS, name)) {
    throw new Error(`Unknown quantization method '${name}'. Valid methods: ${METHOD_NAMES.join(', ')}.`);
  }
  const p = PRESETS[name as MethodName];
  return { name: name as MethodName, ...clone(p) };
}

/**
 * The model options of a method; for the SQ methods `sqRatio` overrides the stage ratio (0..1).
 * @example vgg9({...methodOptions('sq-twn', {sqRatio: 0.75}), seed: 1})
 */
export function methodOptions(name: string, opts: { sqRatio?: number } = {}): MethodModelOptions {
  const p = methodPreset(name);
  const out: MethodModelOptions = {
    kernelQuantizer: p.kernelQuantizer,
    activationQuantizer: p.activationQuantizer,
    biasQuantizer: p.biasQuantizer,
  };
  if (p.activationPlacement) out.activationPlacement = p.activationPlacement;
  if (opts.sqRatio !== undefined) {
    if (!p.kernelQuantizer || p.kernelQuantizer.name !== 'stochasticQuantization') {
      throw new Error(`sqRatio applies to the SQ methods (sq-bwn, sq-twn), not '${name}'.`);
    }
    p.kernelQuantizer.options = { ...p.kernelQuantizer.options, ratio: opts.sqRatio };
  }
  return out;
}

/** All presets. */
export function allMethods(): MethodPreset[] {
  return METHOD_NAMES.map(methodPreset);
}
