/**
 * Fault injection for checkpoint/resume (issue 17), shared by test/train-killresume.test.ts and
 * scripts/kill-resume-soak.ts: run an experiment as a child process, SIGKILL it at seeded random moments (some
 * while it writes a checkpoint, held there by QNNLAB_TEST_PAUSE_IN_CHECKPOINT_WRITE), rerun it without --fresh
 * until it completes, and compare everything it wrote with an uninterrupted run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../src/util/random';

export const REPO = path.resolve(__dirname, '..');

export interface Scenario {
  name: string;
  /** Arguments of src/cli/experiment.ts, without --out and --fresh. */
  args: string[];
  /** Environment of the runs that are killed (not of the uninterrupted reference), e.g. mid-epoch checkpoints. */
  env?: Record<string, string>;
}

/**
 * Small runs of the two kinds of experiment: the float LeNet-5 (Adam; 10 batches per epoch) and a Bayesian M = 3
 * LeNet-5 after its float net (6 batches per epoch). The killed runs also checkpoint every 4 steps, inside epochs.
 */
export const SCENARIOS: Scenario[] = [
  {
    name: 'lenet-mnist', args: ['lenet-mnist', '--epochs', '3', '--milestones', '2', '--limitTrain', '1500', '--limitTest', '300', '--validation', '300'],
    env: { QNNLAB_CHECKPOINT_EVERY_STEPS: '4' },
  },
  {
    name: 'mary-lenet-mnist', args: ['mary-lenet-mnist', '--smoke', '--Ms', '3', '--priors', 'spikeslab', '--fp', 'false', '--epochs', '3'],
    env: { QNNLAB_CHECKPOINT_EVERY_STEPS: '4' },
  },
];

/** The soak script adds the paper recipe (KL warm-up over epochs, level learning rate 0.01), as the long runs use. */
export const SOAK_SCENARIOS: Scenario[] = [
  ...SCENARIOS,
  {
    name: 'mary-lenet-mnist-paper', args: ['mary-lenet-mnist', '--recipe', 'paper', '--smoke', '--Ms', '3', '--priors', 'spikeslab', '--fp', 'false', '--epochs', '3'],
    env: { QNNLAB_CHECKPOINT_EVERY_STEPS: '4' },
  },
];

export type KillKind = 'random' | 'inWrite';

export interface KillOutcome {
  kind: KillKind;
  /** The child was killed (false: it completed first). */
  killed: boolean;
  /** A checkpoint.tmp-<pid> folder of the child existed when it was killed: the kill landed inside a checkpoint write. */
  inCheckpointWrite: boolean;
  ms: number;
  /** The checkpoints the kill left (checkpointsOnDisk). */
  onDisk?: string;
}

interface Child {
  proc: ChildProcess;
  exited: Promise<number | null>;
  firstOutput: Promise<void>;
  output: () => string;
}

function start(args: string[], outDir: string, env: Record<string, string>): Child {
  // node --import tsx, not `npx tsx`: the tsx command runs the script in a grandchild that a SIGKILL would orphan.
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/experiment.ts', ...args, '--out', outDir], {
    cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let first: () => void = () => {};
  const firstOutput = new Promise<void>((resolve) => (first = resolve));
  const onData = (d: Buffer) => {
    out += d.toString();
    first();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => {
    first();
    resolve(code);
  }));
  return { proc, exited, firstOutput, output: () => out };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tempFoldersOf(outDir: string, pid: number): string[] {
  const root = path.join(outDir, 'checkpoints');
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root)
    .map((v) => path.join(root, v, `checkpoint.tmp-${pid}`))
    .filter((f) => fs.existsSync(f));
}

/** Run to completion; throws with the child's output when it fails. Returns the milliseconds from first output to exit. */
export async function runToCompletion(scenario: Scenario, outDir: string, fresh: boolean, env: Record<string, string> = {}): Promise<number> {
  const c = start([...scenario.args, ...(fresh ? ['--fresh'] : [])], outDir, env);
  await c.firstOutput;
  const t0 = Date.now();
  const code = await c.exited;
  if (code !== 0) throw new Error(`${scenario.name} into ${outDir} exited with ${code}:\n${c.output()}`);
  return Date.now() - t0;
}

/**
 * Start the experiment (resuming unless fresh) and SIGKILL it: 'random' at `delayMs` after its first output,
 * 'inWrite' `delayMs` after one of its checkpoint.tmp-<pid> folders appears.
 */
