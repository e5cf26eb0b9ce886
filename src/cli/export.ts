/**
 * npm run export -- <results dir> <variant> [--out FILE] [--sigma-bits N] [--check-images N] [--no-evaluate] [--backend B]
 * npm run export -- <results dir> --all
 *
 * Rebuilds a trained variant of a finished run from its run.json configuration and its checkpoint, writes the
 * packed model (default <results dir>/models/<variant>.qnnp) after checking that the file reproduces the
 * checkpoint model's logits bit for bit, and records it in <results dir>/models.json. See
 * docs/demo-and-export.md and src/experiments/exportRun.ts.
 */
import * as path from 'node:path';
import { Command } from 'commander';
import { initEngine } from '../engine';
import { exportAll, exportVariant, exportableVariants, readRunInfo, updateModelsJson, type ExportOptions } from '../experiments/exportRun';

async function main(): Promise<void> {
  const program = new Command('export')
    .description('Pack the trained model of a variant of a finished run (from run.json and its checkpoint) into a .qnnp file.')
    .argument('<dir>', 'results folder of the run (holds run.json and checkpoints/)')
    .argument('[variant]', 'variant name (e.g. M3-spikeslab, twn, fp); omit with --all')
    .option('--all', 'export every variant that has a checkpoint and write <dir>/models.json')
    .option('--out <file>', 'output file (default <dir>/models/<variant>.qnnp; models.json is then left alone)')
    .option('--sigma-bits <n>', 'Bayesian models: bits of the stored posterior σ (ln σ), 2-16, 32 = float32, 0 = none', '8')
    .option('--check-images <n>', 'test images on which the file must reproduce the logits bit for bit', '16')
    .option('--no-evaluate', 'skip the test-set accuracy of the rebuilt model')
    .option('--backend <name>', 'force a backend: tensorflow, wasm or cpu (default: best available)')
    .showHelpAfterError();
  program.parse(process.argv);
  const [dir, variant] = program.args;
  const o = program.opts();
  const num = (v: string, name: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} expects a non-negative integer, got '${v}'`);
    return n;
  };
  const opts: ExportOptions = {
    sigmaBits: num(o.sigmaBits, 'sigma-bits'), checkImages: Math.max(1, num(o.checkImages, 'check-images')), evaluate: o.evaluate !== false,
  };
  if (o.all && variant) throw new Error('give a variant or --all, not both');
  if (o.all && o.out) throw new Error('--out names one file; with --all every variant goes to <dir>/models/');
  const info = readRunInfo(dir); // fails fast on a missing run.json or configuration
  if (!o.all && !variant) {
    const have = exportableVariants(info);
    throw new Error(`give a variant or --all; variants with a checkpoint in ${dir}: ${have.length ? have.join(', ') : 'none'}`);
  }
  await initEngine({ backend: o.backend, verbose: false });
  if (o.all) {
    const { models, modelsJson } = await exportAll(info.dir, opts);
    console.log(`\n${models.length} model(s) exported; sizes in ${path.relative(process.cwd(), modelsJson)}`);
    return;
  }
  const m = await exportVariant(info, variant, { ...opts, out: o.out });
  if (!o.out) console.log(`sizes in ${path.relative(process.cwd(), updateModelsJson(info, [m]))}`);
}

main().then(
  () => process.exit(0), // the wasm worker pool must not keep the process alive
  (e: Error) => {
    console.error(`\nerror: ${e.message}`);
    if (process.env.QNNLAB_DEBUG) console.error(e.stack);
    process.exit(1);
  },
);
