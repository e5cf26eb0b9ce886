/**
 * Fetch, verify and unpack the official CIFAR binary archives. Every failure says what failed and what
 * to do by hand, because the usual cause is a machine without network access.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as crypto from 'crypto';
import { spawn } from 'child_process';
import { CIFAR_LAYOUT, checkCifarFiles, type CifarKind } from './cifar';
import { dataRoot } from './paths';

export interface ArchiveSpec {
  url: string;
  md5: string;
  /** File name of the archive, as published. */
  name: string;
}

export const CIFAR_ARCHIVES: Record<CifarKind, ArchiveSpec> = {
  cifar10: {
    url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
    md5: 'c32a1d4ab5d03f1284b67883e8d87530',
    name: 'cifar-10-binary.tar.gz',
  },
  cifar100: {
    url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
    md5: '03b5dce01913d631647c71ecec9e9cb8',
    name: 'cifar-100-binary.tar.gz',
  },
};

export type Progress = (received: number, total: number | null) => void;

/** MD5 of a file, streamed (the archives are 160 MB). */
export function md5File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = crypto.createHash('md5');
    fs.createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** The network-level reason inside fetch's generic "fetch failed", in words. */
function describeFetchError(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'AbortError' || err.name === 'TimeoutError') return 'no data received for too long (timed out)';
  const code = err.cause?.code ?? '';
  const words: Record<string, string> = {
    ENOTFOUND: 'DNS lookup failed (host not found)',
    EAI_AGAIN: 'DNS lookup failed (temporary failure in name resolution)',
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ENETUNREACH: 'network unreachable',
    EHOSTUNREACH: 'host unreachable',
    ETIMEDOUT: 'connection timed out',
    UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  };
  const detail = err.cause?.message ?? err.message;
  return words[code] ? `${words[code]}: ${detail}` : detail;
}

/**
 * Stream `url` into `dest`. An abort timer, reset on every chunk, catches both a dead connection and a
 * stalled transfer without capping the total time of a slow but live download.
 */
export async function fetchToFile(url: string, dest: string, onProgress?: Progress, stallMs = 60_000): Promise<void> {
  const ctl = new AbortController();
  let timer = setTimeout(() => ctl.abort(), stallMs);
  const poke = () => {
    clearTimeout(timer);
    timer = setTimeout(() => ctl.abort(), stallMs);
  };
  const out = await fs.promises.open(dest, 'w');
  try {
    const res = await fetch(url, { signal: ctl.signal });
    if (!res.ok || !res.body) throw new Error(`the server answered ${res.status} ${res.statusText}`);
    const total = Number(res.headers.get('content-length')) || null;
    const reader = res.body.getReader();
    let received = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      poke();
      await out.write(value);
      received += value.length;
      onProgress?.(received, total);
    }
    if (total !== null && received !== total) throw new Error(`connection closed after ${received} of ${total} bytes`);
  } catch (e) {
    throw new Error(describeFetchError(e));
  } finally {
    clearTimeout(timer);
    await out.close();
  }
}

/** Unpack a .tar.gz into `dir` with the system tar (it handles the format; Node has no built-in reader). */
export function untar(archive: string, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', ['-xzf', archive, '-C', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('error', (e) => {
      reject(new Error(`cannot run the system \`tar\` (${e.message}); install tar, or unpack ${archive} by hand into ${dir}.`));
    });
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`tar -xzf ${archive} failed (exit ${code}): ${stderr.trim()}`));
    });
  });
}

export interface InstallOptions {
  kind: CifarKind;
  /** Parent folder; the archive unpacks into <dir>/cifar-10-batches-bin or <dir>/cifar-100-binary. Default data/. */
  dir?: string;
  /** An archive the user copied here: verify and unpack it instead of downloading. */
  from?: string;
  /** Override the URL or checksum (mirrors, tests). */
  url?: string;
  md5?: string;
  /** Download and unpack even when valid files are already there. */
  force?: boolean;
  onProgress?: Progress;
  log?: (line: string) => void;
  stallMs?: number;
}

export interface InstallResult {
  /** Folder holding the data files. */
  folder: string;
  /** What happened: files already there, unpacked a given archive, or downloaded. */
  action: 'present' | 'unpacked' | 'downloaded';
}

