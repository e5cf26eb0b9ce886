/**
 * Option checking for quantizers: every pure function validates the values it is given, and the registry
 * (makeQuantizer) also rejects unknown option names, so a typo in a spec fails loudly instead of silently
 * falling back to a default.
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

/** Read a number option with a default. */
export function numberOption(quantizer: string, options: Record<string, unknown>, key: string, fallback: number,
  rule: NumberRule = {}): number {
  const v = options[key];
  return v === undefined ? checkNumber(quantizer, key, fallback, rule) : checkNumber(quantizer, key, v, rule);
}

/** Read a boolean option with a default. */
export function booleanOption(quantizer: string, options: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = options[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new Error(`${quantizer}: option '${key}' must be true or false, got ${JSON.stringify(v)}.`);
  return v;
}

/** Validate that `value` is one of `choices`. */
export function checkChoice<T extends string>(quantizer: string, key: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new Error(`${quantizer}: unknown ${key} ${JSON.stringify(value)}; use one of ${choices.map((c) => `'${c}'`).join(', ')}.`);
  }
  return value as T;
}

/** Read a string option restricted to `choices`, with a default. */
export function choiceOption<T extends string>(quantizer: string, options: Record<string, unknown>, key: string,
  fallback: T, choices: readonly T[]): T {
  const v = options[key];
  return v === undefined ? fallback : checkChoice(quantizer, key, v, choices);
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
