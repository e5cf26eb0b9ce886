/**
 * Headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: commands on fd 3,
 * replies on fd 4, NUL-terminated JSON), so no WebSocket client or browser package is needed. Just what the
 * demo's test and screenshot script use: open a page, evaluate expressions, send real mouse events, take a
 * screenshot.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** The Chromium binary: $QNNLAB_CHROMIUM, else the first of the usual Debian / Ubuntu paths that exists (null: none). */
export function findChromium(): string | null {
  const env = process.env.QNNLAB_CHROMIUM;
  if (env) return fs.existsSync(env) ? env : null;
  return CANDIDATES.find((c) => fs.existsSync(c)) ?? null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Pending { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void; method: string }

export class Chromium {
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private buffer = '';
  private exited = false;
  private stderr = '';

  private constructor(private proc: ChildProcess, private profile: string) {
    const out = proc.stdio[4] as Readable;
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => {
      this.buffer += chunk;
      let end: number;
      while ((end = this.buffer.indexOf('\0')) >= 0) {
        const msg = JSON.parse(this.buffer.slice(0, end)) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
        this.buffer = this.buffer.slice(end + 1);
        const p = msg.id != null ? this.pending.get(msg.id) : undefined;
        if (!p) continue;
        this.pending.delete(msg.id as number);
        if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p.resolve(msg.result ?? {});
      }
    });
    proc.stderr?.on('data', (d) => (this.stderr = (this.stderr + d).slice(-4000)));
    proc.on('exit', (code, signal) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`chromium exited (${code ?? signal}) during ${p.method}: ${this.stderr.slice(-600)}`));
      this.pending.clear();
    });
  }

  /** Start headless Chromium with a fresh profile. */
  static async launch(opts: { binary?: string; width?: number; height?: number } = {}): Promise<Chromium> {
    const binary = opts.binary ?? findChromium();
    if (!binary) throw new Error('Chromium not found (apt-get install -y chromium, or set QNNLAB_CHROMIUM)');
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'qnnlab-chromium-'));
    const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--remote-debugging-pipe', '--no-first-run',
      '--no-default-browser-check', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-extensions',
      '--disable-quic', '--mute-audio', `--user-data-dir=${profile}`, `--window-size=${opts.width ?? 1280},${opts.height ?? 1000}`, 'about:blank'];
    const proc = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    const c = new Chromium(proc, profile);
    await c.send('Browser.getVersion', {}, undefined, 60000);
    return c;
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string, timeoutMs = 60000): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`chromium has exited: ${this.stderr.slice(-600)}`));
    const id = this.nextId++;
    const msg = JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no reply from chromium within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        method,
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      (this.proc.stdio[3] as Writable).write(`${msg}\0`);
    });
  }

  /** Open `url` in a new tab of the given viewport size. */
  async open(url: string, viewport = { width: 1280, height: 1000 }): Promise<ChromiumPage> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' }) as { targetId: string };
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true }) as { sessionId: string };
    const page = new ChromiumPage(this, sessionId);
    await page.send('Page.enable');
    await page.send('Runtime.enable');
    await page.send('Emulation.setDeviceMetricsOverride', { width: viewport.width, height: viewport.height, deviceScaleFactor: 1, mobile: false });
    await page.send('Page.navigate', { url });
    return page;
  }

  async close(): Promise<void> {
    if (!this.exited) {
      try {
        await this.send('Browser.close', {}, undefined, 5000);
      } catch {
        // fall through to kill
      }
      for (let i = 0; i < 50 && !this.exited; i++) await sleep(100);
      if (!this.exited) this.proc.kill('SIGKILL');
    }
    fs.rmSync(this.profile, { recursive: true, force: true });
  }
}

export class ChromiumPage {
  constructor(private browser: Chromium, private sessionId: string) {}

  send(method: string, params: Record<string, unknown> = {}, timeoutMs = 60000): Promise<Record<string, unknown>> {
    return this.browser.send(method, params, this.sessionId, timeoutMs);
  }

  /** Evaluate an expression in the page (promises awaited); returns its value as JSON. */
  async evaluate<T>(expression: string, timeoutMs = 60000): Promise<T> {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }, timeoutMs) as {
      result: { value?: T }; exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** Poll `expression` until it is truthy; returns its value. */
  async waitFor<T>(expression: string, timeoutMs = 60000, what = expression): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await this.evaluate<T>(expression);
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(150);
    }
  }

  /** The centre of the element `selector` in viewport coordinates. */
  async centreOf(selector: string): Promise<{ x: number; y: number; width: number; height: number }> {
    const r = await this.evaluate<{ x: number; y: number; width: number; height: number } | null>(`(() => {
      const e = document.querySelector(${JSON.stringify(selector)}); if (!e) return null;
      e.scrollIntoView({ block: 'center' }); const r = e.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2, width: r.width, height: r.height }; })()`);
    if (!r) throw new Error(`no element ${selector}`);
    return r;
  }

  mouse(type: 'mousePressed' | 'mouseMoved' | 'mouseReleased', x: number, y: number, pressed: boolean): Promise<Record<string, unknown>> {
    return this.send('Input.dispatchMouseEvent', {
      type, x, y, button: type === 'mouseMoved' ? (pressed ? 'left' : 'none') : 'left', buttons: pressed ? 1 : 0,
      clickCount: type === 'mouseMoved' ? 0 : 1, pointerType: 'mouse',
    });
  }

  /** A real click (press and release) at the centre of `selector`. */
  async click(selector: string): Promise<void> {
    const { x, y } = await this.centreOf(selector);
    await this.mouse('mouseMoved', x, y, false);
    await this.mouse('mousePressed', x, y, true);
    await this.mouse('mouseReleased', x, y, false);
  }

  /** Press at the first point, move through the others, release at the last (viewport coordinates). */
  async stroke(points: { x: number; y: number }[]): Promise<void> {
    await this.mouse('mouseMoved', points[0].x, points[0].y, false);
    await this.mouse('mousePressed', points[0].x, points[0].y, true);
    for (const p of points.slice(1)) await this.mouse('mouseMoved', p.x, p.y, true);
    const last = points[points.length - 1];
    await this.mouse('mouseReleased', last.x, last.y, false);
  }

  /** PNG of the whole page (beyond the viewport). */
  async screenshot(file: string): Promise<number> {
    const m = await this.send('Page.getLayoutMetrics') as { cssContentSize?: { width: number; height: number }; contentSize: { width: number; height: number } };
    const size = m.cssContentSize ?? m.contentSize;
    const r = await this.send('Page.captureScreenshot', {
      format: 'png', captureBeyondViewport: true, clip: { x: 0, y: 0, width: Math.ceil(size.width), height: Math.ceil(size.height), scale: 1 },
    }) as { data: string };
    const png = Buffer.from(r.data, 'base64');
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, png);
    return png.length;
  }
}
