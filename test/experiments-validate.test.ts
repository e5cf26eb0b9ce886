/**
 * Every option of every registered experiment is checked before any data loads (src/experiments/validate.ts):
 * every key has a rule, bad values fail with a message naming the option, the value and what is allowed, the
 * defaults, --smoke sizes, presets and the committed full runs' configurations all pass, and a refused run never
 * reaches the experiment's code (where the data would load).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deepMerge, type Config } from '../src/experiments/config';
import { experiments } from '../src/experiments/registry';
import { getExperiment, resolveConfig, runExperiment } from '../src/experiments/run';
import type { Experiment } from '../src/experiments/types';
import {
  coveringKey, COMMON_RULES, leafKeys, listOf, positiveInt, ruleOf, show, validateConfig, type Rule,
} from '../src/experiments/validate';

type Exp = Experiment<Config>;
const all = experiments as Exp[];

/** Every configuration an experiment can start from: defaults and --smoke, for each preset. */
function startingConfigs(exp: Exp): { label: string; cfg: Config }[] {
  const out: { label: string; cfg: Config }[] = [];
  for (const preset of exp.presets ? exp.presets.names : [null]) {
    for (const smoke of [false, true]) {
      const overrides = preset ? { [exp.presets!.key]: preset } : {};
      out.push({ label: `${exp.name}${preset ? ` --${exp.presets!.key} ${preset}` : ''}${smoke ? ' --smoke' : ''}`, cfg: resolveConfig(exp, { overrides, smoke, validate: false }) });
    }
  }
  return out;
}

function setAt(cfg: Config, key: string, v: unknown): Config {
  const out = JSON.parse(JSON.stringify(cfg)) as Config;
  const parts = key.split('.');
  let node = out;
  for (const p of parts.slice(0, -1)) node = node[p] as Config;
  node[parts[parts.length - 1]] = v;
  return out;
}

function getAt(cfg: Config, key: string): unknown {
  return key.split('.').reduce<unknown>((n, p) => (n as Config)[p], cfg);
}

