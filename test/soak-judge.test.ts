import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judge } from '../src/experiments/soak';
import { lineRise, median } from '../src/util/stats';

const series = (rss: number[], tensors = rss.map(() => 155)) =>
  rss.map((r, i) => ({ step: (i + 1) * 50, rssMiB: r, numTensors: tensors[i], numBytesMiB: 1.5 }));

test('lineRise: the least-squares line through collinear points rises by their rise; a flat set by 0', () => {
  assert.equal(lineRise([0, 1, 2, 3], [10, 12, 14, 16]), 6);
  assert.equal(lineRise([0, 1, 2], [5, 5, 5]), 0);
  // (0,0), (1,3), (2,0): slope 0, so a lone peak does not rise
  assert.equal(lineRise([0, 1, 2], [0, 3, 0]), 0);
});

test('median: the middle value, or the mean of the two middle ones', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('judge: a transient RSS peak that falls back is reported but bounded; a steady rise is not', () => {
  const peak = judge(series([300, 350, 357, 357, 357, 417, 357, 357]), 64);
  assert.equal(peak.rssSecondHalfPeakMiB, 60);
  assert.equal(peak.rssSecondHalfEndMinusStartMiB, 0);
  assert.equal(peak.rssSecondHalfTrendMiB, -18); // slope -6 per sample over 3 sample steps
  assert.equal(peak.rssSecondHalfGrowthMiB, 0);
  assert.ok(peak.bounded && peak.flat);
  // 20 MiB per sample over the second half (4 samples): end minus start 60, line rise 60, both under 64 ...
  assert.ok(judge(series([300, 300, 300, 300, 300, 320, 340, 360]), 64).bounded);
  // ... and 30 per sample: 90 > 64
  const leak = judge(series([300, 300, 300, 300, 300, 330, 360, 390]), 64);
  assert.equal(leak.rssSecondHalfGrowthMiB, 90);
  assert.equal(leak.bounded, false);
});

test('judge: one tensor more after the first epoch is not flat', () => {
  const v = judge(series([300, 300, 300, 300], [150, 155, 155, 156]), 64);
  assert.equal(v.tensorsMin, 155);
  assert.equal(v.tensorsMax, 156);
  assert.equal(v.flat, false);
});
