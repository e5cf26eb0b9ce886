/**
 * Stochastic quantization (Dong et al., BMVC 2017) seen from a notebook: the roulette selection on a kernel
 * whose channels are quantized with very different errors, and the accuracy after each ratio stage.
 */
import * as tf from '@tensorflow/tfjs';
import {
  sqBaseValues, sqRelativeErrors, sqSelect, type SqBase, type SqProbability, type SqRule,
} from '../quantizers';
import { Rng } from '../util/random';
import type { Row } from '../plots/types';

export interface RouletteDemoOptions {
  /** Output channels of the demo kernel (default 16). */
  channels?: number;
  /** Fan-in of each channel (default 3*3*16 = 144). */
  fanIn?: number;
  /** SQ ratio r: the share of channels quantized in one draw (default 0.5). */
  ratio?: number;
  /** Number of independent draws to estimate each channel's probability (default 2000). */
  draws?: number;
  base?: SqBase;
  g?: SqProbability;
  seed?: number;
}

/**
 * A kernel [fanIn, channels] whose channel c mixes "already binary" weights (±1, error 0 under BWN) with
 * Gaussian weights in proportion c / (channels - 1): the relative quantization error e_c then grows with c.
 * The roulette is drawn `draws` times under both selection rules; each row gives a channel's e_c and the
 * share of draws in which it was quantized.
 */
export function rouletteDemo(opts: RouletteDemoOptions = {}): { rows: Row[]; errors: number[]; kernel: tf.Tensor2D } {
  const C = opts.channels ?? 16;
  const fanIn = opts.fanIn ?? 144;
  const ratio = opts.ratio ?? 0.5;
  const draws = opts.draws ?? 2000;
  const rng = new Rng(opts.seed ?? 7);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const values = new Float32Array(fanIn * C);
  for (let i = 0; i < fanIn; i++) {
    for (let c = 0; c < C; c++) {
      const mix = C > 1 ? c / (C - 1) : 0;
      values[i * C + c] = rng.next() < mix ? gauss() : rng.next() < 0.5 ? -1 : 1;
    }
  }
  const kernel = tf.tensor2d(values, [fanIn, C]);
  const q = sqBaseValues(kernel, { base: opts.base }); // undefined: the quantizer's default
  const errors = Array.from(sqRelativeErrors(kernel, q));
  q.dispose();
  const rules: Array<{ rule: SqRule; label: string }> = [
    { rule: 'paper', label: 'paper: quantize ∝ 1/e' },
    { rule: 'code', label: 'code: keep float ∝ e' },
  ];
  const rows: Row[] = [];
  for (const { rule, label } of rules) {
    const counts = new Array<number>(C).fill(0);
    const drawRng = new Rng((opts.seed ?? 7) + 1);
    for (let d = 0; d < draws; d++) {
      const mask = sqSelect(errors, ratio, { rule, g: opts.g, rng: drawRng });
      for (let c = 0; c < C; c++) counts[c] += mask[c];
    }
    for (let c = 0; c < C; c++) rows.push({ selection: label, channel: c, relativeError: errors[c], probabilityQuantized: counts[c] / draws });
  }
  return { rows, errors, kernel };
}

/** Rows {method, ratio, testAccuracy} after each SQ stage, from a run's variants (stageAccuracies). */
export function stageRows(variants: Array<Record<string, unknown>>, ratios: readonly number[] = [0.5, 0.75, 0.875, 1]): Row[] {
  return variants.flatMap((v) => {
    const acc = v.stageAccuracies as number[] | undefined;
    return acc ? acc.map((a, i) => ({ method: String(v.name), ratio: ratios[i], testAccuracy: a })) : [];
  });
}

/** Final accuracy of the single-stage methods (fp, bwn, twn), as dashed reference lines for sqStages. */
export function stageBaselines(variants: Array<Record<string, unknown>>): Array<{ name: string; value: number }> {
  return variants.filter((v) => !v.stageAccuracies).map((v) => ({ name: String(v.name), value: v.testAccuracy as number }));
}