function messageOf(f: () => void): string | null {
  try {
    f();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

test('every option of every experiment has a rule (a new option must get one: shared in COMMON_RULES or in the experiment\'s options)', () => {
  assert.ok(all.length >= 9, `${all.length} experiments`);
  const missing: string[] = [];
  for (const exp of all) {
    for (const { label, cfg } of startingConfigs(exp)) {
      for (const leaf of leafKeys(cfg)) if (!coveringKey(exp, leaf)) missing.push(`${label}: --${leaf} ${show(getAt(cfg, leaf))}`);
    }
  }
  assert.deepEqual(missing, [], `options without a rule (add one in src/experiments/validate.ts or the experiment's \`options\`):\n${missing.join('\n')}`);
  // Numeric and named options are never covered by a free-text rule.
  for (const exp of all) {
    for (const leaf of leafKeys(exp.defaults)) {
      const v = getAt(exp.defaults, leaf);
      const rule = ruleOf(exp, coveringKey(exp, leaf)!)!;
      if (typeof v === 'number' || (Array.isArray(v) && typeof v[0] === 'number')) {
        assert.notEqual(rule.kind, 'text', `${exp.name} --${leaf}`);
        assert.notEqual(rule.element?.kind, 'text', `${exp.name} --${leaf}`);
      }
    }
  }
});

test('the defaults, --smoke sizes and presets of every experiment validate', () => {
  for (const exp of all) {
    for (const { label, cfg } of startingConfigs(exp)) assert.doesNotThrow(() => validateConfig(exp, cfg), label);
  }
});

test("the committed full runs' configurations (results/*/run.json) still validate", () => {
  const dirs = fs.readdirSync('results').filter((d) => fs.existsSync(path.join('results', d, 'run.json')));
  assert.ok(dirs.length >= 5, `${dirs.length} committed runs`);
  for (const d of dirs) {
    const run = JSON.parse(fs.readFileSync(path.join('results', d, 'run.json'), 'utf8'));
    const exp = getExperiment(run.experiment);
    // As recorded: every recorded value passes its rule (runs recorded before an option existed lack it).
    assert.doesNotThrow(() => validateConfig(exp, run.config, { checks: false }), d);
    // As it would run today: the recorded values over today's defaults (of the recorded recipe), checks included.
    const base = resolveConfig(exp, { overrides: exp.presets && run.config[exp.presets.key] ? { [exp.presets.key]: String(run.config[exp.presets.key]) } : {} });
    assert.doesNotThrow(() => validateConfig(exp, deepMerge(base, run.config)), d);
  }
});

/** Values a rule must refuse, derived from its kind and range. */
function badValues(rule: Rule): unknown[] {
  switch (rule.kind) {
    case 'int': {
      const b = rule.bounds ?? {};
      const out: unknown[] = [NaN, 1.5 + (b.min ?? 0), 'seven'];
      if (b.min != null) out.push(b.min - 1);
      if (b.max != null) out.push(b.max + 1);
      return out;
    }
    case 'number': {
      const b = rule.bounds ?? {};
      const out: unknown[] = [NaN, Infinity, 'seven'];
      if (b.min != null) out.push(b.minOpen ? b.min : b.min - 1);
      if (b.max != null) out.push(b.maxOpen ? b.max : b.max + 1);
      return out;
    }
    case 'enum':
      return [typeof rule.values?.[0] === 'number' ? 99 : 'no-such-name', 3.5];
    case 'name':
      return ['no-such-name'];
    case 'flag':
      return ['yes'];
    case 'text':
      return [42];
    case 'list':
      return ['not-a-list', ...badValues(rule.element!).map((b) => [b])];
    default:
      return [];
  }
}

test('every option refuses values out of its range (NaN, 1.5 for integers, below/above the bounds, unknown names), naming option and value', () => {
  let checked = 0;
  for (const exp of all) {
    const cfg = resolveConfig(exp, { smoke: true });
    for (const leaf of leafKeys(cfg)) {
      const key = coveringKey(exp, leaf)!;
      if (key !== leaf) continue; // object rules (modelOptions, schedule) are tested below
      const rule = ruleOf(exp, key)!;
      for (const bad of badValues(rule)) {
        const msg = messageOf(() => validateConfig(exp, setAt(cfg, key, bad)));
        assert.ok(msg, `${exp.name} --${key} ${show(bad)} was accepted`);
        assert.ok(msg.includes(`--${key}`), `${exp.name}: '${msg}' names --${key}`);
        const shown = Array.isArray(bad) ? show(bad[0]) : show(bad);
        assert.ok(msg.includes(shown) || (rule.kind === 'list' && msg.includes(show(bad))), `${exp.name}: '${msg}' shows the value ${shown}`);
        if (rule.kind !== 'name' && !(rule.kind === 'list' && rule.element?.kind === 'name')) {
          const allowed = rule.kind === 'list' && Array.isArray(bad) ? rule.element!.allowed : rule.allowed;
          assert.ok(msg.includes(allowed), `${exp.name}: '${msg}' says what is allowed (${allowed})`);
        }
        checked++;
      }
    }
  }
  assert.ok(checked > 300, `${checked} bad values checked`);
});

test('the messages, case by case', () => {
  const mary = getExperiment('mary-lenet-mnist');
  const cfg = resolveConfig(mary, {});
  const refuse = (key: string, v: unknown, re: RegExp, exp: Exp = mary, base: Config = cfg) => assert.match(messageOf(() => validateConfig(exp, setAt(base, key, v))) ?? '(accepted)', re);
  refuse('epochs', -1, /^--epochs must be an integer >= 1, got -1$/);
  refuse('epochs', 0, /^--epochs must be an integer >= 1, got 0$/);
  refuse('epochs', 1.5, /^--epochs must be an integer >= 1, got 1\.5$/);
  refuse('lr', NaN, /^--lr must be a number > 0, got NaN$/);
  refuse('lr', 0, /^--lr must be a number > 0, got 0$/);
  refuse('batchSize', 0, /^--batchSize must be an integer >= 1, got 0$/);
  refuse('seed', -1, /^--seed must be an integer from 0 to 4294967295, got -1$/);
  refuse('validation', -1, /^--validation must be an integer >= 0, got -1$/);
  refuse('limitTrain', 2.5, /^--limitTrain must be an integer >= 0, got 2\.5$/);
  refuse('mcSamples', 0, /^--mcSamples must be an integer >= 1, got 0$/);
  refuse('milestones', [5, -1], /^--milestones: every element must be an integer >= 0, got -1 in \[5, -1\]$/);
  refuse('Ms', [3, 9], /^--Ms: every element must be an integer from 2 to 8, got 9 in \[3, 9\]$/);
  refuse('Ms', [1.5], /^--Ms: every element must be an integer from 2 to 8, got 1\.5 in \[1\.5\]$/);
  refuse('priors', ['laplace'], /^--priors: every element must be 'spikeslab' or 'gaussian', got 'laplace' in \['laplace'\]$/);
  refuse('trainForward', 'sample', /^--trainForward must be 'mean' or 'ste', got 'sample'$/);
  refuse('bnMomentum', 1, /^--bnMomentum must be a number in \[0, 1\), got 1$/);
  refuse('levelLrScale', 0, /^--levelLrScale must be a number in \(0, 1\], got 0$/);
  refuse('thetaInit', 'zeros', /^--thetaInit must be one of glorotUniform, heNormal, published, got 'zeros'$/);
  refuse('dataset', 'mnsit', /^--dataset: Unknown dataset 'mnsit'; known: mnist, fashion-mnist, cifar10, cifar100\.$/);
  // several at once: one error listing each
  assert.throws(() => validateConfig(mary, { ...cfg, epochs: -1, lr: 0 }), /2 options of mary-lenet-mnist are not valid:\n {2}--lr must be a number > 0, got 0\n {2}--epochs must be|2 options of mary-lenet-mnist are not valid:\n {2}--epochs/);
  // checks between options, after the rules
  refuse('limitTrain', 1000, /--validation 5000 leaves no training examples of --limitTrain 1000/);
  refuse('initFromFloat', true, /--initFromFloat needs --conv1Padding same/, mary, resolveConfig(mary, { overrides: { recipe: 'paper' } }));

  const zoo = getExperiment('zoo-mnist');
  const z = resolveConfig(zoo, {});
  refuse('methods', ['fp', 'binary-conect'], /^--methods: Unknown quantization method 'binary-conect'\. Valid methods: fp, binary-connect/, zoo, z);
  refuse('longRunEpochs', 0, /^--longRunEpochs must be an integer >= 1, got 0$/, zoo, z);
  refuse('modelOptions.binary-net.widths.conv1', 0, /^--modelOptions\.binary-net\.widths\.conv1 must be an integer >= 1, got 0$/, zoo, z);
  refuse('modelOptions.binary-net.bnMomentum', 1.5, /^--modelOptions\.binary-net\.bnMomentum must be a number in \[0, 1\), got 1\.5$/, zoo, z);
  refuse('modelOptions', { 'binary-nett': {} }, /^--modelOptions\.binary-nett: Unknown quantization method 'binary-nett'/, zoo, z);
  refuse('modelOptions', { fp: { kernelQuantizer: { name: 'binaryConect' } } }, /^--modelOptions\.fp\.kernelQuantizer\.name must be one of .*binaryConnect.*, got 'binaryConect'$/, zoo, z);
  refuse('modelOptions', { fp: { kernelQuantizer: { name: 'fixedPoint', options: { bitz: 4 } } } }, /quantizer 'fixedPoint' has no option 'bitz' \(it has bits, /, zoo, z);

  const sq = getExperiment('sq-vgg9-cifar10');
  const s = resolveConfig(sq, {});
  refuse('optimizer.momentum', 1, /^--optimizer\.momentum must be a number in \[0, 1\), got 1$/, sq, s);
  refuse('optimizer.name', 'rmsprop', /^--optimizer\.name must be 'adam' or 'sgd', got 'rmsprop'$/, sq, s);
  refuse('schedule.name', 'cosine', /--schedule\.name must be one of constant, step, multistep, linearDecay, got 'cosine'/, sq, s);
  refuse('schedule', { name: 'multistep', gamma: 0.1 }, /schedule 'multistep' needs schedule\.milestones/, sq, s);
  refuse('normalize', 'zscore', /^--normalize must be one of unit, meanstd, none, got 'zscore'$/, sq, s);
  refuse('model', 'resnet18', /^--model must be one of lenet5, .*, got 'resnet18'$/, sq, s);

  const dn = getExperiment('mary-densenet40-cifar10');
  refuse('depth', 41, /^--depth must be an integer 3n \+ 4 >= 7 .*, got 41$/, dn, resolveConfig(dn, {}));
  const ab = getExperiment('mary-lenet-mnist-ablation');
  refuse('rows', ['qnnlab', 'no-such-row'], /^--rows: every element must be one of qnnlab, no-float-init, .*, got 'no-such-row'/, ab, resolveConfig(ab, {}));
  refuse('seeds', [], /^--seeds needs at least 1 element, got \[\]$/, ab, resolveConfig(ab, {}));
  const rob = getExperiment('mary-robustness-mnist');
  const r = resolveConfig(rob, {});
  refuse('severities', [6], /^--severities: every element must be one of 1, 2, 3, 4, 5, got 6 in \[6\]$/, rob, r);
  refuse('corruptions', ['fog'], /^--corruptions: every element must be one of gaussian-noise, .*, got 'fog'/, rob, r);
  refuse('dropoutRates', [1], /^--dropoutRates: every element must be a number in \(0, 1\), got 1 in \[1\]$/, rob, r);
  refuse('reliabilityShift', 'rotate-7', /--reliabilityShift 'rotate-7' is not one of the evaluated shifts/, rob, r);
});

test('the helpers: listOf, custom experiment rules override the shared ones', () => {
  const rule = listOf(positiveInt, { minLength: 2, unique: true });
  assert.equal(rule.check([1, 2], 'x'), null);
  assert.match(rule.check([1], 'x')!, /^--x needs at least 2 elements, got \[1\]$/);
  assert.match(rule.check([1, 1], 'x')!, /^--x: the elements must differ, got \[1, 1\]$/);
  assert.match(rule.check('1,2', 'x')!, /^--x must be a list/);
  const own = { name: 'toy', options: { epochs: listOf(positiveInt) } };
  assert.equal(ruleOf(own, 'epochs'), own.options.epochs);
  assert.equal(ruleOf({ name: 'toy' }, 'epochs'), COMMON_RULES.epochs);
});

test('a refused run stops before the experiment runs (no engine, no data): every experiment, from the command line\'s path', async () => {
  const runs = new Map<string, number>();
  const saved = all.map((e) => e.run);
  for (const e of all) e.run = async () => {
    runs.set(e.name, (runs.get(e.name) ?? 0) + 1);
    return { history: [{ epoch: 1 }], variants: [], figures: [] };
  };
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qnn-nodata-'));
  const prevData = process.env.QNNLAB_DATA;
  process.env.QNNLAB_DATA = dataDir; // an empty data folder: a run that got as far as loading CIFAR would fail there
  try {
    for (const exp of all) {
      const outDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'qnn-refused-')), 'out');
      for (const [key, bad] of [['epochs', '-1'], ['batchSize', '0'], ['seed', '1.5'], ['limitTest', '-1']] as const) {
        if (!(key in exp.defaults)) continue;
        await assert.rejects(runExperiment(exp.name, { overrides: { [key]: bad }, outDir, progress: 'none', backend: 'wasm' }),
          new RegExp(`^Error: --${key} must be an integer .*, got ${bad.replace('.', '\\.')}$`), `${exp.name} --${key} ${bad}`);
      }
      assert.equal(runs.get(exp.name), undefined, `${exp.name}: run() was called`);
      assert.ok(!fs.existsSync(outDir), `${exp.name}: nothing written`);
    }
    // The mechanism itself: a valid configuration does reach run().
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qnn-accepted-'));
    await runExperiment('mary-lenet-mnist', { overrides: { epochs: '1' }, outDir, progress: 'none', backend: 'wasm' });
    assert.equal(runs.get('mary-lenet-mnist'), 1);
  } finally {
    all.forEach((e, i) => (e.run = saved[i]));
    if (prevData === undefined) delete process.env.QNNLAB_DATA;
    else process.env.QNNLAB_DATA = prevData;
  }
});

test('issue 17: `mary-lenet-mnist --epochs -1` and a CIFAR run with --epochs 0 fail in the real code before any data loads', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qnn-nodata-'));
  const prevData = process.env.QNNLAB_DATA;
  process.env.QNNLAB_DATA = dataDir;
  try {
    const t0 = Date.now();
    await assert.rejects(runExperiment('mary-lenet-mnist', { overrides: { epochs: '-1' }, progress: 'none', outDir: path.join(dataDir, 'out') }), /^Error: --epochs must be an integer >= 1, got -1$/);
    // Without validation this run would stop at the missing CIFAR-10 files, with another message.
    await assert.rejects(runExperiment('zoo-resnet23-cifar10', { overrides: { epochs: '0' }, progress: 'none', outDir: path.join(dataDir, 'out') }), /^Error: --epochs must be an integer >= 1, got 0$/);
    assert.ok(Date.now() - t0 < 5000, `${Date.now() - t0} ms`);
    assert.ok(!fs.existsSync(path.join(dataDir, 'out')));
  } finally {
    if (prevData === undefined) delete process.env.QNNLAB_DATA;
    else process.env.QNNLAB_DATA = prevData;
  }
});
