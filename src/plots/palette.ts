/**
 * One colour per method/variant name, the same in every chart and notebook, so "twn" is always the same
 * orange whether it appears in a bar chart or a curve. Known names (the project's methods and priors) get
 * hand-picked colours: a family shares a hue, its variants differ in lightness (bwn dark, sq-bwn light).
 * Other names get a colour chosen by a hash of the name (stable across runs), moved on to the next free one
 * when it is already taken in the same chart.
 */

/** Tableau 10: readable on white and distinguishable for most colour-vision deficiencies. */
const FALLBACK = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** Keys are normalized names (see `normalize`); values mostly Tableau 20 dark/light pairs. */
const KNOWN: Record<string, string> = {
  // full precision: the baseline, near black
  fp: '#333333',
  fp32: '#333333',
  float: '#333333',
  fwn: '#333333',
  fullprecision: '#333333',
  // binary (nnabla): blues
  binary: '#4e79a7',
  binaryconnect: '#4e79a7',
  binarynet: '#a0cbe8',
  binaryweight: '#1f3f66',
  xnor: '#1f3f66',
  // binary / ternary weight networks and their stochastic quantization (SQ) versions
  bwn: '#499894',
  sqbwn: '#86bcb6',
  ternary: '#f28e2b',
  twn: '#f28e2b',
  sqtwn: '#ffbe7d',
  // fixed point and learned range
  fixedpoint: '#59a14f',
  fixedpointconnect: '#59a14f',
  fixedpointnet: '#8cd17d',
  minmax: '#b6992d',
  // powers of two
  pow2: '#b07aa1',
  pow2connect: '#b07aa1',
  pow2net: '#d4a6c8',
  inq: '#7b4a73',
  // M-ary and Bayesian priors
  mary: '#d37295',
  gaussian: '#9d7660',
  spikeslab: '#ff9d9a',
  spikeandslab: '#ff9d9a',
  multispikeslab: '#e15759',
  multispikeandslab: '#e15759',
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

function known(name: string): string | undefined {
  return KNOWN[normalize(name)];
}

/** The colour of one method/variant name on its own. */
export function colorFor(name: string): string {
  return known(name) ?? FALLBACK[hash(normalize(name)) % FALLBACK.length];
}

/**
 * A vega-lite colour scale that pins each name to its colour (domain order = legend order). Known names
 * keep theirs; an unknown name whose hashed colour is already used in this chart takes the next unused one.
 */
export function colorScale(names: string[]): { domain: string[]; range: string[] } {
  const used = new Set(names.map(known).filter((c): c is string => c != null));
  const range = names.map((name) => {
    const fixed = known(name);
    if (fixed) return fixed;
    const start = hash(normalize(name)) % FALLBACK.length;
    for (let i = 0; i < FALLBACK.length; i++) {
      const c = FALLBACK[(start + i) % FALLBACK.length];
      if (!used.has(c)) {
        used.add(c);
        return c;
      }
    }
    return FALLBACK[start]; // more unknown names than colours: repeats are unavoidable
  });
  return { domain: names, range };
}
