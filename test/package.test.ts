/**
 * The installable package, end to end: `npm run build`, `npm pack`, `npm install <tarball>` into a fresh
 * project (dependencies from the npm cache when they are there: --prefer-offline), then qnnlab used from plain
 * JavaScript (CommonJS and ESM) and type-checked from TypeScript through its declarations.
 * Slow (build + install, about a minute or two): QNNLAB_SKIP_PACK_TEST=1 skips it.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');
const skip = process.env.QNNLAB_SKIP_PACK_TEST === '1' ? 'QNNLAB_SKIP_PACK_TEST=1' : false;

function run(cmd: string, args: string[], cwd: string, what: string): string {
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NODE_OPTIONS: '' } });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) {
    assert.fail(`${what} failed (exit ${r.status}, ${secs} s): ${cmd} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  }
  console.log(`${what}: ${secs} s`);
  return r.stdout;
}

test('npm pack -> npm install in a fresh project -> JavaScript and TypeScript consumers', { skip, timeout: 15 * 60_000 }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qnnlab-pack-'));
  try {
    run('npm', ['run', 'build'], ROOT, 'npm run build');
    assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'index.js')) && fs.existsSync(path.join(ROOT, 'dist', 'index.d.ts')));

    // prepack would build again: the build above is fresh.
    const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT, 'npm pack')) as
      Array<{ filename: string; files: Array<{ path: string }>; size: number; unpackedSize: number }>;
    const tarball = path.join(tmp, packed[0].filename);
    const files = packed[0].files.map((f) => f.path);
    for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'dist/export/pack.js', 'docs/packed-format.md']) {
      assert.ok(files.includes(f), `the tarball lacks ${f}`);
    }
    assert.deepEqual(files.filter((f) => /^(src|test|results|notebooks|scripts|data|build)\//.test(f)), [], 'only dist and docs ship');
    console.log(`tarball ${packed[0].filename}: ${files.length} files, ${(packed[0].size / 1024).toFixed(0)} KiB ` +
      `(${(packed[0].unpackedSize / 1024).toFixed(0)} KiB unpacked)`);

    const app = path.join(tmp, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'qnnlab-consumer', version: '1.0.0', private: true }));
    run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], app, 'npm install <tarball>');
    for (const devOnly of ['tslab', 'danfojs-node', 'nodeplotlib', 'tsx', 'zeromq']) {
      assert.ok(!fs.existsSync(path.join(app, 'node_modules', devOnly)), `${devOnly} should not be installed for a consumer`);
    }

    // Plain JavaScript, CommonJS: a quantized LeNet-5 (TWN), a forward pass, the packed round trip.
    const cjs = `
      const q = require('qnnlab');
      const { tf } = q;
      (async () => {
        const engine = await q.initEngine({ backend: 'wasm' });
        const model = q.buildModel('lenet5', { ...q.methodOptions('twn'), seed: 1 });
        const x = tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 3);
        const y = model.predict(x);
        const bytes = q.packModel(model);
        const again = q.unpackModel(bytes);
        const y2 = again.predict(x);
        const same = Buffer.compare(Buffer.from(y.dataSync().buffer), Buffer.from(y2.dataSync().buffer)) === 0;
        // The low-bit engine from the installed package (its wasm module ships in the tarball), on the same input.
        const net = q.compilePacked(bytes);
        const yl = net.predict(x.dataSync(), 2);
        const engineDiff = Math.max(...Array.from(y.dataSync(), (v, i) => Math.abs(v - yl[i])));
        console.log(JSON.stringify({ engineDiff, backend: engine.backend, shape: y.shape, finite: y.dataSync().every(Number.isFinite),
          packedBytes: bytes.length, same, namespaces: ['quantizers', 'layers', 'models', 'bayes', 'train', 'data', 'plots', 'engine', 'deploy'].filter((n) => typeof q[n] === 'object'),
          kiB: q.summary(model).modelSizeKiB }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const out = JSON.parse(run(process.execPath, ['-e', cjs], app, 'node -e (CommonJS consumer)').trim().split('\n').pop() as string);
    assert.equal(out.backend, 'wasm');
    assert.deepEqual(out.shape, [2, 10]);
    assert.equal(out.finite, true);
    assert.equal(out.same, true, 'the packed model gives the same logits');
    assert.ok(out.engineDiff < 1e-3, `the installed low-bit engine reproduces the logits: max difference ${out.engineDiff}`);
    assert.equal(out.namespaces.length, 9);
    assert.ok(out.packedBytes < 25_000, `packed TWN LeNet-5: ${out.packedBytes} bytes`);

    // ESM consumer: named imports through Node's CommonJS interop.
    const esm = `import { initEngine, buildModel, methodOptions, METHOD_NAMES, deploy } from 'qnnlab';
      await initEngine();
      const m = buildModel('lenet5', { ...methodOptions('binary-connect'), seed: 2 });
      console.log(JSON.stringify({ methods: METHOD_NAMES.length, params: m.countParams(), pack: typeof deploy.exportPacked }));`;
    const e = JSON.parse(run(process.execPath, ['--input-type=module', '-e', esm], app, 'node -e (ESM consumer)').trim().split('\n').pop() as string);
    assert.deepEqual(e, { methods: 14, params: 62650, pack: 'function' });

    // TypeScript consumer: the package's declarations type-check a small program, and catch a wrong call.
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022', module: 'commonjs', moduleResolution: 'node', strict: true, noEmit: true, esModuleInterop: true,
        skipLibCheck: true, types: [], lib: ['ES2022', 'DOM'],
      },
      files: ['main.ts'],
    };
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
    fs.writeFileSync(path.join(app, 'main.ts'), `
      import { tf, buildModel, methodOptions, initEngine, packModel, unpackModel, summary, quantizers, deploy, type ModelSummary } from 'qnnlab';
      export async function main(): Promise<number> {
        await initEngine({ backend: 'wasm' });
        const model: tf.LayersModel = buildModel('lenet5', { ...methodOptions('bwn'), seed: 1 });
        const bytes: Uint8Array = packModel(model, { strict: true });
        const again: tf.LayersModel = unpackModel(bytes);
        const s: ModelSummary = summary(again);
        const q: tf.Tensor = quantizers.binaryWeight(tf.ones([2, 2]));
        const info = deploy.inspectPacked(bytes);
        return s.modelSizeKiB + q.size + info.header.layers.length;
      }`);
    run(process.execPath, [tsc, '-p', '.'], app, 'tsc (TypeScript consumer)');
    fs.writeFileSync(path.join(app, 'main.ts'), `import { buildModel } from 'qnnlab';\nconst n: string = buildModel('lenet5').countParams();\n`);
    const bad = spawnSync(process.execPath, [tsc, '-p', '.'], { cwd: app, encoding: 'utf8' });
    assert.notEqual(bad.status, 0, 'a type error in the consumer is reported');
    assert.match(bad.stdout, /Type 'number' is not assignable to type 'string'/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
