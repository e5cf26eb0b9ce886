/**
 * A quantizer descriptor: everything the project knows about one registry entry in one object — its name,
 * what it does and where it comes from, its options (defaults, allowed ranges and choices: options.ts), and
 * `make`, which builds the stateful `Quantizer` a layer owns from resolved options. The registry
 * (registry.ts) is the list of descriptors; makeQuantizer, the option names and the option checks used by
 * the CLI are derived from it.
 */
import type { OptionTable, OptionValues } from './options';
import type { Quantizer, QuantizerSpec } from './types';

export interface QuantizerDescriptor<T extends OptionTable = OptionTable> {
  /** The registry name (`QuantizerSpec.name`). */
  readonly name: string;
  /** Other names for the same quantizer (e.g. 'none' for 'identity'). */
  readonly aliases?: readonly string[];
  /** What it computes, in one or two sentences. */
  readonly description: string;
  /** The paper and the upstream code it follows (details: docs/methods.md). */
  readonly source: string;
  /** Its options, in the order error messages list them. */
  readonly options: T;
  /** Build the quantizer; `options` are resolved (checked, defaults filled in), `spec` is kept for getConfig. */
  make(spec: QuantizerSpec, options: OptionValues<T>): Quantizer;
}

/** Declare a descriptor (keeps the literal types of its option table, so `make` sees typed options). */
export function defineQuantizer<const T extends OptionTable>(descriptor: QuantizerDescriptor<T>): QuantizerDescriptor<T> {
  return descriptor;
}
