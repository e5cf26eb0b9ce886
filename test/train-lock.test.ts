/** One training process per checkpoint folder (lockCheckpointDir, taken by fit). */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lockCheckpointDir } from '../src/train';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'qnn-lock-'));

test('a folder locked by a live process is refused with its pid; released, it can be locked again', async () => {
  const dir = tmp();
  // Another live process owns the lock.
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  try {
    fs.writeFileSync(path.join(dir, 'lock'), String(other.pid));
    assert.throws(() => lockCheckpointDir(dir), new RegExp(`is in use: process ${other.pid} is training into it`));
  } finally {
    other.kill('SIGKILL');
    await new Promise((r) => other.on('exit', r));
  }
  // Its process is gone: the stale lock is taken over, and released again.
  const release = lockCheckpointDir(dir);
  assert.equal(fs.readFileSync(path.join(dir, 'lock'), 'utf8'), String(process.pid));
  release();
  assert.equal(fs.existsSync(path.join(dir, 'lock')), false);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a lock left by a killed process does not block the next run', () => {
  const dir = tmp();
  const r = spawnSync(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(path.join(dir, 'lock'))}, String(process.pid))`]);
  assert.equal(r.status, 0);
  const release = lockCheckpointDir(dir);
  release();
  fs.rmSync(dir, { recursive: true, force: true });
});
