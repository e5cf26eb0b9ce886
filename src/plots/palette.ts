/**
 * One colour per method/variant name, the same in every chart and notebook, so "TWN" is always the same
 * orange whether it appears in a bar chart or a curve. Known names get hand-picked colours; unknown names
 * get a colour from a fixed list chosen by a hash of the name (stable across runs, no global state).
 */

/** Tableau 10, readable on white and distinguishable for most colour-vision deficiencies. */
const FALLBACK = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** Keys are normalized names (see `normalize`). Families share hues: binary blues, ternary oranges, ... */
const KNOWN: Record<string, string> = {
  fp32: '#555555',
  float: '#555555',
  fwn: '#555555',
  fullprecision: '#555555',
  binary: '#4e79a7',
  bwn: '#4e79a7',
  xnor: '#4e79a7',
  sqbwn: '#1f3f66',
  ternary: '#f28e2b',
  twn: '#f28e2b',
  sqtwn: '#a0520c',
  fixedpoint: '#59a14f',
  fixed: '#59a14f',
  minmax: '#8cd17d',
  pow2: '#b07aa1',
  inq: '#7b4a73',
  mary: '#e15759',
  gaussian: '#76b7b2',
  spikeslab: '#e15759',
  spikeandslab: '#e15759',
  multispikeslab: '#9c2a2c',
  multispikeandslab: '#9c2a2c',
};

/** Lower-case and drop everything but letters and digits: "SQ-BWN", "sq_bwn" and "SQ BWN" are one name. */
function normalize(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** FNV-1a: a tiny stable string hash. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The colour of one method/variant name. */
export function colorFor(name: string): string {
  const key = normalize(name);
  return KNOWN[key] ?? FALLBACK[hash(key) % FALLBACK.length];
}

/** A vega-lite colour scale that pins each name to its colour (domain order = legend order). */
export function colorScale(names: string[]): { domain: string[]; range: string[] } {
  return { domain: names, range: names.map(colorFor) };
}