/** What to do by hand, for the error messages. */
function manualSteps(opts: InstallOptions, parent: string): string {
  const l = CIFAR_LAYOUT[opts.kind];
  const spec = CIFAR_ARCHIVES[opts.kind]; // the official archive, even when a mirror failed
  return 'To install by hand:\n' +
    `  1. On a machine with network access, download ${spec.url} (MD5 ${spec.md5}).\n` +
    `  2. Copy it to this machine and run: npm run data -- ${opts.kind} --from <path/to/${spec.name}>\n` +
    `     or unpack it yourself and copy ${[...l.train, ...l.test].join(', ')} into ${path.join(parent, l.folder)}/`;
}

function filesPresent(folder: string, kind: CifarKind): boolean {
  const l = CIFAR_LAYOUT[kind];
  try {
    checkCifarFiles(folder, kind, [...l.train, ...l.test]);
    return true;
  } catch {
    return false;
  }
}

/** Download to `<archive>.part`, check the MD5, then rename: a half-downloaded file never looks complete. */
async function download(opts: InstallOptions, spec: ArchiveSpec, parent: string, archive: string): Promise<void> {
  const part = archive + '.part';
  const log = opts.log ?? (() => undefined);
  log(`Downloading ${spec.url}`);
  try {
    await fetchToFile(spec.url, part, opts.onProgress, opts.stallMs);
  } catch (e) {
    fs.rmSync(part, { force: true });
    throw new Error(`Download failed: ${spec.url}: ${(e as Error).message}.\n` +
      `This machine may have no network access (or a firewall or proxy blocks it).\n${manualSteps(opts, parent)}`);
  }
  const sum = await md5File(part);
  if (sum !== spec.md5) {
    fs.rmSync(part, { force: true });
    throw new Error(`Checksum mismatch for ${spec.url}: MD5 ${sum}, expected ${spec.md5}. The download is corrupt or was ` +
      `altered on the way; the file ${part} was deleted. Run the command again, or:\n${manualSteps(opts, parent)}`);
  }
  fs.renameSync(part, archive);
}

/** Make `<dir>/<official folder>` hold valid data files: reuse, unpack a given archive, or download one. */
export async function installCifar(opts: InstallOptions): Promise<InstallResult> {
  const l = CIFAR_LAYOUT[opts.kind];
  if (!l) throw new Error(`installCifar: kind must be 'cifar10' or 'cifar100', got '${String(opts.kind)}'`);
  const official = CIFAR_ARCHIVES[opts.kind];
  const spec: ArchiveSpec = { ...official, url: opts.url || official.url, md5: (opts.md5 || official.md5).toLowerCase() };
  const parent = path.resolve(opts.dir ?? dataRoot());
  const folder = path.join(parent, l.folder);
  const log = opts.log ?? (() => undefined);
  if (!opts.force && filesPresent(folder, opts.kind)) return { folder, action: 'present' };
  fs.mkdirSync(parent, { recursive: true });

  let archive: string;
  if (opts.from) {
    archive = path.resolve(opts.from);
    if (!fs.existsSync(archive)) throw new Error(`${archive}: file not found (given with --from).`);
    const sum = await md5File(archive);
    // The user's own copy is never deleted: say what is wrong and let them decide.
    if (sum !== spec.md5) {
      throw new Error(`${archive}: MD5 ${sum}, expected ${spec.md5} for ${spec.name}: the copy is incomplete or is not the ` +
        `official binary archive (the python and matlab versions differ). The file was left in place.`);
    }
  } else {
    archive = path.join(parent, spec.name);
    await download(opts, spec, parent, archive);
  }
  log(`MD5 ok (${spec.md5}); unpacking into ${parent}`);
  await untar(archive, parent);
  try {
    checkCifarFiles(folder, opts.kind, [...l.train, ...l.test]);
  } catch (e) {
    throw new Error(`${archive} unpacked, but the data files are not right: ${(e as Error).message}`);
  }
  // The archive is 160 MB and the unpacked files are verified: drop our own download, never the user's copy.
  if (!opts.from) fs.rmSync(archive, { force: true });
  return { folder, action: opts.from ? 'unpacked' : 'downloaded' };
}
