/**
 * The demo page (bundled by build.ts, served by server.ts): loads every packed model the server lists, shows a
 * sample of MNIST test digits and a drawing pad, and classifies the chosen digit with every model on
 * TensorFlow.js's cpu backend: class probabilities, and for Bayesian models whose file holds σ the Monte-Carlo
 * predictive distribution and entropy (mc.ts). Each model's download size is the packed file's.
 *
 * For tests and scripts, `window.qnnlabDemo` holds the state ('loading' | 'ready' | 'error'), the models, and
 * the last result (input pixels, per model logits, probabilities and Monte-Carlo numbers); its methods
 * classifyTest(k) and classifyPixels(bytes) classify the k-th sample digit or a 28x28 byte image.
 */
import * as tf from '@tensorflow/tfjs';
import { normalizationTable, type NormalizeMode } from '../data/normalize';
import { unpackModelAsync } from '../export/browser';
import { mcPredictPacked, softmaxRows } from '../export/mc';
import type { PackedPosterior } from '../export/posterior';
import { MC_SAMPLES, MC_SEED, type DemoManifest, type DemoModelEntry, type DemoResult, type MnistSample, type ModelPrediction } from './manifest';
import { MNIST_SIZE, toMnist } from './preprocess';

const PAD = 280;

interface LoadedModel {
  entry: DemoModelEntry;
  model: tf.LayersModel | null;
  posterior: PackedPosterior | null;
  table: Float32Array | null;
  loadMs: number;
  /** Why the model cannot classify here (load error, not an MNIST input). */
  error?: string;
}

export interface DemoApi {
  state: 'loading' | 'ready' | 'error';
  error: string | null;
  backend: string | null;
  tfjsVersion: string;
  models: { id: string; label: string; kind: string; bytes: number; sigmaBytes: number; hasSigma: boolean; loaded: boolean; error?: string }[];
  sampleCount: number;
  seq: number;
  busy: boolean;
  result: DemoResult | null;
  classifyTest(k: number): Promise<DemoResult>;
  classifyPixels(pixels: ArrayLike<number>): Promise<DemoResult>;
}

const api: DemoApi = {
  state: 'loading', error: null, backend: null, tfjsVersion: tf.version.tfjs, models: [], sampleCount: 0, seq: 0, busy: false, result: null,
  classifyTest: () => Promise.reject(new Error('not ready')),
  classifyPixels: () => Promise.reject(new Error('not ready')),
};
(window as unknown as { qnnlabDemo: DemoApi }).qnnlabDemo = api;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
const pct = (p: number) => `${(100 * p).toFixed(1)} %`;
/** Nats with three decimals, or two significant digits below 0.01. */
const nats = (h: number) => (h >= 0.01 || h === 0 ? h.toFixed(3) : h.toExponential(1));
const argmax = (p: ArrayLike<number>) => {
  let k = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[k]) k = i;
  return k;
};

function status(text: string, isError = false): void {
  const s = $('status');
  s.textContent = text;
  s.className = isError ? 'error' : '';
}

