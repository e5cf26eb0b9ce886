import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compile } from 'vega-lite';
import { colorFor, colorScale, curves, methodBars, renderPng, renderSvg, savePlot, sqStages, weightHistogram, type TopLevelSpec } from '../src/plots';

/** PNG signature and the IHDR width/height (big-endian at bytes 16..23). */
function pngSize(buf: Buffer): { width: number; height: number } {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

/** Compiles (vega-lite validates the spec), renders to SVG, checks texts, renders a PNG of a sane size. */
async function checkRenders(spec: TopLevelSpec, texts: string[]): Promise<string> {
  assert.ok(compile(spec).spec, 'compiles');
  const svg = await renderSvg(spec);
  assert.match(svg, /^<svg/);
  for (const t of texts) assert.ok(svg.includes(t), `SVG contains "${t}"`);
  const { width, height } = pngSize(await renderPng(spec, { scale: 1 }));
  assert.ok(width >= 200 && width <= 3000, `png width ${width}`);
  assert.ok(height >= 150 && height <= 2000, `png height ${height}`);
  return svg;
}

/** Spike-and-slab-like weights: most mass near the levels, a thin uniform slab. */
function spikeSlab(n: number, levels: number[], seed: number): Float32Array {
  let s = seed;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = rnd() < 0.8 ? levels[Math.floor(rnd() * levels.length)] + (rnd() - 0.5) * 0.01 : (rnd() - 0.5) * 0.6;
  }
  return out;
}

test('weightHistogram: one panel per layer with the levels as rules', async () => {
  const levels = [[-0.2, 0, 0.2], [-0.1, -0.03, 0.03, 0.1]];
  const spec = weightHistogram({ values: [spikeSlab(5000, levels[0], 1), spikeSlab(3000, levels[1], 2)], layerNames: ['conv1', 'fc2'], levels, bins: 40 });
  const rows = (spec.data as { values: Array<{ kind: string; layer: string; level?: number }> }).values;
  assert.deepEqual(rows.filter((r) => r.kind === 'level').map((r) => [r.layer, r.level]), [['conv1', -0.2], ['conv1', 0], ['conv1', 0.2], ['fc2', -0.1], ['fc2', -0.03], ['fc2', 0.03], ['fc2', 0.1]]);
  assert.equal(rows.filter((r) => r.kind === 'bin').length, 80);
  const svg = await checkRenders(spec, ['conv1', 'fc2', 'weight value (posterior mean)', 'weights per bin']);
  // 7 rules are drawn in the levels' dashed red; vega writes a rule as a <line>... with stroke="#d62728".
  assert.equal(svg.match(/stroke="#d62728"/g)?.length, 7);
});

test('weightHistogram: rejects mismatched names', () => {
  assert.throws(() => weightHistogram({ values: [[1, 2]], layerNames: ['a', 'b'] }), /2 layer names/);
});

const history = [1, 2, 3, 4].flatMap((epoch) => [
  { epoch, variant: 'gaussian', quantLoss: 0.5 / epoch, testAccuracy: 0.8 + epoch * 0.02 },
  { epoch, variant: 'multi spike-and-slab', quantLoss: 0.1 / epoch, testAccuracy: 0.82 + epoch * 0.02 },
]);

test('curves: panels with independent y and palette colours', async () => {
  const spec = curves({ rows: history, y: ['quantLoss', 'testAccuracy'], titles: { quantLoss: 'quantization loss (mean squared distance)' } });
  const svg = await checkRenders(spec, ['quantization loss (mean squared distance)', 'test accuracy (%)', 'epoch', 'gaussian', 'multi spike-and-slab']);
  assert.ok(svg.includes(colorFor('gaussian')) && svg.includes(colorFor('multi spike-and-slab')), 'fixed palette colours used');
});

test('curves: layered with two axes; missing values are skipped', async () => {
  const rows = [...history, { epoch: 5, variant: 'gaussian', quantLoss: 0.09 }];
  const spec = curves({ rows, y: ['quantLoss', 'testAccuracy'], layout: 'layered' });
  await checkRenders(spec, ['quant loss (solid)', 'test accuracy (%) (dashed)']);
  assert.throws(() => curves({ rows, y: ['quantLoss'], layout: 'layered' }), /exactly 2/);
});

test('methodBars: accuracy and memory panels', async () => {
  const rows = [
    { method: 'FWN', testAccuracy: 0.91, memoryKB: 1100, std: 0.004 },
    { method: 'BWN', testAccuracy: 0.8933, memoryKB: 36, std: 0.006 },
    { method: 'TWN', testAccuracy: 0.9013, memoryKB: 70, std: 0.005 },
  ];
  const spec = methodBars({ rows, memory: 'memoryKB', error: 'std', titles: { memoryKB: 'weight memory (KiB)' } });
  await checkRenders(spec, ['test accuracy (%)', 'weight memory (KiB)', 'FWN', 'BWN', 'TWN', '89.3%']);
});

test('sqStages: accuracy per SQ ratio with baselines', async () => {
  const rows = [0.5, 0.75, 0.875, 1].flatMap((ratio, i) => [
    { ratio, method: 'SQ-BWN', testAccuracy: 0.88 + i * 0.007 },
    { ratio, method: 'SQ-TWN', testAccuracy: 0.9 + i * 0.004 },
  ]);
  const spec = sqStages({ rows, baselines: [{ name: 'BWN', value: 0.8933 }, { name: 'FWN', value: 0.91 }] });
  await checkRenders(spec, ['SQ ratio', 'test accuracy (%)', '87.5%', 'SQ-BWN', 'SQ-TWN', 'BWN', 'FWN']);
});

test('palette: the project\'s methods get distinct colours; unknown names avoid colours taken in the chart', () => {
  const methods = ['fp', 'binary-connect', 'binary-net', 'binary-weight', 'fixed-point-connect', 'fixed-point-net', 'pow2-connect', 'pow2-net', 'inq', 'min-max', 'bwn', 'twn', 'sq-bwn', 'sq-twn', 'gaussian', 'multi spike-and-slab', 'mary'];
  assert.equal(new Set(colorScale(methods).range).size, methods.length);
  const names = Array.from({ length: 8 }, (_, i) => `run ${i}`);
  assert.equal(new Set(colorScale(names).range).size, 8);
  assert.deepEqual(colorScale(['twn', 'run 0']).range[0], colorFor('twn'));
});

test('palette: stable and name-normalized', () => {
  assert.equal(colorFor('SQ-BWN'), colorFor('sq_bwn'));
  assert.equal(colorFor('some new method'), colorFor('Some New Method'));
  assert.match(colorFor('anything'), /^#[0-9a-f]{6}$/);
});

test('savePlot writes svg, png and the spec, creating folders', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qnnlab-plots-'));
  try {
    const spec = curves({ rows: history, y: ['testAccuracy'] });
    const out = await savePlot(spec, path.join(dir, 'nested', 'acc'));
    assert.match(fs.readFileSync(out.svg, 'utf8'), /<svg/);
    assert.ok(pngSize(fs.readFileSync(out.png)).width > 400, 'png at scale 2');
    assert.deepEqual(JSON.parse(fs.readFileSync(out.spec, 'utf8')), JSON.parse(JSON.stringify(spec)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
