/**
 * npm run data -- cifar10|cifar100 [--dir data] [--from archive] [--force]
 * npm run data -- mnist|fashion-mnist [--dir folder]
 * Gets the CIFAR archives (or unpacks a copied one) and checks that each dataset loads.
 */
import { Command } from 'commander';
import * as cliProgress from 'cli-progress';
// Not '../data': the index pulls in tfjs (batches), a second of startup this command does not need.
import { installCifar, type Progress } from '../data/download';
import type { CifarKind } from '../data/cifar';
import { loadDataset } from '../data/load';

/** A progress bar on a terminal; nothing in logs and pipes, where it would print thousands of lines. */
function progressBar(): { onProgress?: Progress; stop: () => void } {
  if (!process.stdout.isTTY) return { stop: () => undefined };
  const bar = new cliProgress.SingleBar({ format: '  {bar} {percentage}% | {mb} MB' }, cliProgress.Presets.shades_classic);
  let started = false;
  const onProgress: Progress = (received, total) => {
    const mb = (received / 1e6).toFixed(1);
    if (!started) bar.start(total ?? 0, 0, { mb });
    started = true;
    bar.update(total ? received : 0, { mb });
  };
  const stop = () => {
    if (started) bar.stop();
    started = false;
  };
  return { onProgress, stop };
}

async function cifar(kind: CifarKind, o: { dir?: string; from?: string; url?: string; md5?: string; force?: boolean }): Promise<void> {
  const bar = progressBar();
  try {
    const r = await installCifar({ kind, ...o, onProgress: bar.onProgress, log: (s) => console.log(s) });
    bar.stop();
    const what = { present: 'already present', unpacked: 'unpacked', downloaded: 'downloaded and unpacked' }[r.action];
    console.log(`${kind}: ${what} in ${r.folder}`);
    await check(kind, r.folder);
  } finally {
    bar.stop();
  }
}

/** Load the dataset once and print where it is and what it holds. */
async function check(name: string, dir?: string): Promise<void> {
  const t0 = Date.now();
  const ds = await loadDataset(name, { dir });
  console.log(`${ds.name}: ${ds.train.count} train + ${ds.test.count} test images, ${ds.height}x${ds.width}x${ds.channels}, ` +
    `${ds.numClasses} classes, from ${ds.source} (loaded in ${Date.now() - t0} ms)`);
  console.log(`  mean ${ds.mean.map((v) => v.toFixed(4)).join(', ')}  std ${ds.std.map((v) => v.toFixed(4)).join(', ')}`);
}

function main(): void {
  const program = new Command('data').description('Get and check the datasets (see data/README.md).');
  for (const kind of ['cifar10', 'cifar100'] as CifarKind[]) {
    program.command(kind)
      .description(`download ${kind} (binary version), verify its MD5 and unpack it; or verify and unpack a copied archive`)
      .option('--dir <folder>', 'parent folder of the unpacked dataset (default: the project data/ folder)')
      .option('--from <archive>', 'use this copy of the official .tar.gz instead of downloading')
      .option('--force', 'download and unpack even when the files are already there')
      .option('--url <url>', 'download from this URL instead (a mirror)')
      .option('--md5 <hex>', 'expected MD5 of the archive (with --url, for a mirror with a different archive)')
      .action((o) => cifar(kind, o));
  }
  for (const name of ['mnist', 'fashion-mnist']) {
    program.command(name)
      .description(`check that ${name} loads and print where it was found`)
      .option('--dir <folder>', 'folder holding the four IDX files')
      .action((o: { dir?: string }) => check(name, o.dir));
  }
  program.parseAsync(process.argv).catch((e: Error) => {
    console.error(`error: ${e.message}`);
    process.exitCode = 1;
  });
}

main();