/** Draw a 28x28 byte image into a canvas (gray levels). */
function paint(canvas: HTMLCanvasElement, pixels: ArrayLike<number>): void {
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  const img = ctx.createImageData(MNIST_SIZE, MNIST_SIZE);
  for (let i = 0; i < MNIST_SIZE * MNIST_SIZE; i++) {
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = pixels[i];
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function modelKind(e: DemoModelEntry): string {
  const m = e.metadata ?? {};
  if (e.kind === 'bayesian') return `Bayesian${m.M != null ? ` M = ${m.M}` : ''}${m.prior ? `, ${m.prior}` : ''}`;
  if (e.kind === 'quantized') return `quantized (${String(m.method ?? 'method unknown')})`;
  return 'float32';
}

async function loadModel(entry: DemoModelEntry): Promise<LoadedModel> {
  const t0 = performance.now();
  try {
    const res = await fetch(entry.url, { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const u = await unpackModelAsync(bytes, entry.label);
    const shape = u.model.inputs[0].shape;
    if (shape.length !== 4 || shape[1] !== MNIST_SIZE || shape[2] !== MNIST_SIZE || shape[3] !== 1) {
      u.model.dispose();
      return { entry, model: null, posterior: null, table: null, loadMs: performance.now() - t0, error: `input [${shape.slice(1).join(', ')}]: not a 28x28 grey-level (MNIST) model` };
    }
    const input = (entry.metadata?.input ?? {}) as { normalize?: NormalizeMode; mean?: number[]; std?: number[] };
    const table = normalizationTable(input.normalize ?? 'unit', input.mean ?? [0], input.std ?? [1], 1);
    return { entry, model: u.model, posterior: u.posterior, table, loadMs: performance.now() - t0 };
  } catch (e) {
    return { entry, model: null, posterior: null, table: null, loadMs: performance.now() - t0, error: (e as Error).message };
  }
}

function predictOne(m: LoadedModel, pixels: ArrayLike<number>): ModelPrediction {
  const table = m.table as Float32Array;
  const data = new Float32Array(MNIST_SIZE * MNIST_SIZE);
  for (let i = 0; i < data.length; i++) data[i] = table[pixels[i]];
  const x = tf.tensor4d(data, [1, MNIST_SIZE, MNIST_SIZE, 1]);
  try {
    const model = m.model as tf.LayersModel;
    const logits = tf.tidy(() => Float32Array.from((model.predict(x) as tf.Tensor).dataSync() as Float32Array));
    const probs = Array.from(softmaxRows(logits, 1, logits.length)[0]);
    const out: ModelPrediction = { id: m.entry.id, label: m.entry.label, logits: Array.from(logits), probs, predicted: argmax(probs) };
    if (m.entry.kind === 'bayesian') {
      if (m.posterior) {
        const mc = mcPredictPacked(model, m.posterior, x, { samples: MC_SAMPLES, seed: MC_SEED });
        const p = Array.from(mc.probs[0]);
        out.mc = {
          samples: mc.samples, seed: MC_SEED, probs: p, entropy: mc.entropy[0], expectedEntropy: mc.expectedEntropy[0],
          mutualInformation: mc.mutualInformation[0], predicted: argmax(p),
        };
      } else {
        out.mcNote = 'σ is not in this packed file (exported without its σ section): deterministic prediction only.';
      }
    }
    return out;
  } finally {
    x.dispose();
  }
}

function bars(probs: number[], mc: number[] | null): HTMLElement {
  const box = el('div', { class: 'bars' });
  const top = argmax(mc ?? probs);
  for (let k = 0; k < probs.length; k++) {
    const row = el('div', { class: `bar-row${k === top ? ' top' : ''}` },
      el('span', { class: 'digit', text: String(k) }),
      el('span', { class: 'track' },
        el('span', { class: 'bar', style: `width:${(100 * probs[k]).toFixed(2)}%` }),
        ...(mc ? [el('span', { class: 'bar mc', style: `width:${(100 * mc[k]).toFixed(2)}%` })] : [])),
      el('span', { class: 'value', text: mc ? `${pct(probs[k])} · ${pct(mc[k])}` : pct(probs[k]) }));
    box.append(row);
  }
  return box;
}

function showResult(r: DemoResult, models: LoadedModel[]): void {
  paint($('seen') as HTMLCanvasElement, r.input.pixels);
  $('input-caption').textContent = r.input.source === 'test'
    ? `MNIST test image #${r.input.testIndex} (label ${r.input.label})`
    : 'your drawing, scaled and centred like MNIST';
  const box = $('predictions');
  box.replaceChildren();
  for (const m of models) {
    const p = r.predictions.find((q) => q.id === m.entry.id);
    if (!p) continue; // a model that did not load or is not an MNIST model: the table says why
    const card = el('div', { class: 'card', 'data-model': m.entry.id });
    card.append(el('h3', {}, m.entry.label, el('span', { class: 'kind', text: ` ${modelKind(m.entry)}` })));
    card.dataset.predicted = String(p.predicted);
    const how = m.entry.kind === 'bayesian' ? 'deterministic, the quantized weights Q(θ)' : m.entry.kind === 'quantized' ? 'its quantized weights' : 'float32 weights';
    const verdict = el('div', { class: 'verdict' }, el('span', { class: 'big', text: String(p.predicted) }),
      ` ${how}: p = ${pct(p.probs[p.predicted])}`);
    card.append(verdict);
    if (p.mc) {
      card.dataset.entropy = String(p.mc.entropy);
      card.append(el('div', { class: 'mc-line' },
        el('span', { class: 'big mc', text: String(p.mc.predicted) }),
        ` Monte Carlo (${p.mc.samples} samples of w = Q(θ) + σ·ε): predictive entropy `,
        el('b', { class: 'entropy', text: `${nats(p.mc.entropy)} nats` }),
        ` (max ln 10 = 2.303), mutual information ${nats(p.mc.mutualInformation)}`));
    }
    if (p.mcNote) card.append(el('p', { class: 'note mc-note', text: p.mcNote }));
    card.append(bars(p.probs, p.mc?.probs ?? null));
    if (p.mc) card.append(el('p', { class: 'legend' }, el('span', { class: 'swatch' }), ' deterministic ', el('span', { class: 'swatch mc' }), ' Monte Carlo'));
    box.append(card);
  }
}

function modelsTable(models: LoadedModel[], manifest: DemoManifest): void {
  const tbody = $('models-body');
  tbody.replaceChildren();
  for (const m of models) {
    const e = m.entry;
    const meta = e.metadata ?? {};
    const acc = typeof meta.testAccuracy === 'number' ? `${(100 * (meta.testAccuracy as number)).toFixed(2)} %${meta.smoke ? ' (smoke run)' : ''}` : '–';
    const notes: string[] = [];
    if (m.error) notes.push(m.error);
    if (e.kind === 'bayesian' && !e.hasSigma) notes.push('no σ in the file: no Monte-Carlo prediction');
    if (e.kind === 'bayesian' && e.hasSigma && meta.trainedSampleMode === 'sample') notes.push('trained around the means θ, which the file does not hold: its Monte Carlo samples around Q(θ)');
    tbody.append(el('tr', { 'data-model': e.id },
      el('td', { text: e.label }),
      el('td', { text: modelKind(e) }),
      el('td', { class: 'num download', 'data-bytes': String(e.bytes), text: `${kib(e.bytes)} (${e.bytes.toLocaleString('en')} B)` }),
      el('td', { class: 'num', text: e.sigmaBytes ? kib(e.sigmaBytes) : '–' }),
      el('td', { class: 'num', text: `${kib(e.float32Bytes)} (${(e.float32Bytes / (e.bytes - e.sigmaBytes)).toFixed(1)}x)` }),
      el('td', { class: 'num', text: acc }),
      el('td', { class: 'notes', text: notes.join('; ') })));
  }
  const n = $('models-note');
  n.textContent = models.length === 0
    ? `No packed models found in ${manifest.searched.join(', ') || 'results/*/models/'}. Export some with \`npm run export -- <results dir> <variant>\` (docs/demo-and-export.md), or start the demo with --models DIR.`
    : `Download = the .qnnp file as served; float32 = the same tensors at 4 bytes each (ratio against the file without σ). Searched: ${manifest.searched.join(', ')}.`;
  if (manifest.skipped.length) n.textContent += ` Skipped: ${manifest.skipped.map((s) => `${s.file} (${s.error})`).join('; ')}.`;
}

function setupPad(onDrawn: (pixels: Uint8Array) => void): void {
  const pad = $('pad') as HTMLCanvasElement;
  const ctx = pad.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
  const clear = () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, PAD, PAD);
  };
  clear();
  let drawing = false;
  const at = (e: PointerEvent): [number, number] => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * PAD) / r.width, ((e.clientY - r.top) * PAD) / r.height];
  };
  pad.addEventListener('pointerdown', (e) => {
    drawing = true;
    pad.setPointerCapture(e.pointerId);
    const [x, y] = at(e);
    ctx.strokeStyle = '#fff';
    ctx.fillStyle = '#fff';
    ctx.lineWidth = 20;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.arc(x, y, 10, 0, 2 * Math.PI);
    ctx.fill();
    ctx.beginPath();
    ctx.moveTo(x, y);
    e.preventDefault();
  });
  pad.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    const [x, y] = at(e);
    ctx.lineTo(x, y);
    ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(x, y);
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    const rgba = ctx.getImageData(0, 0, PAD, PAD).data;
    const gray = new Uint8Array(PAD * PAD);
    for (let i = 0; i < gray.length; i++) gray[i] = rgba[4 * i];
    const img = toMnist(gray, PAD, PAD);
    if (img) onDrawn(img);
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  $('clear').addEventListener('click', () => clear());
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
  api.backend = tf.getBackend();
  $('engine').textContent = `TensorFlow.js ${tf.version.tfjs}, ${api.backend} backend; nothing is loaded from outside this server.`;
  const [manifest, sample] = await Promise.all([
    fetch('models.json', { cache: 'no-store' }).then((r) => r.json() as Promise<DemoManifest>),
    fetch('mnist-sample.json').then((r) => r.json() as Promise<MnistSample>),
  ]);
  status(`Loading ${manifest.models.length} packed model(s)…`);
  const models: LoadedModel[] = [];
  for (const entry of manifest.models) models.push(await loadModel(entry));
  api.models = models.map((m) => ({
    id: m.entry.id, label: m.entry.label, kind: m.entry.kind, bytes: m.entry.bytes, sigmaBytes: m.entry.sigmaBytes,
    hasSigma: m.entry.hasSigma && m.posterior != null, loaded: m.model != null, ...(m.error ? { error: m.error } : {}),
  }));
  modelsTable(models, manifest);

  const size = sample.height * sample.width;
  const raw = atob(sample.pixels);
  const all = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) all[i] = raw.charCodeAt(i);
  api.sampleCount = sample.indices.length;
  const usable = models.filter((m) => m.model);

  const classify = async (input: DemoResult['input']): Promise<DemoResult> => {
    api.busy = true;
    status('Classifying…');
    await new Promise((r) => setTimeout(r, 0)); // let the status paint
    try {
      const t0 = performance.now();
      const predictions = usable.map((m) => predictOne(m, input.pixels));
      const r: DemoResult = { seq: ++api.seq, input, predictions, ms: performance.now() - t0 };
      api.result = r;
      showResult(r, models);
      status(`${usable.length} model(s) ready. Classified in ${r.ms.toFixed(0)} ms.`);
      return r;
    } finally {
      api.busy = false;
    }
  };
  api.classifyTest = (k: number) => {
    if (!(Number.isInteger(k) && k >= 0 && k < sample.indices.length)) return Promise.reject(new Error(`no sample digit ${k}`));
    document.querySelectorAll('.digit-cell.selected').forEach((d) => d.classList.remove('selected'));
    document.querySelector(`.digit-cell[data-sample="${k}"]`)?.classList.add('selected');
    return classify({ source: 'test', sample: k, testIndex: sample.indices[k], label: sample.labels[k], pixels: Array.from(all.subarray(k * size, (k + 1) * size)) });
  };
  api.classifyPixels = (pixels: ArrayLike<number>) => {
    if (pixels.length !== MNIST_SIZE * MNIST_SIZE) return Promise.reject(new Error(`expected ${MNIST_SIZE * MNIST_SIZE} pixels`));
    document.querySelectorAll('.digit-cell.selected').forEach((d) => d.classList.remove('selected'));
    return classify({ source: 'drawn', pixels: Array.from(pixels, (v) => Math.max(0, Math.min(255, Math.round(v)))) });
  };

  const gallery = $('gallery');
  for (let k = 0; k < sample.indices.length; k++) {
    const c = el('canvas', { class: 'digit-cell', width: String(sample.width), height: String(sample.height), 'data-sample': String(k), title: `test #${sample.indices[k]}, label ${sample.labels[k]}` });
    paint(c, all.subarray(k * size, (k + 1) * size));
    c.addEventListener('click', () => void api.classifyTest(k));
    gallery.append(c);
  }
  $('sample-source').textContent = sample.source;
  setupPad((img) => void api.classifyPixels(img));

  api.state = 'ready';
  document.body.dataset.state = 'ready';
  status(usable.length ? `${usable.length} model(s) ready: draw a digit or pick a test digit.` : 'No usable packed model: see the table below.', usable.length === 0);
}

main().catch((e: Error) => {
  api.state = 'error';
  api.error = e.message;
  document.body.dataset.state = 'error';
  status(`Error: ${e.message}`, true);
});
