/**
 * Quantizer options: each quantizer declares its options once, as a table of `OptionSpec`s (kind, default,
 * allowed range or choices, one line of description), next to the function that reads them. From that table
 * come the defaults the pure functions fall back to, the checks they run, the option names and checks of the
 * registry (makeQuantizer rejects unknown names, so a typo in a spec fails loudly instead of silently falling
 * back to a default), the option types (`OptionValues`) and the text of every error.
 */

/** Throws when `options` holds a key that is not in `allowed`. */
export function checkOptionNames(quantizer: string, options: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new Error(`Unknown option '${key}' for quantizer '${quantizer}'. Valid options: ` +
        `${allowed.length > 0 ? allowed.join(', ') : '(none)'}.`);
    }
  }
}

export interface NumberRule {
  integer?: boolean;
  /** Inclusive lower bound. */
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
  /** Inclusive upper bound. */
  max?: number;
}

function describe(rule: NumberRule): string {
  const parts: string[] = [];
  if (rule.integer) parts.push('an integer');
  else parts.push('a number');
  if (rule.min !== undefined && rule.max !== undefined && rule.above === undefined) return `${parts[0]} in [${rule.min}, ${rule.max}]`;
  if (rule.min !== undefined) parts.push(`>= ${rule.min}`);
  if (rule.above !== undefined) parts.push(`> ${rule.above}`);
  if (rule.max !== undefined) parts.push(`<= ${rule.max}`);
  return parts.join(' ');
}

/** Validate a number option; returns it. */
export function checkNumber(quantizer: string, key: string, value: unknown, rule: NumberRule = {}): number {
  const ok = typeof value === 'number' && Number.isFinite(value) &&
    (!rule.integer || Number.isInteger(value)) &&
    (rule.min === undefined || value >= rule.min) &&
    (rule.above === undefined || value > rule.above) &&
    (rule.max === undefined || value <= rule.max);
  if (!ok) throw new Error(`${quantizer}: option '${key}' must be ${describe(rule)}, got ${JSON.stringify(value)}.`);
  return value as number;
}

/** Validate a boolean option; returns it. */
export function checkBoolean(quantizer: string, key: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new Error(`${quantizer}: option '${key}' must be true or false, got ${JSON.stringify(value)}.`);
  return value;
}

/** Validate that `value` is one of `choices`. */
export function checkChoice<T extends string>(quantizer: string, key: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new Error(`${quantizer}: unknown ${key} ${JSON.stringify(value)}; use one of ${choices.map((c) => `'${c}'`).join(', ')}.`);
  }
  return value as T;
}

/** Bit width: an integer >= `min` (1 unless the method needs more). */
export function checkBits(quantizer: string, bits: unknown, min = 1, key = 'bits'): number {
  if (typeof bits !== 'number' || !Number.isInteger(bits) || bits < min) {
    throw new Error(`${quantizer}: ${key} must be an integer >= ${min}, got ${JSON.stringify(bits)}.`);
  }
  return bits;
}

/** Quantization ratio r of stochastic quantization: a number in [0, 1]. */
export function checkRatio(quantizer: string, ratio: unknown): number {
  if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new Error(`${quantizer}: ratio must be a number in [0, 1] (the share of channels to quantize), ` +
      `got ${JSON.stringify(ratio)}${typeof ratio === 'number' && ratio > 1 && ratio <= 100 ? ' (the Caffe code uses percent: divide by 100)' : ''}.`);
  }
  return ratio;
}

/** A list of optimizer steps (INQ's schedule): non-empty, integers >= 0. */
export function checkSteps(quantizer: string, key: string, value: unknown): readonly number[] {
  if (!Array.isArray(value) || value.length === 0 ||
    !value.every((s) => typeof s === 'number' && Number.isInteger(s) && s >= 0)) {
    throw new Error(`${quantizer}: ${key} must be a non-empty list of step numbers (integers >= 0), got ${JSON.stringify(value)}.`);
  }
  return value as number[];
}

// ---------------------------------------------------------------------------------------------------
// Option tables

/** The options resolved so far: what a bound or default that depends on other options reads. */
export type OptionContext = Readonly<Record<string, unknown>>;
/** A bound or default, fixed or computed from the other options (e.g. fixedPoint's bits >= 2 when signed). */
export type Dependent<T> = T | ((options: OptionContext) => T);

interface SpecBase {
  /** One line for help texts and docs. */
  description: string;
}
/** A number; without a default the option is optional (undefined when not given). */
export interface NumberSpec extends SpecBase {
  kind: 'number';
  default?: number;
  integer?: boolean;
  min?: Dependent<number>;
  above?: Dependent<number>;
  max?: Dependent<number>;
}
/** A bit width: an integer >= min. */
export interface BitsSpec extends SpecBase {
  kind: 'bits';
  default: number;
  min: Dependent<number>;
}
/** SQ's ratio in [0, 1]; without a default the option is required. */
export interface RatioSpec extends SpecBase {
  kind: 'ratio';
  default?: number;
}
export interface BooleanSpec extends SpecBase {
  kind: 'boolean';
  default: boolean;
}
export interface ChoiceSpec<T extends string = string> extends SpecBase {
  kind: 'choice';
  choices: readonly T[];
  default: Dependent<T>;
}
/** A list of step numbers (integers >= 0, at least one). */
export interface StepsSpec extends SpecBase {
  kind: 'steps';
  default: readonly number[];
}
export type OptionSpec = NumberSpec | BitsSpec | RatioSpec | BooleanSpec | ChoiceSpec | StepsSpec;
export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** The value type of one option after resolution (defaults filled in). */
export type OptionValue<S> =
  S extends { kind: 'choice'; choices: readonly (infer C)[] } ? C
    : S extends { kind: 'boolean' } ? boolean
      : S extends { kind: 'steps' } ? readonly number[]
        : S extends { kind: 'number' | 'ratio'; default: number } ? number
          : S extends { kind: 'bits' } ? number
            : number | undefined;

