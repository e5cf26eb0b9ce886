/** Where a result came from: command, commit, backend, machine — written next to every result. */
import * as path from 'node:path';
import { execSync } from 'node:child_process';
import * as os from 'node:os';
import type { EngineInfo } from '../engine';

function git(cmd: string): string | null {
  try {
    return execSync(`git ${cmd}`, { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return null;
  }
}

/** How the run was started: the CLI's own command line, or a call from a notebook or script. */
function commandOf(experiment: string, overrides: Record<string, string>, smoke: boolean): string {
  if (/experiment\.ts$/.test(process.argv[1] ?? '')) return ['npm run experiment --', ...process.argv.slice(2)].join(' ');
  const opts = Object.entries(overrides).map(([k, v]) => `--${k} ${v}`);
  return [`runExperiment('${experiment}')${smoke ? ' --smoke' : ''}`, ...opts, `(from ${process.argv[1] ? path.relative(process.cwd(), process.argv[1]) : 'node'})`].join(' ');
}

export function provenance(engine: EngineInfo | null, experiment = '', overrides: Record<string, string> = {}, smoke = false) {
  const dirty = git('status --porcelain --untracked-files=no -- src');
  return {
    command: commandOf(experiment, overrides, smoke),
    // Paths inside the repository are recorded relative to it: a run.json names no build machine's folders.
    argv: process.argv.slice(1).map((a) => (path.isAbsolute(a) && !path.relative(process.cwd(), a).startsWith('..') ? path.relative(process.cwd(), a) : a)),
    commit: git('rev-parse HEAD'),
    srcDirty: dirty == null ? null : dirty.length > 0,
    backend: engine?.backend ?? null,
    backendProvider: engine?.provider ?? null,
    tfjs: engine?.tfjsVersion ?? null,
    wasmThreads: engine?.wasmThreads ?? null,
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    date: new Date().toISOString(),
  };
}