export async function runAndKill(
  scenario: Scenario, outDir: string, fresh: boolean, kind: KillKind, delayMs: number, pauseMs: number,
): Promise<KillOutcome> {
  const c = start([...scenario.args, ...(fresh ? ['--fresh'] : [])], outDir, { ...scenario.env, QNNLAB_TEST_PAUSE_IN_CHECKPOINT_WRITE: String(pauseMs) });
  let done = false;
  let code: number | null = null;
  c.exited.then((x) => {
    done = true;
    code = x;
  });
  await c.firstOutput;
  const t0 = Date.now();
  if (kind === 'inWrite') {
    while (!done && tempFoldersOf(outDir, c.proc.pid!).length === 0) await sleep(10);
  }
  if (!done) await Promise.race([sleep(delayMs), c.exited]);
  let inCheckpointWrite = false;
  const killed = !done;
  if (killed) {
    inCheckpointWrite = tempFoldersOf(outDir, c.proc.pid!).length > 0;
    c.proc.kill('SIGKILL');
  }
  await c.exited;
  if (!killed && code !== 0) throw new Error(`${scenario.name} into ${outDir} exited with ${code} before the kill:\n${c.output()}`);
  return { kind, killed, inCheckpointWrite, ms: Date.now() - t0 };
}

/**
 * Kill the experiment at up to `kills` seeded random moments (alternating random and in-write kills), resuming after
 * each, then let it complete. Random kills come within 0.8 `spanMs` (an uninterrupted run's length) of the start;
 * the chain stops early when the run completes before its kill.
 */
export async function killResumeChain(
  scenario: Scenario, outDir: string, opts: { kills: number; seed: number; spanMs: number; pauseMs?: number; log?: (m: string) => void },
): Promise<KillOutcome[]> {
  const rng = new Rng(opts.seed);
  const pauseMs = opts.pauseMs ?? 200;
  const outcomes: KillOutcome[] = [];
  fs.rmSync(outDir, { recursive: true, force: true });
  for (let i = 0; i < opts.kills; i++) {
    const kind: KillKind = i % 2 === 0 ? 'random' : 'inWrite';
    // In a write the writer pauses four times (mid tensors.bin, after it, after state.json, between the renames).
    const delay = kind === 'random' ? Math.floor(rng.next() * 0.8 * opts.spanMs) : Math.floor(rng.next() * 4 * pauseMs);
    const o = await runAndKill(scenario, outDir, i === 0, kind, delay, pauseMs);
    o.onDisk = checkpointsOnDisk(outDir);
    outcomes.push(o);
    opts.log?.(`${scenario.name} kill ${i + 1}/${opts.kills}: ${kind} +${delay} ms: ` +
      `${o.killed ? `killed${o.inCheckpointWrite ? ' inside a checkpoint write' : ''}` : 'completed first'}; on disk: ${o.onDisk}`);
    if (!o.killed) break;
  }
  await runToCompletion(scenario, outDir, outcomes.length === 0, scenario.env);
  return outcomes;
}

/** What a resume would start from, per variant: 'fp 2' (after epoch 2), 'M3-spikeslab 1+4' (4 batches into epoch 2). */
export function checkpointsOnDisk(outDir: string): string {
  const root = path.join(outDir, 'checkpoints');
  if (!fs.existsSync(root)) return 'nothing';
  return fs.readdirSync(root).sort().map((v) => {
    for (const f of ['checkpoint', 'checkpoint.prev']) {
      try {
        const m = JSON.parse(fs.readFileSync(path.join(root, v, f, 'state.json'), 'utf8'));
        return `${v} ${m.epoch}${m.partialEpoch ? `+${m.partialEpoch.batches}` : ''}${f === 'checkpoint' ? '' : ' (prev)'}`;
      } catch {
        // missing or damaged: the loader falls back as well
      }
    }
    return `${v} none`;
  }).join(', ');
}

function metricsWithoutSeconds(outDir: string): string[][] {
  const rows = fs.readFileSync(path.join(outDir, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  const drop = rows[0].indexOf('seconds');
  return rows.map((r) => r.filter((_, i) => i !== drop));
}

/** Differences between two runs' outputs: metrics.csv (less seconds), summary.json's variants, final checkpoints. */
export function compareRuns(a: string, b: string): string[] {
  const diffs: string[] = [];
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  if (!same(metricsWithoutSeconds(a), metricsWithoutSeconds(b))) diffs.push('metrics.csv differs');
  const variants = (d: string) => JSON.parse(fs.readFileSync(path.join(d, 'summary.json'), 'utf8')).variants;
  if (!same(variants(a), variants(b))) diffs.push('summary.json variants differ');
  const va = fs.readdirSync(path.join(a, 'checkpoints')).sort();
  const vb = fs.readdirSync(path.join(b, 'checkpoints')).sort();
  if (!same(va, vb)) diffs.push(`checkpoint folders differ: ${va} vs ${vb}`);
  for (const v of va.filter((x) => vb.includes(x))) {
    const file = (d: string, f: string) => path.join(d, 'checkpoints', v, 'checkpoint', f);
    if (!fs.readFileSync(file(a, 'tensors.bin')).equals(fs.readFileSync(file(b, 'tensors.bin')))) diffs.push(`${v}: final weights (tensors.bin) differ`);
    const state = (d: string) => {
      const { savedAt, stateSha256, history, ...rest } = JSON.parse(fs.readFileSync(file(d, 'state.json'), 'utf8'));
      return { ...rest, history: (history as Record<string, unknown>[]).map(({ seconds, ...r }) => r) };
    };
    if (!same(state(a), state(b))) diffs.push(`${v}: checkpoint state differs`);
  }
  return diffs;
}
