/**
 * Code books: how the values of one stored tensor are rebuilt from integer codes and a few float32 numbers.
 * Pure JavaScript on Float32Arrays (no tfjs), so a decoder in any language can follow docs/packed-format.md.
 *
 * Every kind below decodes to float32 values with exactly the bit patterns the layer used at inference; the
 * encoder (encode.ts) checks that, code by code, and falls back to another kind when it does not hold.
 *
 *   float32      no codes; the values themselves                                         floats: n
 *   levels       value = table[code]                                                     floats: the table
 *   binary       value = code ? +s : -s   (s = 1 when there are no scales)               floats: scales
 *   ternary      value = 0, +s, -s for code 0, 1, 2                                      floats: scales
 *   fixed-point  value = k·delta, k = code - (2^(bits-1) - 1) if signed, else k = code   (delta in the header)
 *   pow2         value = table[code], table = [0 if withZero] ++ [+2^e] ++ [-2^e if signed], e = emin..m ascending
 *   inq          value = table[code], table = [0] ++ [+2^e] ++ [-2^e], e = n1 - 2^(bits-2) + 1 .. n1 ascending
 *   affine       value = code·scale + offset (float32 ops, in that order)               floats: [scale, offset]
 *
 * Scales of binary and ternary: none, one for the whole tensor, or one per output channel (the last axis,
 * tfjs's layout for dense [in, out] and conv [kh, kw, in, out] kernels). `fullPrecisionChannels` (stochastic
 * quantization, whose unselected channels keep their float weights) lists output channels whose values are
 * stored as float32 after the scales, in element order; their codes are 0 and ignored.
 */

export type Codebook =
  | { kind: 'float32' }
  | { kind: 'levels'; bits: number; count: number }
  | { kind: 'binary'; scales: number; fullPrecisionChannels?: number[] }
  | { kind: 'ternary'; scales: number; fullPrecisionChannels?: number[] }
  | { kind: 'fixed-point'; bits: number; delta: number; signed: boolean }
  | { kind: 'pow2'; bits: number; m: number; signed: boolean; withZero: boolean }
  | { kind: 'inq'; bits: number; n1: number }
  | { kind: 'affine'; bits: number };

export type CodebookKind = Codebook['kind'];

export const CODEBOOK_KINDS: readonly CodebookKind[] = [
  'float32', 'levels', 'binary', 'ternary', 'fixed-point', 'pow2', 'inq', 'affine',
];

/** A tensor in coded form: codes (one per element, absent for float32) and the float32 numbers that go with them. */
export interface Encoded {
  codebook: Codebook;
  codes: Uint16Array | null;
  floats: Float32Array;
}

const f32 = Math.fround;

/** Bits per code of a code book (0 for float32). */
export function codeBits(cb: Codebook): number {
  switch (cb.kind) {
    case 'float32': return 0;
    case 'binary': return 1;
    case 'ternary': return 2;
    default: return cb.bits;
  }
}

/** Number of output channels of a tensor (last axis; 1 for rank <= 1). */
export function channelsOf(shape: readonly number[]): number {
  return shape.length >= 2 ? shape[shape.length - 1] : 1;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** How many float32 numbers a code book stores for a tensor of this shape. */
export function floatCount(cb: Codebook, shape: readonly number[]): number {
  switch (cb.kind) {
    case 'float32': return sizeOf(shape);
    case 'levels': return cb.count;
    case 'binary':
    case 'ternary': {
      const fp = cb.fullPrecisionChannels?.length ?? 0;
      return cb.scales + (fp * sizeOf(shape)) / channelsOf(shape);
    }
    case 'affine': return 2;
    default: return 0;
  }
}

/** The value table of the table-like kinds (code -> value), or null for the per-channel kinds and float32. */
export function valueTable(cb: Codebook, floats: Float32Array): Float32Array | null {
  switch (cb.kind) {
    case 'levels': return Float32Array.from(floats.subarray(0, cb.count));
    case 'fixed-point': {
      const d = f32(cb.delta);
      const k0 = cb.signed ? 2 ** (cb.bits - 1) - 1 : 0;
      const n = cb.signed ? 2 ** cb.bits - 1 : 2 ** cb.bits;
      const t = new Float32Array(n);
      for (let c = 0; c < n; c++) t[c] = f32((c - k0) * d);
      return t;
    }
    case 'pow2': {
      const nPrime = cb.bits - (cb.signed ? 1 : 0) - (cb.withZero ? 1 : 0);
      const emin = cb.m - (2 ** nPrime - 1);
      const mags: number[] = [];
      for (let e = emin; e <= cb.m; e++) mags.push(f32(2 ** e));
      return Float32Array.from([...(cb.withZero ? [0] : []), ...mags, ...(cb.signed ? mags.map((v) => -v) : [])]);
    }
    case 'inq': {
      const mags: number[] = [];
      for (let e = cb.n1 - 2 ** (cb.bits - 2) + 1; e <= cb.n1; e++) mags.push(f32(2 ** e));
      return Float32Array.from([0, ...mags, ...mags.map((v) => -v)]);
    }
    case 'affine': {
      const [scale, offset] = [floats[0], floats[1]];
      const n = 2 ** cb.bits;
      const t = new Float32Array(n);
      for (let c = 0; c < n; c++) t[c] = f32(f32(c * scale) + offset);
      return t;
    }
    default: return null;
  }
}

/** Rebuild the float32 values of a tensor of `shape` from its codes and floats. */
export function decode(cb: Codebook, shape: readonly number[], codes: Uint16Array | null, floats: Float32Array): Float32Array {
  const n = sizeOf(shape);
  if (cb.kind === 'float32') {
    if (floats.length !== n) throw new Error(`float32 tensor: expected ${n} values, got ${floats.length}`);
    return Float32Array.from(floats);
  }
  if (!codes || codes.length !== n) throw new Error(`${cb.kind} tensor: expected ${n} codes, got ${codes?.length ?? 0}`);
  const out = new Float32Array(n);
  if (cb.kind === 'binary' || cb.kind === 'ternary') {
    const C = channelsOf(shape);
    if (!(cb.scales === 0 || cb.scales === 1 || cb.scales === C)) throw new Error(`${cb.kind}: ${cb.scales} scales for ${C} output channels`);
    const fp = new Map<number, number>((cb.fullPrecisionChannels ?? []).map((c, k) => [c, k]));
    const perChannel = n / C;
    const fpCount = new Array<number>(fp.size).fill(0);
    const fpValue = (c: number): number => {
      const k = fp.get(c) as number;
      // Channel k's values follow the scales in element order: element j of the channel at scales + k·perChannel + j.
      return floats[cb.scales + k * perChannel + fpCount[k]++];
    };
    for (let i = 0; i < n; i++) {
      const c = i % C;
      if (fp.has(c)) {
        out[i] = fpValue(c);
        continue;
      }
      const s = cb.scales === 0 ? 1 : floats[cb.scales === 1 ? 0 : c];
      const code = codes[i];
      if (cb.kind === 'binary') out[i] = code ? s : -s;
      else if (code === 0) out[i] = 0;
      else if (code === 1) out[i] = s;
      else if (code === 2) out[i] = -s;
      else throw new Error(`ternary: code ${code} at element ${i} (valid codes: 0, 1, 2)`);
    }
    return out;
  }
  const table = valueTable(cb, floats) as Float32Array;
  for (let i = 0; i < n; i++) {
    const code = codes[i];
    if (code >= table.length) throw new Error(`${cb.kind}: code ${code} at element ${i} is outside its table of ${table.length} values`);
    out[i] = table[code];
  }
  return out;
}
