/** Where a result came from: command, commit, backend, machine — written next to every result. */
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

export function provenance(engine: EngineInfo | null) {
  const dirty = git('status --porcelain --untracked-files=no -- src');
  return {
    command: ['npm run experiment --', ...process.argv.slice(2)].join(' '),
    argv: process.argv.slice(1),
    commit: git('rev-parse HEAD'),
    srcDirty: dirty == null ? null : dirty.length > 0,
    backend: engine?.backend ?? null,
    backendProvider: engine?.provider ?? null,
    tfjs: engine?.tfjsVersion ?? null,
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    date: new Date().toISOString(),
  };
}
