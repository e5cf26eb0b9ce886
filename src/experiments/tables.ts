/**
 * Result tables as functions of committed summary.json files, so that no number in a README is typed by hand.
 * A README marks each generated table with
 *     <!-- table: NAME -->
 *     ...the table...
 *     <!-- /table -->
 * `npm run results -- --write-readmes` regenerates every marked table; a test fails when a committed table differs
 * from what its summaries produce. Ratios are computed from unrounded values, then rounded for display.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { benchTableRows, type VariantResult } from '../inference/bench';

export type Summary = { experiment: string; variants: Record<string, unknown>[]; [key: string]: unknown };

/** Reads results/<name>/summary.json (throws a clear error when it is missing). */
export function readSummary(resultsDir: string, name: string): Summary {
  const file = path.join(resultsDir, name, 'summary.json');
  if (!fs.existsSync(file)) throw new Error(`No ${file}: run the experiment that writes it first.`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Summary;
}

const pct = (v: unknown, digits = 2) => (typeof v === 'number' ? `${(v * 100).toFixed(digits)} %` : '');
const num = (v: unknown) => {
  if (typeof v !== 'number') return '';
  const a = Math.abs(v);
  return a === 0 ? '0' : a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(2);
};
const kib = (v: unknown) => (typeof v === 'number' ? `${v.toFixed(1)} KiB` : '');

function variant(s: Summary, name: string): Record<string, unknown> | undefined {
  return s.variants.find((v) => v.name === name);
}

function markdown(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function priorLabel(v: Record<string, unknown>): string {
  return `M = ${v.M}, ${v.prior === 'spikeslab' ? 'spike-and-slab' : 'Gaussian'}`;
}

/** Quantization loss after epochs 1 → 2 → 3 → last, and epoch 3 over epoch 1 (unrounded ratio). */
function lossCells(v: Record<string, unknown>): [string, string] {
  const ql = (v.quantizationLoss as number[] | undefined) ?? [];
  if (ql.length === 0) return ['', ''];
  const shown = [0, 1, 2].filter((i) => i < ql.length).map((i) => num(ql[i]));
  if (ql.length > 3) shown.push(num(ql[ql.length - 1]));
  const ratio = ql.length >= 3 && ql[0] > 0 ? pct(ql[2] / ql[0], 1) : '';
  return [shown.join(' → '), ratio];
}

function sigmaCell(v: Record<string, unknown>): string {
  const s = v.sigma as { median: number; p90: number; initial: number }[] | undefined;
  if (!s) return '';
  const med = s.map((x) => x.median).sort((a, b) => a - b)[Math.floor(s.length / 2)];
  const moved = s.some((x) => Math.abs(x.median / x.initial - 1) > 0.05);
  return `${med.toPrecision(2)}${moved ? '' : ' (= init)'}`;
}

/**
 * One row per Bayesian variant of a mary-lenet-mnist run: quantized (deployed) validation and test accuracy,
 * the trained deterministic mode and the MC predictive on test, quantization loss, posterior σ, memory.
 */
function maryRows(s: Summary, recipe: string): string[][] {
  return s.variants.filter((v) => v.M != null).map((v) => {
    const [loss, ratio] = lossCells(v);
    const trainedMean = v.trainedMode === 'mean';
    return [
      `${recipe}: ${priorLabel(v)}`, `${v.epochs}`, pct(v.validationAccuracy), pct(v.testAccuracy),
      trainedMean ? `${pct(v.testAccuracyMean)} (θ)` : `${pct(v.testAccuracy)} (Q(θ))`, pct(v.testAccuracyMc),
      loss, ratio, sigmaCell(v), kib(v.memoryKiB),
    ];
  });
}

const MARY_HEADER = [
  'variant', 'epochs', 'quantized, validation', 'quantized, test', 'trained mode, test', 'MC, test',
  'quantization loss (epochs 1 → 2 → 3 → last)', 'epoch 3 / 1', 'median σ', 'memory',
];

/** The fields of results/bench.json that the training-bench table reads (src/cli/bench.ts writes them). */
interface TrainingBenchFile {
  machine: { wasmThreads: number | null; torchThreads: number | null; torchBlasKind?: string | null };
  lenet5?: { msPerStep: number; torchMsPerStep: number | null; ratio: number | null; cpuRatio: number | null };
  resnet20?: { msPerStep: number; torchMsPerStep: number | null; ratio: number | null; cpuRatio: number | null };
  mnistEpoch?: { seconds: number; torchSeconds: number | null; ratio: number | null; cpuSeconds: number; torchCpuSeconds: number | null } | null;
  bayesEpoch?: { seconds: number } | null;
}

type RobustnessMetrics = { accuracy: number; nll: number; brier: number; ece: number; meanMutualInformation: number | null };
type RobustnessVariant = {
  name: string; kind: string; clean: RobustnessMetrics; shifts: Record<string, RobustnessMetrics>;
  ood: { set: string; score: string; auroc: number }[];
};

/** Means of a metric over the rotated sets (15°..180°) and over the corrupted sets (every kind and severity). */
function shiftMeans(v: RobustnessVariant): { rotated: Record<string, number>; corrupted: Record<string, number> } {
  const names = Object.keys(v.shifts);
  const rotated = names.filter((n) => /^rotate-\d+$/.test(n) && n !== 'rotate-0');
  const corrupted = names.filter((n) => !n.startsWith('rotate-'));
  const avg = (set: string[]) => Object.fromEntries((['accuracy', 'nll', 'brier', 'ece'] as const).map((k) => [k, set.reduce((a, n) => a + v.shifts[n][k], 0) / set.length]));
  return { rotated: avg(rotated), corrupted: avg(corrupted) };
}

const robustnessVariants = (dir: string) => readSummary(dir, 'mary-robustness-mnist').variants as unknown as RobustnessVariant[];

export const TABLES: Record<string, (resultsDir: string) => string> = {
  /** The README's headline: the float net and both recipes of mary-lenet-mnist. */
  'mary-recipes': (dir) => {
    const q = readSummary(dir, 'mary-lenet-mnist-qnnlab');
    const fp = variant(q, 'fp');
    const rows: string[][] = [];
    if (fp) rows.push(['float LeNet-5', `${fp.epochs}`, pct(fp.validationAccuracy), pct(fp.testAccuracy), '', '', '', '', '', '']);
    rows.push(...maryRows(q, 'qnnlab'));
    // The paper recipe: M = 3 for 50 epochs, M = 2 and 4 for 20 (separate runs, as their epochs differ).
    for (const name of ['mary-lenet-mnist-paper', 'mary-lenet-mnist-paper-20ep']) {
      if (fs.existsSync(path.join(dir, name, 'summary.json'))) rows.push(...maryRows(readSummary(dir, name), 'paper'));
    }
    return markdown(MARY_HEADER, rows);
  },
  /** The qnnlab recipe with one departure removed per row (results/mary-lenet-mnist-ablation). */
  'mary-ablation': (dir) => {
    const s = readSummary(dir, 'mary-lenet-mnist-ablation');
    const rows = (s.ablation as Record<string, unknown>[]).map((r) => {
      const seeds = r.seeds as number[];
      const spread = (key: string) => (seeds.length > 1 ? ` (${pct(r[`${key}Min`])}–${pct(r[`${key}Max`])})` : '');
      return [
        `\`${r.row}\``, `${r.removes}`, `${seeds.join(', ')}`,
        `${pct(r.validationAccuracy)}${spread('validationAccuracy')}`, `${pct(r.testAccuracy)}${spread('testAccuracy')}`,
        num(r.quantizationLossEpoch1), num(r.quantizationLossEpoch3),
        typeof r.quantizationLossRatio === 'number' ? pct(r.quantizationLossRatio, 1) : '', pct(r.frozenFraction, 1),
      ];
    });
    return markdown(['row', 'removes', 'seeds', 'quantized, validation (min–max)', 'quantized, test (min–max)',
      'quantization loss, epoch 1', 'epoch 3', 'epoch 3 / 1', 'frozen'], rows);
  },
  'zoo-mnist': (dir) => {
    const s = readSummary(dir, 'zoo-mnist');
    const val = s.variants.some((v) => v.validationAccuracy != null);
    // The packed files of npm run export (models.json), when the run has them: bytes on disk next to summary()'s count.
    const modelsFile = path.join(dir, 'zoo-mnist', 'models.json');
    const packed = new Map<string, number>();
    if (fs.existsSync(modelsFile)) {
      for (const m of (JSON.parse(fs.readFileSync(modelsFile, 'utf8')) as { models: { variant: string; bytes: number }[] }).models) packed.set(m.variant, m.bytes);
    }
    const file = (name: string) => (packed.has(name) ? [kib(packed.get(name)! / 1024)] : packed.size ? [''] : []);
    return markdown(['method', ...(val ? ['validation acc.'] : []), 'test acc.', 'memory', ...(packed.size ? ['packed file'] : []), 'float32', 'compression'],
      s.variants.map((v) => [`\`${v.name}\``, ...(val ? [pct(v.validationAccuracy)] : []), pct(v.testAccuracy), kib(v.memoryKiB), ...file(v.name as string),
        kib(v.float32KiB), `${(v.compressionRatio as number).toFixed(1)}x`]));
  },
  /**
   * mary-robustness-mnist: every predictor on the clean MNIST test set and averaged over the rotated sets (15° to
   * 180°) and over the corrupted sets (5 kinds × 5 severities): accuracy, NLL, Brier score, ECE.
   */
  'robustness-shifts': (dir) => {
    const rows = robustnessVariants(dir).map((v) => {
      const m = shiftMeans(v);
      const cells = (x: Record<string, number>) => [pct(x.accuracy), x.nll.toFixed(3), x.brier.toFixed(3), x.ece.toFixed(4)];
      return [`\`${v.name}\``, v.kind, ...cells(v.clean as unknown as Record<string, number>), ...cells(m.rotated), ...cells(m.corrupted)];
    });
    return markdown(['predictor', 'kind', 'clean acc.', 'NLL', 'Brier', 'ECE', 'rotated acc.', 'NLL', 'Brier', 'ECE',
      'corrupted acc.', 'NLL', 'Brier', 'ECE'], rows);
  },
  /**
   * mary-robustness-mnist: OOD detection AUROC (MNIST test set against each OOD set) by 1 − max-softmax (MSP),
   * predictive entropy (H) and mutual information (MI), and the mean MI on the clean and the 90°-rotated test set.
   */
  'robustness-ood': (dir) => {
    const vs = robustnessVariants(dir);
    const sets = [...new Set(vs.flatMap((v) => v.ood.map((o) => o.set)))];
    const scores: [string, string][] = [['max-softmax', 'MSP'], ['entropy', 'H'], ['mutual-information', 'MI']];
    const rows = vs.map((v) => {
      const au = (set: string, score: string) => {
        const o = v.ood.find((r) => r.set === set && r.score === score);
        return o ? o.auroc.toFixed(3) : '–';
      };
      const mi = (m: RobustnessMetrics | undefined) => (m?.meanMutualInformation == null ? '–' : m.meanMutualInformation.toPrecision(2));
      return [`\`${v.name}\``, ...sets.flatMap((set) => scores.map(([score]) => au(set, score))), mi(v.clean), mi(v.shifts['rotate-90'])];
    });
    return markdown(['predictor', ...sets.flatMap((set) => scores.map(([, label]) => `${set}: AUROC ${label}`)), 'mean MI, clean', 'mean MI, rotated 90°'], rows);
  },
  /** mary-robustness-mnist: the posterior σ of every Bayesian net, median (90th percentile) per layer, and its initial value. */
  'robustness-sigma': (dir) => {
    const s = readSummary(dir, 'mary-robustness-mnist');
    const nets = (s.nets as { name: string; family: string; source: string; epochs: number; sigma?: { name: string; median: number; p90: number; initial: number }[]; sigmaAtInitial?: boolean }[])
      .filter((n) => n.sigma);
    const layers = nets[0]?.sigma?.map((l) => l.name) ?? [];
    return markdown(['net', 'epochs', ...layers, 'initial σ', 'σ at its initial value'], nets.map((n) => [
      n.name, `${n.epochs}`, ...n.sigma!.map((l) => `${l.median.toPrecision(2)} (${l.p90.toPrecision(2)})`), n.sigma![0].initial.toPrecision(2),
      n.sigmaAtInitial ? 'yes' : 'no',
    ]));
  },
  /**
   * results/inference-bench.json (npm run bench:inference): per variant and batch, the median time of the low-bit
   * engine and the speed-ups over the tfjs float32 twin, the tfjs simulated quantization and the engine's own
   * float32 kernels (the control: what a lean engine alone buys); resident weights against the packed file.
   */
  'inference-bench': (dir) => {
    const file = path.join(dir, 'inference-bench.json');
    if (!fs.existsSync(file)) throw new Error(`No ${file}: run npm run bench:inference first.`);
    const bench = JSON.parse(fs.readFileSync(file, 'utf8')) as { variants: VariantResult[] };
    const ms = (t: number) => (Number.isNaN(t) ? '' : t < 1 ? t.toFixed(3) : t.toPrecision(3));
    const x = (r: number) => (Number.isNaN(r) ? '' : `${r.toFixed(2)}x`);
    const rows = benchTableRows(bench.variants).map((r) => [
      r.variant, `${r.batch}`, ms(r.lowbitMs), ms(r.float32TwinMs), x(r.speedupVsFloat32Twin), x(r.speedupVsSimulated), x(r.speedupVsOwnFloat32),
      `${r.residentKiB.toFixed(1)} / ${r.packedKiB.toFixed(1)} KiB`, `${r.float32TwinKiB.toFixed(0)} KiB`,
    ]);
    return markdown(['variant', 'batch', 'low-bit engine, ms (median)', 'tfjs float32 twin, ms', 'speed-up vs float32 twin',
      'vs simulated quantization', 'vs own float32 kernels', 'resident / packed weights', 'float32 twin weights'], rows);
  },
  /**
   * results/bench.json (every core) and results/bench-1thread.json (npm run bench -- --threads 1 --out ...): tfjs
   * against PyTorch per training step and per classic LeNet-5 MNIST epoch, with each side's threads and the BLAS.
   */
  'training-bench': (dir) => {
    const rows: string[][] = [];
    for (const name of ['bench.json', 'bench-1thread.json']) {
      const file = path.join(dir, name);
      if (!fs.existsSync(file)) throw new Error(`No ${file}: run npm run bench first (docs/engine.md).`);
      const b = JSON.parse(fs.readFileSync(file, 'utf8')) as TrainingBenchFile;
      const m = b.machine;
      const threads = `${m.wasmThreads} / ${m.torchThreads}`;
      const blas = String(m.torchBlasKind ?? 'unknown');
      const x = (r: number | null) => (r == null ? '' : `${r.toFixed(2)}x`);
      for (const model of ['lenet5', 'resnet20'] as const) {
        const r = b[model];
        if (!r) continue;
        rows.push([model === 'lenet5' ? 'LeNet-5 20-50-500, one step' : 'ResNet-20, one step', threads, blas, `${(r.msPerStep as number).toFixed(0)} ms`, r.torchMsPerStep == null ? '' : `${r.torchMsPerStep.toFixed(0)} ms`, x(r.ratio), x(r.cpuRatio)]);
      }
      const e = b.mnistEpoch;
      if (e) {
        const cpu = e.torchCpuSeconds ? (e.cpuSeconds as number) / e.torchCpuSeconds : null;
        rows.push(['classic LeNet-5, MNIST epoch', threads, blas, `${(e.seconds as number).toFixed(1)} s`, e.torchSeconds == null ? '' : `${e.torchSeconds.toFixed(1)} s`, x(e.ratio), x(cpu)]);
      }
      if (b.bayesEpoch) rows.push(['Bayesian M = 3 LeNet-5, MNIST epoch (no PyTorch twin)', `${m.wasmThreads} / –`, '', `${b.bayesEpoch.seconds.toFixed(1)} s`, '', '', '']);
    }
    return markdown(['what', 'threads (wasm / torch)', 'PyTorch BLAS', 'qnnlab (tfjs wasm), median', 'PyTorch, median', 'time ratio', 'CPU-time ratio'], rows);
  },
};

export function renderTable(name: string, resultsDir = 'results'): string {
  const make = TABLES[name];
  if (!make) throw new Error(`Unknown table '${name}' (known: ${Object.keys(TABLES).join(', ')})`);
  return make(resultsDir);
}

const MARKER = /<!-- table: ([\w-]+) -->\n[\s\S]*?<!-- \/table -->/g;

/** The markdown text with every marked table regenerated. */
export function regenerateTables(text: string, resultsDir = 'results'): string {
  return text.replace(MARKER, (_m, name: string) => `<!-- table: ${name} -->\n${renderTable(name, resultsDir)}\n<!-- /table -->`);
}

/** Markdown files that may hold generated tables: README.md and results/*\/README.md. */
export function tableFiles(root = '.'): string[] {
  const out = [path.join(root, 'README.md')];
  const res = path.join(root, 'results');
  if (fs.existsSync(res)) {
    for (const d of fs.readdirSync(res)) {
      const f = path.join(res, d, 'README.md');
      if (fs.existsSync(f)) out.push(f);
    }
  }
  return out.filter((f) => fs.existsSync(f));
}
