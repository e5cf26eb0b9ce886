/**
 * Option checks of every experiment, as data: a rule per config key (its range, integer-ness or known names), taken
 * from the experiment's own `options` schema, else from the shared rules below (COMMON_RULES, one meaning per option
 * name across experiments), then the experiment's `check` for relations between options. `resolveConfig` (run.ts)
 * applies them right after the configuration is resolved, before the engine starts and before any data loads, so a
 * bad value fails in a second with a message that names the option, the value and what is allowed:
 *
 *   --epochs must be an integer >= 1, got -1
 *   --Ms: every element must be an integer from 2 to 8, got 9 in [3, 9]
 *   --trainForward must be 'mean' or 'ste', got 'sample'
 *
 * Lists of names come from the registries that define them (quantization methods, models, quantizers, recipes,
 * datasets), not copies. test/experiments-validate.test.ts fails when an option of a registered experiment has no
 * rule, so a new option cannot skip its check. Rules check one value; they never allocate tensors.
 */
import { DATASET_NAMES, parseDatasetName } from '../data';
import { ACTIVATION_PLACEMENTS, METHOD_NAMES, MODEL_NAMES, methodPreset } from '../models';
import { quantizerNames, quantizerOptionNames } from '../quantizers/registry';
import { RECIPE_NAMES } from '../bayes/recipes';
import type { Config } from './config';
import { PRIOR_NAMES } from './maryCommon';

export interface Rule {
  /** What the option accepts, in words ("an integer >= 1", "'mean' or 'ste'"), for messages and --show-options. */
  readonly allowed: string;
  /** What kind of value: lets tests and docs tell numbers, names and lists apart. */
  readonly kind: 'int' | 'number' | 'enum' | 'name' | 'flag' | 'text' | 'list' | 'object';
  /** int and number rules: the range. */
  readonly bounds?: Bounds;
  /** enum rules: the accepted values. list rules: the rule of every element (`element`). */
  readonly values?: readonly (string | number)[];
  readonly element?: Rule;
  /** The message refusing `value` of option `option` (naming both), or null when it is accepted. */
  check(value: unknown, option: string): string | null;
}

/** A rule on a single value: `ok` decides, the message is built from `allowed`. Lists check their elements with it. */
export interface ValueRule extends Rule {
  ok(value: unknown): boolean;
}

/** Rules by config key; a dotted key ('optimizer.lr') checks one field of an object, a plain key the whole value. */
export type Schema = Record<string, Rule>;

/** A value as the command line would write it. */
export function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (v === undefined) return 'nothing';
  return JSON.stringify(v);
}

