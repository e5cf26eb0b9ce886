/**
 * Fault injection (issue 17): experiments run as child processes are killed with SIGKILL at seeded random
 * moments, several of them while a checkpoint is being written (QNNLAB_TEST_PAUSE_IN_CHECKPOINT_WRITE holds the
 * writer between its writes and renames), and rerun without --fresh until they complete. The killed runs also
 * checkpoint every 4 steps (QNNLAB_CHECKPOINT_EVERY_STEPS), so some resume inside an epoch. Their metrics.csv, summary
 * and final weights must equal an uninterrupted run's exactly. scripts/kill-resume-soak.ts runs 50 kill points.
 * 1.5-3 minutes on the 2-core machine, depending on its load.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SCENARIOS, compareRuns, killResumeChain, runToCompletion, type KillOutcome } from './killResumeHarness';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'qnn-killresume-'));
const outcomes: KillOutcome[] = [];
const KILLS: Record<string, number> = { 'lenet-mnist': 4, 'mary-lenet-mnist': 4 };
const SEED = Number(process.env.QNNLAB_KILL_SEED ?? 17);

for (const [i, scenario] of SCENARIOS.entries()) {
  test(`${scenario.name}: killed with SIGKILL ${KILLS[scenario.name]} times and resumed, it ends equal to an uninterrupted run`, async () => {
    const ref = path.join(root, `${scenario.name}-uninterrupted`);
    const span = await runToCompletion(scenario, ref, true);
    const out = path.join(root, `${scenario.name}-killed`);
    const o = await killResumeChain(scenario, out, { kills: KILLS[scenario.name], seed: SEED + i, spanMs: span, log: (m) => console.log(m) });
    outcomes.push(...o);
    assert.deepEqual(compareRuns(ref, out), []);
  });
}

test('the kills landed: at least 5 processes killed, 2 inside a checkpoint write, 1 leaving a mid-epoch checkpoint', () => {
  const killed = outcomes.filter((o) => o.killed);
  assert.ok(killed.length >= 5, `${killed.length} of ${outcomes.length} kills landed`);
  assert.ok(killed.filter((o) => o.inCheckpointWrite).length >= 2, JSON.stringify(outcomes));
  assert.ok(killed.some((o) => /\+\d/.test(o.onDisk ?? '')), JSON.stringify(outcomes));
  fs.rmSync(root, { recursive: true, force: true });
});
