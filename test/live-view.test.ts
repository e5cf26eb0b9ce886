import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { startLiveView } from '../src/live/liveView';
import { findPlotly } from '../src/live/localPlotly';

const CHROMIUM = '/usr/bin/chromium';
const root = path.resolve(__dirname, '..');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
}

const rowsFor = (epochs: number) =>
  Array.from({ length: epochs }, (_, i) => ({
    variant: 'fp32', epoch: i + 1, trainLoss: 1 / (i + 1), testLoss: 1.2 / (i + 1), trainAccuracy: 0.8 + i / 50, testAccuracy: 0.78 + i / 50,
  }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Like sleep, but does not keep the process alive (for the losing side of a race). */
const deadlineAfter = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

test('a process that used the live view exits by itself after close(), with no browser ever connected', () => {
  const script = `
    const { startLiveView } = require(${JSON.stringify(path.join(root, 'src/live/liveView.ts'))});
    (async () => {
      const v = await startLiveView({ title: 'exit check' });
      v.update([{ variant: 'a', epoch: 1, trainLoss: 1, testLoss: 1, trainAccuracy: 0.5, testAccuracy: 0.5 }]);
      await v.close();
      console.log('closed ' + v.port);
    })();`;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, `exit status ${r.status} (signal ${r.signal}); stderr: ${r.stderr}`);
  assert.match(r.stdout, /\[live\] exit check: http:\/\/localhost:\d+/, 'prints the URL');
  assert.match(r.stdout, /closed \d+/);
  assert.ok(Date.now() - t0 < 60000);
});

test('live view: serves the curves, a browser draws them, close() releases the port', async (t) => {
  const port = await freePort();
  const view = await startLiveView({ title: 'live test', port });
  try {
    assert.equal(view.url, `http://localhost:${port}`);
    assert.ok(await accepts(port), 'serving');
    await assert.rejects(startLiveView({ title: 'second' }), /already open/);
    for (let epochs = 1; epochs <= 3; epochs++) view.update(rowsFor(epochs));

    const page = await (await fetch(view.url)).text();
    const plotly = findPlotly();
    if (plotly) assert.ok(page.includes('src="/qnnlab/plotly.min.js"'), 'page loads the local plotly.js');

    if (!fs.existsSync(CHROMIUM)) t.skip(`${CHROMIUM} not installed (apt-get install -y chromium): browser part skipped`);
    else if (!plotly) t.skip('no local plotly.js (nodeplotlib loads it from a CDN; install plotly.js-basic-dist-min or set QNNLAB_PLOTLY_JS): browser part skipped');
    else await drawnInChromium(view);
  } finally {
    await view.close();
  }
  assert.equal(await accepts(port), false, 'port released after close()');
  // A later view works again after close() (nodeplotlib boots a new server).
  const again = await startLiveView({ title: 'again' });
  assert.ok(await accepts(again.port));
  await again.close();
  assert.equal(await accepts(again.port), false);
});

/**
 * Headless Chromium on the page. nodeplotlib's socket.io long-polling keeps a request open, which stalls
 * --virtual-time-budget, so Chromium finishes only once the server goes away: wait until the page has
 * subscribed (and drawn), then close the view while the browser is still connected.
 */
async function drawnInChromium(view: Awaited<ReturnType<typeof startLiveView>>): Promise<void> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'qnnlab-chromium-'));
  const shot = path.join(root, 'build', 'live-view.png'); // results/live-view.png is a committed copy
  fs.mkdirSync(path.dirname(shot), { recursive: true });
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, `--screenshot=${shot}`, '--dump-dom',
    '--window-size=1200,800', '--virtual-time-budget=8000', view.url];
  const chrome = spawn(CHROMIUM, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let dom = '';
  chrome.stdout.on('data', (d) => (dom += d));
  const exited = new Promise<number | null>((resolve) => chrome.on('exit', resolve));
  try {
    const deadline = Date.now() + 45000;
    while (!view.watched && Date.now() < deadline) await sleep(200);
    assert.ok(view.watched, 'the page subscribed to the curves');
    await sleep(3000); // plotly draws as soon as the data arrives; leave time on a loaded machine
    await view.close();
    const code = await Promise.race([exited, deadlineAfter(45000).then(() => 'timeout')]);
    assert.equal(code, 0, `chromium exit ${code}`);
    const svgs = dom.match(/class="main-svg"/g)?.length ?? 0;
    const traces = dom.match(/class="trace scatter/g)?.length ?? 0;
    assert.ok(svgs >= 2, `plotly svg drawn (${svgs} main-svg)`);
    assert.ok(traces >= 4, `train/test lines of both panels drawn (${traces} traces)`);
    for (const text of ['live test: loss (cross-entropy)', 'live test: accuracy (%)', 'fp32 · testAccuracy']) assert.ok(dom.includes(text), `page shows "${text}"`);
    assert.ok(fs.statSync(shot).size > 20000, 'screenshot is not blank');
  } finally {
    chrome.kill();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}