/** Every option of a table, resolved (what `resolveOptions` returns and `make` receives). */
export type OptionValues<T extends OptionTable> = { -readonly [K in keyof T]: OptionValue<T[K]> };
/** The options a caller may give (all optional). */
export type OptionInput<T extends OptionTable> = { [K in keyof T]?: Exclude<OptionValue<T[K]>, undefined> };

/** Declare an option table (keeps its literal types: choices, which options have defaults). */
export function optionTable<const T extends OptionTable>(table: T): T {
  return table;
}

function dependent<T>(v: Dependent<T> | undefined, context: OptionContext): T | undefined {
  return typeof v === 'function' ? (v as (o: OptionContext) => T)(context) : v;
}

function isDependent(spec: OptionSpec): boolean {
  return [spec.default, (spec as NumberSpec).min, (spec as NumberSpec).above, (spec as NumberSpec).max]
    .some((v) => typeof v === 'function');
}

/**
 * Check one option's value against its spec (undefined: its default) and return it. `context` holds the
 * other options, for bounds and defaults that depend on them.
 */
export function checkOption(quantizer: string, key: string, spec: OptionSpec, value: unknown, context: OptionContext = {}): unknown {
  switch (spec.kind) {
    case 'number': {
      const v = value === undefined ? spec.default : value;
      if (v === undefined) return undefined;
      return checkNumber(quantizer, key, v, {
        integer: spec.integer,
        min: dependent(spec.min, context),
        above: dependent(spec.above, context),
        max: dependent(spec.max, context),
      });
    }
    case 'bits':
      return checkBits(quantizer, value === undefined ? spec.default : value, dependent(spec.min, context), key);
    case 'ratio':
      return checkRatio(quantizer, value === undefined ? spec.default : value);
    case 'boolean':
      return value === undefined ? spec.default : checkBoolean(quantizer, key, value);
    case 'choice':
      return value === undefined ? dependent(spec.default, context) : checkChoice(quantizer, key, value, spec.choices);
    case 'steps':
      return value === undefined ? spec.default.slice() : checkSteps(quantizer, key, value);
  }
}

/** Read one option of a table: the given value, checked, or the default. */
export function readOption<T extends OptionTable, K extends keyof T & string>(quantizer: string, table: T, key: K, value: unknown,
  context: OptionContext = {}): OptionValue<T[K]> {
  return checkOption(quantizer, key, table[key], value, context) as OptionValue<T[K]>;
}

/**
 * Every option of the table, checked, with defaults filled in; keys outside the table are ignored (the
 * registry rejects them first). Options whose bounds or defaults depend on others are checked last.
 */
export function resolveOptions<T extends OptionTable>(quantizer: string, table: T, options: Record<string, unknown> = {}): OptionValues<T> {
  const keys = Object.keys(table);
  const context: Record<string, unknown> = {};
  for (const k of keys) context[k] = options[k] === undefined ? table[k].default : options[k];
  const order = [...keys.filter((k) => !isDependent(table[k])), ...keys.filter((k) => isDependent(table[k]))];
  const out: Record<string, unknown> = {};
  for (const k of order) {
    out[k] = checkOption(quantizer, k, table[k], options[k], context);
    context[k] = out[k];
  }
  return Object.fromEntries(keys.map((k) => [k, out[k]])) as OptionValues<T>;
}

/** The allowed values of an option in words, e.g. "a number > 0", "'paper' or 'code'" (bounds that depend on other options: "see description"). */
export function describeOption(spec: OptionSpec): string {
  const fixed = (v: Dependent<number> | undefined) => (typeof v === 'function' ? undefined : v);
  switch (spec.kind) {
    case 'number':
      return describe({ integer: spec.integer, min: fixed(spec.min), above: fixed(spec.above), max: fixed(spec.max) }) +
        ([spec.min, spec.above, spec.max].some((v) => typeof v === 'function') ? ' (bound depends on other options)' : '');
    case 'bits':
      return typeof spec.min === 'function' ? 'an integer (minimum depends on other options)' : `an integer >= ${spec.min}`;
    case 'ratio':
      return 'a number in [0, 1]';
    case 'boolean':
      return 'true or false';
    case 'choice':
      return `one of ${spec.choices.map((c) => `'${c}'`).join(', ')}`;
    case 'steps':
      return 'a non-empty list of integers >= 0';
  }
}
