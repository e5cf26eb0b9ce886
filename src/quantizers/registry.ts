/**
 * The registry: `makeQuantizer({name, options})` builds the `Quantizer` a layer uses, for every method of
 * the zoo. Options are plain data (they go through getConfig); unknown names and options, and bad values,
 * throw errors that list what is valid.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/random';
import { binaryConnect, binaryConnectValues } from './binaryConnect';
import { binaryTanh, binaryTanhValues, BinaryTanhOptions } from './binaryTanh';
import { binaryWeight, binaryWeightValues } from './binaryWeight';
import { fixedPoint, fixedPointRange, fixedPointValues, FixedPointOptions } from './fixedPoint';
import { FunctionQuantizer, identityQuantizer } from './functionQuantizer';
import { INQ_GRADIENTS } from './inq';
import { INQ_SELECTIONS, InqQuantizer } from './inqQuantizer';
import { MinMaxQuantizer } from './minMaxQuantizer';
import {
  booleanOption, checkBits, checkNumber, checkOptionNames, checkRatio, choiceOption, numberOption,
} from './options';
import { pow2, pow2Range, pow2Values, Pow2Options } from './pow2';
import { SqQuantizer } from './sqQuantizer';
import { SQ_BASES, SQ_PROBABILITIES, SQ_RULES, sqRatioSchedule } from './stochasticQuantization';
import { TERNARY_DELTA_RULES, ternaryWeight, ternaryWeightValues, TernaryWeightOptions } from './ternaryWeight';
import type { Quantizer, QuantizerSpec } from './types';

type Options = Record<string, unknown>;
type Factory = (spec: QuantizerSpec, options: Options) => Quantizer;

interface Entry {
  options: readonly string[];
  make: Factory;
}

function optionalNumber(name: string, o: Options, key: string, rule: Parameters<typeof checkNumber>[3] = {}): number | undefined {
  return o[key] === undefined ? undefined : checkNumber(name, key, o[key], rule);
}

const REGISTRY: Record<string, Entry> = {
  none: { options: [], make: (spec) => identityQuantizer(spec) },
  identity: { options: [], make: (spec) => identityQuantizer(spec) },

  binaryConnect: {
    options: ['stochastic', 'seed', 'zeroTo', 'clipValue', 'evalMode'],
    make: (spec, o) => {
      const n = 'binaryConnect';
      const stochastic = booleanOption(n, o, 'stochastic', false);
      const seed = numberOption(n, o, 'seed', 0, { integer: true });
      const zeroTo = numberOption(n, o, 'zeroTo', 1);
      const clipValue = optionalNumber(n, o, 'clipValue', { above: 0 });
      // BinaryConnect §2.6: the stochastic variant is evaluated with the real-valued weights.
      const evalMode = choiceOption(n, o, 'evalMode', stochastic ? 'real' : 'sign', ['real', 'sign'] as const);
      const rng = new Rng(seed);
      const evalValue = (x: Parameters<typeof binaryConnect>[0]) =>
        evalMode === 'real' ? x.clone() : binaryConnectValues(x, { zeroTo });
      return new FunctionQuantizer(spec, 1,
        (x, training) => {
          if (!stochastic) return binaryConnect(x, { zeroTo, clipValue });
          if (training) return binaryConnect(x, { stochastic: true, rng, clipValue });
          return evalValue(x);
        },
        (latent) => (stochastic ? evalValue(latent) : binaryConnectValues(latent, { zeroTo })));
    },
  },

  binaryTanh: {
    options: ['clipValue', 'inclusive'],
    make: (spec, o) => {
      const opts: BinaryTanhOptions = {
        clipValue: numberOption('binaryTanh', o, 'clipValue', 1, { above: 0 }),
        inclusive: booleanOption('binaryTanh', o, 'inclusive', false),
      };
      return new FunctionQuantizer(spec, 1, (x) => binaryTanh(x, opts), (l) => binaryTanhValues(l));
    },
  },

  binaryWeight: {
    options: ['zeroTo'],
    make: (spec, o) => {
      const zeroTo = numberOption('binaryWeight', o, 'zeroTo', 1);
      return new FunctionQuantizer(spec, 1, (x) => binaryWeight(x, { zeroTo }), (l) => binaryWeightValues(l, { zeroTo }), tf.sign);
    },
  },

  ternaryWeight: {
    options: ['thresholdFactor', 'deltaRule', 'perChannel'],
    make: (spec, o) => {
      const n = 'ternaryWeight';
      const opts: TernaryWeightOptions = {
        thresholdFactor: numberOption(n, o, 'thresholdFactor', 0.7, { min: 0 }),
        deltaRule: choiceOption(n, o, 'deltaRule', 'paper', TERNARY_DELTA_RULES),
        perChannel: booleanOption(n, o, 'perChannel', true),
      };
      return new FunctionQuantizer(spec, 2, (x) => ternaryWeight(x, opts), (l) => ternaryWeightValues(l, opts), tf.sign);
    },
  },

  fixedPoint: {
    options: ['bits', 'delta', 'signed', 'steFineGrained'],
    make: (spec, o) => {
      const n = 'fixedPoint';
      const opts: FixedPointOptions = {
        signed: booleanOption(n, o, 'signed', true),
        delta: numberOption(n, o, 'delta', 2 ** -4, { above: 0 }),
        steFineGrained: booleanOption(n, o, 'steFineGrained', true),
      };
      opts.bits = checkBits(n, o.bits ?? 8, opts.signed ? 2 : 1);
      fixedPointRange(opts);
      return new FunctionQuantizer(spec, opts.bits, (x) => fixedPoint(x, opts), (l) => fixedPointValues(l, opts));
    },
  },

  pow2: {
    options: ['bits', 'm', 'signed', 'withZero', 'steFineGrained'],
    make: (spec, o) => {
      const n = 'pow2';
      const opts: Pow2Options = {
        m: numberOption(n, o, 'm', 1, { integer: true }),
        signed: booleanOption(n, o, 'signed', true),
        withZero: booleanOption(n, o, 'withZero', true),
        steFineGrained: booleanOption(n, o, 'steFineGrained', true),
      };
      opts.bits = checkBits(n, o.bits ?? 8, 1 + (opts.signed ? 1 : 0) + (opts.withZero ? 1 : 0));
      pow2Range(opts);
      return new FunctionQuantizer(spec, opts.bits, (x) => pow2(x, opts), (l) => pow2Values(l, opts));
    },
  },

  minMax: {
    options: ['qrMin', 'qrMax', 'qlMin', 'qlMax', 'steFineGrained', 'eps', 'xMinMax', 'ema', 'decay'],
    make: (spec, o) => {
      const n = 'minMax';
      return new MinMaxQuantizer(spec, {
        qrMin: numberOption(n, o, 'qrMin', -6),
        qrMax: numberOption(n, o, 'qrMax', 6),
        qlMin: numberOption(n, o, 'qlMin', 0),
        qlMax: numberOption(n, o, 'qlMax', 255),
        steFineGrained: booleanOption(n, o, 'steFineGrained', true),
        eps: numberOption(n, o, 'eps', 0.01, { min: 0 }),
        xMinMax: booleanOption(n, o, 'xMinMax', false),
        ema: booleanOption(n, o, 'ema', false),
        decay: numberOption(n, o, 'decay', 0.999, { min: 0, max: 1 }),
      });
    },
  },

  inq: {
    options: ['numBits', 'schedule', 'selection', 'seed', 'gradient'],
    make: (spec, o) => {
      const n = 'inq';
      return new InqQuantizer(spec, {
        numBits: checkBits(n, o.numBits ?? 4, 2, 'numBits'),
        schedule: o.schedule as number[] | undefined,
        selection: choiceOption(n, o, 'selection', 'largestAbs', INQ_SELECTIONS),
        seed: numberOption(n, o, 'seed', 0, { integer: true }),
        gradient: choiceOption(n, o, 'gradient', 'free', INQ_GRADIENTS),
      });
    },
  },

  stochasticQuantization: {
    options: ['ratio', 'base', 'rule', 'g', 'eps', 'seed', 'deltaRule', 'thresholdFactor'],
    make: (spec, o) => {
      const n = 'stochasticQuantization';
      return new SqQuantizer(spec, {
        ratio: checkRatio(n, o.ratio ?? sqRatioSchedule[0]),
        base: choiceOption(n, o, 'base', 'bwn', SQ_BASES),
        rule: choiceOption(n, o, 'rule', 'paper', SQ_RULES),
        g: choiceOption(n, o, 'g', 'linear', SQ_PROBABILITIES),
        eps: numberOption(n, o, 'eps', 1e-7, { above: 0 }),
        seed: numberOption(n, o, 'seed', 0, { integer: true }),
        deltaRule: choiceOption(n, o, 'deltaRule', 'paper', TERNARY_DELTA_RULES),
        thresholdFactor: numberOption(n, o, 'thresholdFactor', 0.7, { min: 0 }),
      });
    },
  },
};

/** Every name makeQuantizer accepts. */
export const quantizerNames: readonly string[] = Object.keys(REGISTRY);

/** The option names a quantizer accepts. */
export function quantizerOptionNames(name: string): readonly string[] {
  const entry = REGISTRY[name];
  if (!entry) throw unknownName(name);
  return entry.options;
}

function unknownName(name: unknown): Error {
  return new Error(`Unknown quantizer ${JSON.stringify(name)}. Valid names: ${quantizerNames.join(', ')}.`);
}

/**
 * Build a quantizer from its spec.
 * @example makeQuantizer({name: 'fixedPoint', options: {bits: 8, delta: 2 ** -4}})
 */
export function makeQuantizer(spec: QuantizerSpec): Quantizer {
  if (spec == null || typeof spec !== 'object') throw new Error(`Not a quantizer spec: ${JSON.stringify(spec)} (expected {name, options?}).`);
  const entry = Object.prototype.hasOwnProperty.call(REGISTRY, spec.name) ? REGISTRY[spec.name] : undefined;
  if (!entry) throw unknownName(spec.name);
  const options = spec.options ?? {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new Error(`Quantizer '${spec.name}': options must be an object, got ${JSON.stringify(options)}.`);
  }
  checkOptionNames(spec.name, options, entry.options);
  return entry.make({ name: spec.name, options: spec.options === undefined ? undefined : { ...options } }, options);
}
