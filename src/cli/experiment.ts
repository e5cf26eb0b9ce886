/**
 * npm run experiment -- <name> [--smoke] [--live] [--fresh] [--out DIR] [--backend B] [--<config key> VALUE ...]
 * Every option is checked (range, integer-ness, known names) before the engine starts or any data loads;
 * --show-options lists each option with its value and what it accepts.
 */
import { Command } from 'commander';
import { experiments } from '../experiments/registry';
import { getExperiment, runExperiment, resolveConfig } from '../experiments/run';
import { parseOverrideTokens } from '../experiments/config';
import { describeOptions } from '../experiments/validate';

async function main(): Promise<void> {
  const program = new Command('experiment')
    .description('Train a paper experiment and write metrics.csv, summary.json, run.json and figures.')
    .argument('[name]', 'experiment name (see --list)')
    .option('--list', 'list the experiments with their default configurations')
    .option('--smoke', 'CI size: same code path, a few minutes on CPU; writes to build/smoke/<name>')
    .option('--live', 'open a nodeplotlib page with the training curves while they update')
    .option('--fresh', 'ignore existing checkpoints and train from scratch')
    .option('--out <dir>', 'output folder (default results/<name>)')
    .option('--backend <name>', 'force a backend: tensorflow, wasm or cpu (default: best available)')
    .option('--show-config', 'print the resolved configuration and exit')
    .option('--show-options', 'list every option with its resolved value and the values it accepts, and exit')
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .helpOption('-h, --help');
  const { operands, unknown } = program.parseOptions(process.argv.slice(2));
  const opts = program.opts();
  if (unknown.includes('-h') || unknown.includes('--help')) {
    program.outputHelp();
    return;
  }
  if (opts.list || operands.length === 0) {
    for (const e of experiments) console.log(`${e.name}\n  ${e.description}\n  defaults: ${JSON.stringify(e.defaults)}\n`);
    if (!opts.list) console.log('Usage: npm run experiment -- <name> [--smoke] [--live] [--<option> value ...]');
    return;
  }
  const name = operands[0];
  if (operands.length > 1) throw new Error(`Unexpected arguments: ${operands.slice(1).join(' ')}`);
  const overrides = parseOverrideTokens(unknown);
  if (opts.showOptions) {
    const exp = getExperiment(name);
    for (const line of describeOptions(exp, resolveConfig(exp, { overrides, smoke: opts.smoke, validate: false }))) console.log(line);
    return;
  }
  if (opts.showConfig) {
    console.log(JSON.stringify(resolveConfig(getExperiment(name), { overrides, smoke: opts.smoke }), null, 2));
    return;
  }
  const result = await runExperiment(name, {
    overrides, smoke: !!opts.smoke, live: !!opts.live, fresh: !!opts.fresh, outDir: opts.out, backend: opts.backend,
  });
  console.log(`\nResults in ${result.outDir}:`);
  for (const v of result.variants) console.log(`  ${v.name}: test accuracy ${(v.testAccuracy * 100).toFixed(2)}%`);
}

main().then(
  () => process.exit(0), // the live view's server and the wasm worker pool must not keep the process alive
  (e: Error) => {
    console.error(`\nerror: ${e.message}`);
    if (process.env.QNNLAB_DEBUG) console.error(e.stack);
    process.exit(1);
  },
);
