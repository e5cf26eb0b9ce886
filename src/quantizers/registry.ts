/**
 * The registry: the list of quantizer descriptors (descriptor.ts), and what is derived from it —
 * `makeQuantizer({name, options})` builds the `Quantizer` a layer uses; `quantizerOptionsError` checks a
 * name and options without building anything (for option validation before a run starts). Options are
 * plain data (they go through getConfig); unknown names and options, and bad values, give errors that say
 * what is valid.
 */
import { binaryConnectDescriptor } from './binaryConnect';
import { binaryTanhDescriptor } from './binaryTanh';
import { binaryWeightDescriptor } from './binaryWeight';
import type { QuantizerDescriptor } from './descriptor';
import { fixedPointDescriptor } from './fixedPoint';
import { identityDescriptor } from './functionQuantizer';
import { inqDescriptor } from './inqQuantizer';
import { minMaxDescriptor } from './minMaxQuantizer';
import { type OptionTable, type OptionValues, checkOptionNames, resolveOptions } from './options';
import { pow2Descriptor } from './pow2';
import { stochasticQuantizationDescriptor } from './sqQuantizer';
import { ternaryWeightDescriptor } from './ternaryWeight';
import type { Quantizer, QuantizerSpec } from './types';

/** Every quantizer of the zoo, in presentation order. */
export const quantizerDescriptors: readonly QuantizerDescriptor[] = [
  identityDescriptor,
  binaryConnectDescriptor,
  binaryTanhDescriptor,
  binaryWeightDescriptor,
  ternaryWeightDescriptor,
  fixedPointDescriptor,
  pow2Descriptor,
  minMaxDescriptor,
  inqDescriptor,
  stochasticQuantizationDescriptor,
];

const REGISTRY = new Map<string, QuantizerDescriptor>();
for (const d of quantizerDescriptors) for (const name of [...(d.aliases ?? []), d.name]) REGISTRY.set(name, d);

/** Every name makeQuantizer accepts (aliases included). */
export const quantizerNames: readonly string[] = [...REGISTRY.keys()];

function unknownName(name: unknown): Error {
  return new Error(`Unknown quantizer ${JSON.stringify(name)}. Valid names: ${quantizerNames.join(', ')}.`);
}

/** The descriptor of a registry name (an alias gives its quantizer's descriptor). */
export function quantizerDescriptor(name: string): QuantizerDescriptor {
  const d = typeof name === 'string' ? REGISTRY.get(name) : undefined;
  if (!d) throw unknownName(name);
  return d;
}

/** The option names a quantizer accepts. */
export function quantizerOptionNames(name: string): readonly string[] {
  return Object.keys(quantizerDescriptor(name).options);
}

/**
 * Check a name and its options and return them resolved (every option, defaults filled in). Throws the
 * error makeQuantizer would throw.
 * @example resolveQuantizerOptions('fixedPoint', {bits: 6}) // {bits: 6, delta: 0.0625, signed: true, steFineGrained: true}
 */
export function resolveQuantizerOptions(name: string, options: Record<string, unknown> = {}): OptionValues<OptionTable> {
  const d = quantizerDescriptor(name);
  if (options == null || typeof options !== 'object' || Array.isArray(options)) {
    throw new Error(`Quantizer '${name}': options must be an object, got ${JSON.stringify(options)}.`);
  }
  checkOptionNames(name, options, Object.keys(d.options));
  return resolveOptions(d.name, d.options, options);
}

/**
 * The default of every option of a quantizer (only `keys`, in that order, when given): what an option left
 * out of a spec means. Method presets use it to spell out the defaults they rely on.
 * @example quantizerDefaults('fixedPoint', ['bits', 'delta']) // {bits: 8, delta: 0.0625}
 */
export function quantizerDefaults(name: string, keys?: readonly string[]): Record<string, unknown> {
  const all = resolveQuantizerOptions(name, {}) as Record<string, unknown>;
  if (!keys) return all;
  checkOptionNames(name, Object.fromEntries(keys.map((k) => [k, true])), Object.keys(all));
  return Object.fromEntries(keys.map((k) => [k, all[k]]));
}

/**
 * Why a quantizer name and options would be refused, or null when makeQuantizer accepts them. The message
 * names the option, the value and what is allowed, e.g. "fixedPoint: option 'delta' must be a number > 0,
 * got 0." or "Unknown option 'bit' for quantizer 'fixedPoint'. Valid options: bits, delta, signed,
 * steFineGrained." Builds nothing (no tensors).
 */
export function quantizerOptionsError(name: string, options?: Record<string, unknown>): string | null {
  try {
    resolveQuantizerOptions(name, options);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Build a quantizer from its spec.
 * @example makeQuantizer({name: 'fixedPoint', options: {bits: 8, delta: 2 ** -4}})
 */
export function makeQuantizer(spec: QuantizerSpec): Quantizer {
  if (spec == null || typeof spec !== 'object') throw new Error(`Not a quantizer spec: ${JSON.stringify(spec)} (expected {name, options?}).`);
  const d = quantizerDescriptor(spec.name);
  const options = spec.options ?? {};
  const resolved = resolveQuantizerOptions(spec.name, options);
  return d.make({ name: spec.name, options: spec.options === undefined ? undefined : { ...options } }, resolved);
}