export function valueRule(
  allowed: string | (() => string), ok: (v: unknown) => boolean, extra: Partial<Pick<Rule, 'kind' | 'bounds'>> & { values?: () => readonly (string | number)[] } = {},
): ValueRule {
  const text = typeof allowed === 'string' ? () => allowed : allowed;
  return {
    get allowed() {
      return text();
    },
    kind: extra.kind ?? 'number',
    bounds: extra.bounds,
    get values() {
      return extra.values?.();
    },
    ok,
    check(v, option) {
      return ok(v) ? null : `--${option} must be ${text()}, got ${show(v)}`;
    },
  };
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export interface Bounds {
  min?: number;
  max?: number;
  /** Exclude the bound itself: (min, ... and ..., max). */
  minOpen?: boolean;
  maxOpen?: boolean;
}

function inBounds(v: number, b: Bounds): boolean {
  if (b.min != null && (b.minOpen ? !(v > b.min) : !(v >= b.min))) return false;
  if (b.max != null && (b.maxOpen ? !(v < b.max) : !(v <= b.max))) return false;
  return true;
}

/** An integer within the bounds. */
export function int(b: Omit<Bounds, 'minOpen' | 'maxOpen'> = {}): ValueRule {
  const allowed = b.min != null && b.max != null ? `an integer from ${b.min} to ${b.max}`
    : b.min != null ? `an integer >= ${b.min}` : b.max != null ? `an integer <= ${b.max}` : 'an integer';
  return valueRule(allowed, (v) => isNumber(v) && Number.isInteger(v) && inBounds(v, b), { kind: 'int', bounds: b });
}

/** A finite number within the bounds. */
export function num(b: Bounds = {}): ValueRule {
  const allowed = b.min != null && b.max != null ? `a number in ${b.minOpen ? '(' : '['}${b.min}, ${b.max}${b.maxOpen ? ')' : ']'}`
    : b.min != null ? `a number ${b.minOpen ? '>' : '>='} ${b.min}` : b.max != null ? `a number ${b.maxOpen ? '<' : '<='} ${b.max}` : 'a finite number';
  return valueRule(allowed, (v) => isNumber(v) && inBounds(v, b), { kind: 'number', bounds: b });
}

export const positiveInt = int({ min: 1 });
export const nonNegativeInt = int({ min: 0 });
export const positive = num({ min: 0, minOpen: true });
export const nonNegative = num({ min: 0 });
export const finite = num();
/** Seeds: the generators take them as uint32. */
export const seedRule = int({ min: 0, max: 2 ** 32 - 1 });
/** A number in [lo, hi] with the ends included or not, as written: inRange(0, 1, '[)'). */
export function inRange(lo: number, hi: number, ends: '[]' | '[)' | '(]' | '()' = '[]'): ValueRule {
  return num({ min: lo, max: hi, minOpen: ends[0] === '(', maxOpen: ends[1] === ')' });
}

/** One of the names (or numbers) given, or returned by a registry function (read when checked, never copied). */
export function oneOf(names: readonly (string | number)[] | (() => readonly (string | number)[])): ValueRule {
  const list = typeof names === 'function' ? names : () => names;
  return valueRule(() => {
    const l = list().map(show);
    return l.length === 1 ? l[0] : l.length === 2 ? `${l[0]} or ${l[1]}` : `one of ${list().join(', ')}`;
  }, (v) => list().includes(v as string | number), { kind: 'enum', values: list });
}

/** A name that a registry function accepts; its own error (which lists the valid names) is the message. */
export function registryName(allowed: () => string, lookup: (name: string) => unknown): Rule {
  return {
    get allowed() {
      return allowed();
    },
    kind: 'name',
    check(v, option) {
      if (typeof v !== 'string') return `--${option} must be ${allowed()}, got ${show(v)}`;
      try {
        lookup(v);
        return null;
      } catch (e) {
        return `--${option}: ${(e as Error).message}`;
      }
    },
  };
}

export const flag = valueRule('true or false', (v) => typeof v === 'boolean', { kind: 'flag' });
/** Free text (a folder, a label): any string. */
export const text = valueRule('a string', (v) => typeof v === 'string', { kind: 'text' });

/** A list (comma-separated on the command line) whose every element the rule accepts. */
export function listOf(rule: Rule, o: { minLength?: number; unique?: boolean } = {}): Rule {
  const allowed = () => `a list${o.minLength ? ` of at least ${o.minLength}` : ''}${o.unique ? ' of distinct values' : ''}, every element ${rule.allowed}`;
  return {
    get allowed() {
      return allowed();
    },
    kind: 'list',
    element: rule,
    check(v, option) {
      if (!Array.isArray(v)) return `--${option} must be ${allowed()}, got ${show(v)}`;
      if (o.minLength && v.length < o.minLength) return `--${option} needs at least ${o.minLength} element${o.minLength > 1 ? 's' : ''}, got ${show(v)}`;
      for (let i = 0; i < v.length; i++) {
        if ('ok' in rule) {
          if (!(rule as ValueRule).ok(v[i])) return `--${option}: every element must be ${rule.allowed}, got ${show(v[i])} in ${show(v)}`;
        } else {
          const m = rule.check(v[i], option);
          if (m) return m;
        }
      }
      if (o.unique && new Set(v).size !== v.length) return `--${option}: the elements must differ, got ${show(v)}`;
      return null;
    },
  };
}

/** A rule written as a function: the message it returns (naming the option), or null. */
export function custom(allowed: string, check: (v: unknown, option: string) => string | null): Rule {
  return { allowed, kind: 'object', check };
}

/** Quantization methods (src/models/methods.ts): the registry's own error lists the valid ones. */
export const methodName = registryName(() => `one of ${METHOD_NAMES.join(', ')}`, methodPreset);

/** A quantizer spec {name, options} of a model option: a name and option names the quantizer registry knows. */
function quantizerSpecError(spec: unknown, option: string): string | null {
  if (spec === null) return null;
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return `--${option} must be a quantizer spec {name, options} or null, got ${show(spec)}`;
  const { name, options } = spec as { name?: unknown; options?: unknown };
  if (typeof name !== 'string' || !quantizerNames.includes(name)) {
    return `--${option}.name must be one of ${quantizerNames.join(', ')}, got ${show(name)}`;
  }
  if (options === undefined) return null;
  if (!options || typeof options !== 'object' || Array.isArray(options)) return `--${option}.options must be an object, got ${show(options)}`;
  const known = quantizerOptionNames(name);
  for (const k of Object.keys(options)) {
    if (!known.includes(k)) return `--${option}.options: quantizer '${name}' has no option '${k}' (it has ${known.join(', ') || 'none'})`;
  }
  return null;
}

const LENET5_WIDTH_KEYS = ['conv1', 'conv2', 'fc1', 'fc2'];

/** Model options of a LeNet-5 (src/models/lenet5.ts and common.ts), numeric and named ones; others pass. */
const LENET5_OPTION_RULES: Schema = {
  bnMomentum: inRange(0, 1, '[)'),
  bnEpsilon: positive,
  dropout: inRange(0, 1, '[)'),
  conv1Padding: oneOf(['valid', 'same']),
  binaryPool: oneOf(['max', 'average']),
  activationPlacement: oneOf(() => ACTIVATION_PLACEMENTS),
  batchNorm: flag,
  useBias: flag,
  quantizeFirstLast: flag,
};

/**
 * zoo-mnist's `modelOptions`: LeNet-5 options per quantization method, merged over the method's preset. Keys are
 * method names; widths are positive integers; quantizer specs name a quantizer and options of the quantizer registry.
 */
export const lenet5ModelOptions = custom('LeNet-5 options per quantization method (widths.* integers >= 1, bnMomentum and dropout in [0, 1), quantizers and their options known to the quantizer registry)', (v, option) => {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return `--${option} must be an object of LeNet-5 options per method, got ${show(v)}`;
  for (const [method, opts] of Object.entries(v as Record<string, unknown>)) {
    const m = methodName.check(method, `${option}.${method}`);
    if (m) return m;
    const at = `${option}.${method}`;
    if (!opts || typeof opts !== 'object' || Array.isArray(opts)) return `--${at} must be an object of LeNet-5 options, got ${show(opts)}`;
    for (const [k, val] of Object.entries(opts as Record<string, unknown>)) {
      if (k === 'widths') {
        if (!val || typeof val !== 'object' || Array.isArray(val)) return `--${at}.widths must be an object {conv1, conv2, fc1, fc2}, got ${show(val)}`;
        for (const [w, n] of Object.entries(val as Record<string, unknown>)) {
          if (!LENET5_WIDTH_KEYS.includes(w)) return `--${at}.widths: unknown layer '${w}' (LeNet-5 has ${LENET5_WIDTH_KEYS.join(', ')})`;
          const e = positiveInt.check(n, `${at}.widths.${w}`);
          if (e) return e;
        }
      } else if (k === 'kernelQuantizer' || k === 'activationQuantizer' || k === 'biasQuantizer') {
        const e = quantizerSpecError(val, `${at}.${k}`);
        if (e) return e;
      } else if (LENET5_OPTION_RULES[k]) {
        const e = LENET5_OPTION_RULES[k].check(val, `${at}.${k}`);
        if (e) return e;
      }
    }
  }
  return null;
});

const SCHEDULE_FIELDS: Record<string, string[]> = {
  constant: [], step: ['stepSize', 'gamma'], multistep: ['milestones', 'gamma'], linearDecay: ['start', 'decrement'],
};

/** A learning-rate schedule object (src/train/schedule.ts): a known name with the fields it needs. */
export const scheduleRule = custom(`{name: ${Object.keys(SCHEDULE_FIELDS).join(' | ')}, ...its fields}`, (v, option) => {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return `--${option} must be a schedule object, got ${show(v)}`;
  const s = v as Record<string, unknown>;
  const need = SCHEDULE_FIELDS[s.name as string];
  if (!need) return `--${option}.name must be one of ${Object.keys(SCHEDULE_FIELDS).join(', ')}, got ${show(s.name)}`;
  for (const f of need) if (s[f] === undefined) return `--${option}: schedule '${String(s.name)}' needs ${option}.${f}`;
  return null;
});

/**
 * The shared rules: one meaning per option name, used by every experiment that has the option (an experiment's own
 * `options` schema overrides one for a different meaning).
 */
export const COMMON_RULES: Schema = {
  // data
  dataset: registryName(() => `one of ${DATASET_NAMES.join(', ')}`, parseDatasetName),
  dataDir: text,
  fixture: flag,
  limitTrain: nonNegativeInt,
  limitTest: nonNegativeInt,
  validation: nonNegativeInt,
  normalize: oneOf(['unit', 'meanstd', 'none']),
  'augment.padCrop': nonNegativeInt,
  'augment.flip': flag,
  // training
  epochs: positiveInt,
  batchSize: positiveInt,
  lr: positive,
  milestones: listOf(nonNegativeInt),
  seed: seedRule,
  clipValue: nonNegative,
  'optimizer.name': oneOf(['adam', 'sgd']),
  'optimizer.lr': positive,
  'optimizer.momentum': inRange(0, 1, '[)'),
  'optimizer.nesterov': flag,
  'optimizer.beta1': inRange(0, 1, '[)'),
  'optimizer.beta2': inRange(0, 1, '[)'),
  'optimizer.epsilon': inRange(0, 1, '()'),
  'optimizer.weightDecay': nonNegative,
  schedule: scheduleRule,
  'schedule.name': oneOf(() => Object.keys(SCHEDULE_FIELDS)),
  'schedule.milestones': listOf(nonNegativeInt),
  'schedule.gamma': positive,
  'schedule.stepSize': positive,
  'schedule.start': nonNegativeInt,
  'schedule.decrement': nonNegative,
  'schedule.minLr': nonNegative,
  // the float baseline of the Bayesian experiments
  fp: flag,
  fpEpochs: positiveInt,
  fpMilestones: listOf(nonNegativeInt),
  // Bayesian M-ary networks (MaryTrainConfig, src/experiments/maryCommon.ts; recipes in src/bayes/recipes.ts)
  recipe: oneOf(() => RECIPE_NAMES),
  M: int({ min: 2, max: 8 }),
  Ms: listOf(int({ min: 2, max: 8 })),
  priors: listOf(oneOf(() => PRIOR_NAMES)),
  mcSamples: positiveInt,
  initFromFloat: flag,
  thetaInit: oneOf(['glorotUniform', 'heNormal', 'published']),
  trainForward: oneOf(['mean', 'ste']),
  conv1Padding: oneOf(['valid', 'same']),
  bnMomentum: inRange(0, 1, '[)'),
  logSigma2Init: finite,
  klWarmupEpochs: nonNegative,
  klLambda: nonNegative,
  klNormalization: oneOf(['elbo', 'layerMean']),
  klLayerExponent: inRange(0, 1),
  minLevelGap: inRange(0, 1, '[)'),
  levelLrScale: inRange(0, 1, '(]'),
  freezeThreshold: inRange(0, 1, '[)'),
  freezeMomentum: inRange(0, 1, '(]'),
  slabWidth: positive,
  logAlphaClip: positive,
  spikeSlabGate: oneOf(['normalized', 'window']),
  gaussianPriorLogSigma2: finite,
  adamEpsilon: inRange(0, 1, '()'),
  lrSchedule: oneOf(['multistep', 'linearDecay']),
  decayStart: nonNegativeInt,
  decayPerEpoch: nonNegative,
  // the quantizer zoo (zoo-mnist and the CIFAR zoos)
  methods: listOf(methodName),
  model: oneOf(() => MODEL_NAMES),
  inqSteps: listOf(positiveInt),
};

/** What validation needs of an experiment (a structural subset of Experiment, so this file imports no experiment). */
export interface Validated {
  name: string;
  options?: Schema;
  check?(config: Config): void;
}

/** The rule of `key` for this experiment (its own, else the shared one), or null. */
export function ruleOf(exp: Validated, key: string): Rule | null {
  return exp.options?.[key] ?? (Object.prototype.hasOwnProperty.call(COMMON_RULES, key) ? COMMON_RULES[key] : null);
}

/** Every leaf key of a configuration, dotted ('optimizer.lr'); arrays are leaves. */
export function leafKeys(obj: Config, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0 ? leafKeys(v as Config, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

/** The key whose rule covers a leaf: the leaf itself, else its nearest parent object with a rule; null when none. */
export function coveringKey(exp: Validated, leaf: string): string | null {
  const parts = leaf.split('.');
  for (let n = parts.length; n > 0; n--) {
    const key = parts.slice(0, n).join('.');
    if (ruleOf(exp, key)) return key;
  }
  return null;
}

function valueAt(cfg: Config, key: string): unknown {
  let node: unknown = cfg;
  for (const p of key.split('.')) {
    if (!node || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as Config)[p];
  }
  return node;
}

/** Checks between options that hold for every experiment. */
function commonCheck(cfg: Config): string | null {
  const { validation, limitTrain } = cfg as { validation?: number; limitTrain?: number };
  if (typeof validation === 'number' && typeof limitTrain === 'number' && limitTrain > 0 && validation >= limitTrain) {
    return `--validation ${validation} leaves no training examples of --limitTrain ${limitTrain}: it must be less than --limitTrain (or 0)`;
  }
  return null;
}

/**
 * The rule violations of a configuration, one message each: every rule (the experiment's and the shared ones) whose key
 * the configuration has. Keys without a rule are not checked here (the test suite requires that none exist).
 */
export function optionErrors(exp: Validated, cfg: Config): string[] {
  const keys = new Set<string>([...Object.keys(COMMON_RULES), ...Object.keys(exp.options ?? {})]);
  const errors: string[] = [];
  for (const key of keys) {
    const v = valueAt(cfg, key);
    if (v === undefined) continue;
    const m = ruleOf(exp, key)!.check(v, key);
    if (m) errors.push(m);
  }
  return errors;
}

/**
 * Check a resolved configuration: every option's rule, then (when they all pass) the checks between options, the
 * shared ones and the experiment's `check`. Throws one error listing every violation found.
 * `checks: false` applies the rules only (e.g. to configurations recorded before an option existed).
 */
export function validateConfig(exp: Validated, cfg: Config, o: { checks?: boolean } = {}): void {
  const errors = optionErrors(exp, cfg);
  if (errors.length === 0 && o.checks !== false) {
    const c = commonCheck(cfg);
    if (c) errors.push(c);
    else exp.check?.(cfg);
  }
  if (errors.length === 1) throw new Error(errors[0]);
  if (errors.length > 1) throw new Error(`${errors.length} options of ${exp.name} are not valid:\n  ${errors.join('\n  ')}`);
}

/** One line per option of a configuration: key, value and what it accepts (for `--show-options`). */
export function describeOptions(exp: Validated, cfg: Config): string[] {
  return leafKeys(cfg).map((leaf) => {
    const key = coveringKey(exp, leaf);
    const allowed = key ? `${key !== leaf ? `(${key}) ` : ''}${ruleOf(exp, key)!.allowed}` : '(no rule)';
    return `--${leaf} ${show(valueAt(cfg, leaf))}: ${allowed}`;
  });
}
