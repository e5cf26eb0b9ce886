/**
 * Use the demo page in headless Chromium as a person would: click test digits in the gallery, draw one stroke on
 * the pad with the mouse, and read what the page predicted (window.qnnlabDemo). Shared by test/demo-page.test.ts
 * and `npm run demo -- --screenshot FILE`.
 */
import { Chromium, type ChromiumPage } from './chromium';
import type { DemoResult } from './manifest';

export interface PageModel { id: string; label: string; kind: string; bytes: number; sigmaBytes: number; hasSigma: boolean; loaded: boolean; error?: string }

export interface DriveResult {
  models: PageModel[];
  backend: string | null;
  sampleCount: number;
  /** One result per clicked digit, then the drawn stroke's (if drawn). */
  results: DemoResult[];
  /** The page's rendered prediction cards: model id -> data-predicted / data-entropy and note text. */
  cards: { id: string; predicted: string | null; entropy: string | null; text: string }[];
  screenshotBytes: number | null;
}

/** A "7": across the top, then down to the left, as fractions of the pad. */
export const SEVEN_STROKE: [number, number][] = [[0.28, 0.22], [0.5, 0.21], [0.72, 0.22], [0.62, 0.45], [0.52, 0.65], [0.45, 0.82]];

function interpolate(points: [number, number][], rect: { x: number; y: number; width: number; height: number }, step = 8): { x: number; y: number }[] {
  const left = rect.x - rect.width / 2;
  const top = rect.y - rect.height / 2;
  const abs = points.map(([u, v]) => ({ x: left + u * rect.width, y: top + v * rect.height }));
  const out = [abs[0]];
  for (let i = 1; i < abs.length; i++) {
    const a = abs[i - 1];
    const b = abs[i];
    const n = Math.max(1, Math.ceil(Math.hypot(b.x - a.x, b.y - a.y) / step));
    for (let k = 1; k <= n; k++) out.push({ x: a.x + ((b.x - a.x) * k) / n, y: a.y + ((b.y - a.y) * k) / n });
  }
  return out;
}

async function nextResult(page: ChromiumPage, after: number, timeoutMs: number): Promise<DemoResult> {
  await page.waitFor(`window.qnnlabDemo.seq > ${after} && !window.qnnlabDemo.busy`, timeoutMs, 'the page to classify');
  return page.evaluate<DemoResult>('window.qnnlabDemo.result');
}

export async function driveDemo(url: string, opts: {
  /** Gallery positions to click (default [0, 1, 2]). */
  samples?: number[];
  /** Draw SEVEN_STROKE on the pad (default true). */
  draw?: boolean;
  screenshot?: string;
  timeoutMs?: number;
  viewport?: { width: number; height: number };
} = {}): Promise<DriveResult> {
  const timeoutMs = opts.timeoutMs ?? 120000;
  const browser = await Chromium.launch(opts.viewport);
  try {
    const page = await browser.open(url, opts.viewport ?? { width: 1280, height: 1000 });
    const state = await page.waitFor<string>(`window.qnnlabDemo && window.qnnlabDemo.state !== 'loading' && window.qnnlabDemo.state`, timeoutMs, 'the page to load its models');
    if (state !== 'ready') throw new Error(`the page failed: ${await page.evaluate<string>('window.qnnlabDemo.error')}`);
    const info = await page.evaluate<{ models: PageModel[]; backend: string | null; sampleCount: number }>(
      '({ models: window.qnnlabDemo.models, backend: window.qnnlabDemo.backend, sampleCount: window.qnnlabDemo.sampleCount })');
    const results: DemoResult[] = [];
    for (const k of opts.samples ?? [0, 1, 2]) {
      const seq = await page.evaluate<number>('window.qnnlabDemo.seq');
      await page.click(`.digit-cell[data-sample="${k}"]`);
      results.push(await nextResult(page, seq, timeoutMs));
    }
    if (opts.draw !== false) {
      const seq = await page.evaluate<number>('window.qnnlabDemo.seq');
      await page.stroke(interpolate(SEVEN_STROKE, await page.centreOf('#pad')));
      results.push(await nextResult(page, seq, timeoutMs));
    }
    const cards = await page.evaluate<DriveResult['cards']>(`[...document.querySelectorAll('#predictions .card')].map((c) => ({
      id: c.dataset.model, predicted: c.dataset.predicted ?? null, entropy: c.dataset.entropy ?? null, text: c.textContent }))`);
    await page.evaluate('window.scrollTo(0, 0), true');
    const screenshotBytes = opts.screenshot ? await page.screenshot(opts.screenshot) : null;
    return { ...info, results, cards, screenshotBytes };
  } finally {
    await browser.close();
  }
}
