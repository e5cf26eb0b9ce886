/**
 * Kill/resume soak test (issue 17): SIGKILL small experiments at many seeded random moments, half of them while a
 * checkpoint is being written, resume each time, and check every run ends equal to an uninterrupted one
 * (metrics.csv less its seconds column, summary.json's variants, the final checkpoints' weights and state).
 * test/train-killresume.test.ts runs 8 kill points of the same harness; this one goes on until 50 kills (by default)
 * have hit a running process.
 *
 *   npx tsx scripts/kill-resume-soak.ts [--kills 50] [--perChain 5] [--seed 1] [--out build/kill-resume-soak]
 *                                       [--scenario lenet-mnist|mary-lenet-mnist|mary-lenet-mnist-paper]
 *
 * Chains of up to --perChain kills rotate through the scenarios (the float LeNet-5; the Bayesian M = 3 LeNet-5 after
 * its float net; the same with the paper recipe), the killed runs checkpointing inside epochs too; each chain is
 * compared with its scenario's uninterrupted run. 50 kills took 16 minutes on the 2-core machine (every kill
 * starts a new process). Exits 1 when any run differs. Outputs of chains that differ are kept under --out.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SOAK_SCENARIOS as SCENARIOS, compareRuns, killResumeChain, runToCompletion, type KillOutcome } from '../test/killResumeHarness';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] != null ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const kills = Number(option('kills', '50'));
  const perChain = Number(option('perChain', '5'));
  const seed = Number(option('seed', '1'));
  const out = path.resolve(option('out', path.join('build', 'kill-resume-soak')));
  const only = option('scenario', '');
  const scenarios = SCENARIOS.filter((s) => !only || s.name === only);
  if (scenarios.length === 0) throw new Error(`--scenario must be one of ${SCENARIOS.map((s) => s.name).join(', ')}`);
  if (!(kills >= 1 && perChain >= 1)) throw new Error('--kills and --perChain must be >= 1');
  fs.mkdirSync(out, { recursive: true });
  const started = Date.now();

  const span: Record<string, number> = {};
  for (const s of scenarios) {
    span[s.name] = await runToCompletion(s, path.join(out, `${s.name}-uninterrupted`), true);
    console.log(`${s.name}: uninterrupted run ${(span[s.name] / 1000).toFixed(1)} s`);
  }
  const all: KillOutcome[] = [];
  const failures: string[] = [];
  let chain = 0;
  // Kill points count when they kill a running process; a chain ends early when its run completes before a kill.
  for (let landed = 0; landed < kills && chain < 4 * kills; chain++) {
    const s = scenarios[chain % scenarios.length];
    const dir = path.join(out, `${s.name}-chain${chain + 1}`);
    const o = await killResumeChain(s, dir, {
      kills: Math.min(perChain, kills - landed), seed: seed * 1000 + chain, spanMs: span[s.name], log: (m) => console.log(`chain ${chain + 1}: ${m}`),
    });
    landed += o.filter((x) => x.killed).length;
    all.push(...o);
    const diffs = compareRuns(path.join(out, `${s.name}-uninterrupted`), dir);
    console.log(`chain ${chain + 1} (${s.name}): ${diffs.length === 0 ? 'equal to the uninterrupted run' : `DIFFERS: ${diffs.join('; ')}`}`);
    if (diffs.length > 0) failures.push(`${dir}: ${diffs.join('; ')}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
  const killed = all.filter((o) => o.killed);
  console.log(`\n${killed.length} kill points killed a running process, ` +
    `${killed.filter((o) => o.inCheckpointWrite).length} of them inside a checkpoint write, ` +
    `${killed.filter((o) => /\+\d/.test(o.onDisk ?? '')).length} leaving a mid-epoch checkpoint; ${all.length - killed.length} found the run completed; ` +
    `${chain} chains, ${failures.length} differ from the uninterrupted run; ${((Date.now() - started) / 60000).toFixed(1)} min.`);
  if (failures.length > 0) {
    console.error(`\nFAILED (outputs kept):\n${failures.join('\n')}`);
    process.exit(1);
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
