/**
 * npm run demo -- [--port N] [--models DIR ...] [--no-build] [--screenshot FILE]
 *
 * Builds the demo page (esbuild) and serves it on 127.0.0.1 with the packed models of results/<run>/models/
 * (or of the --models folders). With --screenshot, opens the page in headless Chromium, clicks three test digits,
 * draws a 7, saves a screenshot and exits. See docs/demo-and-export.md.
 */
import * as path from 'node:path';
import { Command } from 'commander';
import { DEFAULT_DEMO_PORT, startDemo } from '../demo/server';

async function main(): Promise<void> {
  const program = new Command('demo')
    .description('Serve the qnnlab demo page (packed models classifying MNIST digits in the browser) on 127.0.0.1.')
    .option('--port <n>', `port (0 = any free port)`, String(DEFAULT_DEMO_PORT))
    .option('--models <dir>', 'folder with .qnnp files (repeatable; default: every results/<run>/models/)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--no-build', 'serve the page built before (build/demo/) without rebuilding it')
    .option('--screenshot <file>', 'open the page in headless Chromium, use it, save a PNG and exit')
    .showHelpAfterError();
  program.parse(process.argv);
  const o = program.opts();
  const port = Number(o.port);
  if (!(Number.isInteger(port) && port >= 0 && port < 65536)) throw new Error(`--port expects a port number, got '${o.port}'`);
  const demo = await startDemo({ port: o.screenshot && o.port === String(DEFAULT_DEMO_PORT) ? 0 : port, modelDirs: o.models.length ? o.models : undefined, build: o.build });
  const m = demo.manifest();
  const where = m.searched.length ? m.searched.join(', ') : 'results/*/models/ (none yet)';
  console.log(`qnnlab demo: ${demo.url}  (${m.models.length} packed model(s) from ${where}` +
    `${demo.build ? `; page ${(demo.build.bundleBytes / 1024).toFixed(0)} KiB, ${demo.build.sampleCount} MNIST test digits` : ''})`);
  for (const s of m.skipped) console.log(`  skipped ${s.file}: ${s.error}`);
  if (m.models.length === 0) console.log('  no models: export some with `npm run export -- <results dir> <variant>`, or pass --models DIR');
  if (o.screenshot) {
    const { driveDemo } = await import('../demo/drive');
    try {
      const r = await driveDemo(demo.url, { screenshot: o.screenshot, viewport: { width: 1280, height: 1000 } });
      for (const res of r.results) {
        const what = res.input.source === 'test' ? `test #${res.input.testIndex} (label ${res.input.label})` : 'drawn 7';
        console.log(`  ${what}: ${res.predictions.map((p) => `${p.label} -> ${p.predicted}${p.mc ? ` (MC ${p.mc.predicted}, H ${p.mc.entropy.toFixed(3)})` : ''}`).join(', ')}`);
      }
      console.log(`screenshot: ${path.relative(process.cwd(), path.resolve(o.screenshot))} (${r.screenshotBytes} bytes)`);
    } finally {
      await demo.close();
    }
    return;
  }
  console.log('Ctrl-C to stop.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await demo.close();
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(`\nerror: ${e.message}`);
    if (process.env.QNNLAB_DEBUG) console.error(e.stack);
    process.exit(1);
  },
);
