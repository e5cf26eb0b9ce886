/**
 * Encoding one tensor with a code book (codebooks.ts), checked: the codes and floats are decoded again and
 * compared value by value with the input; a code book that does not reproduce every value is rejected, and
 * `encodeWithFallback` then stores the tensor in the smallest form that does (a table of its distinct values,
 * else float32) and says why. Signed zeros are not kept (-0 is stored as 0): they cannot change a sum.
 */
import { Codebook, Encoded, channelsOf, decode, valueTable } from './codebooks';

/** A code book to try, with what it needs beyond the values (per-channel or learned floats). */
export type CodebookRequest =
  | { kind: 'float32' }
  | { kind: 'levels'; table: Float32Array }
  | { kind: 'binary' | 'ternary'; scales: 'none' | 'tensor' | 'channel'; fullPrecisionChannels?: number[] }
  | { kind: 'fixed-point'; bits: number; delta: number; signed: boolean }
  | { kind: 'pow2'; bits: number; m: number; signed: boolean; withZero: boolean }
  | { kind: 'inq'; bits: number }
  | { kind: 'affine'; bits: number; scale: number; offset: number };

const f32 = Math.fround;
const bitsView = new Uint32Array(1);
const floatView = new Float32Array(bitsView.buffer);

/** float32 bit pattern of v, with -0 folded into +0 (the key of a value in a table). */
function key(v: number): number {
  floatView[0] = v === 0 ? 0 : v;
  return bitsView[0];
}

function sameValues(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) {
    if (!(a[i] === b[i] || (Number.isNaN(a[i]) && Number.isNaN(b[i])))) return i;
  }
  return -1;
}

/** Codes of `values` in `table` (by float32 value); null when a value is not in the table. */
function lookup(values: Float32Array, table: Float32Array): Uint16Array | null {
  const index = new Map<number, number>();
  for (let c = table.length - 1; c >= 0; c--) index.set(key(table[c]), c); // first code wins for duplicates
  const codes = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const c = index.get(key(values[i]));
    if (c === undefined) return null;
    codes[i] = c;
  }
  return codes;
}

/** floor(log2 a) for a finite a > 0, exact. */
function floorLog2(a: number): number {
  let k = Math.floor(Math.log2(a));
  if (2 ** k > a) k -= 1;
  else if (2 ** (k + 1) <= a) k += 1;
  return k;
}

function sign(values: Float32Array, shape: readonly number[], req: Extract<CodebookRequest, { kind: 'binary' | 'ternary' }>): Encoded | null {
  const n = values.length;
  const C = channelsOf(shape);
  const fpList = [...new Set(req.fullPrecisionChannels ?? [])].sort((a, b) => a - b);
  if (fpList.some((c) => !(Number.isInteger(c) && c >= 0 && c < C))) return null;
  const fp = new Set(fpList);
  const S = req.scales === 'none' ? 0 : req.scales === 'tensor' ? 1 : C;
  const scales = new Float32Array(S);
  if (S > 0) {
    for (let i = 0; i < n; i++) {
      const c = i % C;
      if (fp.has(c)) continue;
      const g = S === 1 ? 0 : c;
      scales[g] = Math.max(scales[g], Math.abs(values[i]));
    }
  }
  const perChannel = n / C;
  const fpValues = new Float32Array(fpList.length * perChannel);
  const fpSeen = new Array<number>(fpList.length).fill(0);
  const fpIndex = new Map(fpList.map((c, k) => [c, k]));
  const codes = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % C;
    const v = values[i];
    if (fp.has(c)) {
      const k = fpIndex.get(c) as number;
      fpValues[k * perChannel + fpSeen[k]++] = v;
      continue;
    }
    if (req.kind === 'binary') codes[i] = v > 0 || Object.is(v, 0) ? 1 : 0;
    else codes[i] = v > 0 ? 1 : v < 0 ? 2 : 0;
  }
  const floats = new Float32Array(S + fpValues.length);
  floats.set(scales, 0);
  floats.set(fpValues, S);
  const codebook: Extract<Codebook, { kind: 'binary' | 'ternary' }> = { kind: req.kind, scales: S };
  if (fpList.length > 0) codebook.fullPrecisionChannels = fpList;
  return { codebook, codes, floats };
}

/** Try one code book; null when it cannot represent every value exactly. */
export function tryEncode(values: Float32Array, shape: readonly number[], req: CodebookRequest): Encoded | null {
  let enc: Encoded | null;
  switch (req.kind) {
    case 'float32':
      return { codebook: { kind: 'float32' }, codes: null, floats: Float32Array.from(values) };
    case 'binary':
    case 'ternary':
      enc = sign(values, shape, req);
      break;
    case 'levels': {
      const count = req.table.length;
      if (count < 1 || count > 2 ** 16) return null;
      const bits = Math.max(1, Math.ceil(Math.log2(count)));
      const codebook: Codebook = { kind: 'levels', bits, count };
      const table = Float32Array.from(req.table);
      const codes = lookup(values, table);
      enc = codes && { codebook, codes, floats: table };
      break;
    }
    case 'fixed-point':
    case 'pow2': {
      if (req.bits > 16) return null;
      const codebook: Codebook = req.kind === 'pow2'
        ? { kind: 'pow2', bits: req.bits, m: req.m, signed: req.signed, withZero: req.withZero }
        : { kind: 'fixed-point', bits: req.bits, delta: req.delta, signed: req.signed };
      const codes = lookup(values, valueTable(codebook, new Float32Array(0)) as Float32Array);
      enc = codes && { codebook, codes, floats: new Float32Array(0) };
      break;
    }
    case 'inq': {
      if (req.bits < 2 || req.bits > 16) return null;
      let maxAbs = 0;
      for (let i = 0; i < values.length; i++) maxAbs = Math.max(maxAbs, Math.abs(values[i]));
      const n1 = maxAbs > 0 && Number.isFinite(maxAbs) ? floorLog2(maxAbs) : 0;
      const codebook: Codebook = { kind: 'inq', bits: req.bits, n1 };
      const codes = lookup(values, valueTable(codebook, new Float32Array(0)) as Float32Array);
      enc = codes && { codebook, codes, floats: new Float32Array(0) };
      break;
    }
    case 'affine': {
      if (req.bits > 16) return null;
      const codebook: Codebook = { kind: 'affine', bits: req.bits };
      const floats = Float32Array.from([f32(req.scale), f32(req.offset)]);
      const codes = lookup(values, valueTable(codebook, floats) as Float32Array);
      enc = codes && { codebook, codes, floats };
      break;
    }
  }
  if (!enc) return null;
  return sameValues(decode(enc.codebook, shape, enc.codes, enc.floats), values) === -1 ? enc : null;
}

/** The distinct values of a tensor, ascending (-0 folded into 0); null when there are more than `limit`. */
export function distinctValues(values: Float32Array, limit: number): Float32Array | null {
  const seen = new Map<number, number>();
  for (let i = 0; i < values.length; i++) {
    const k = key(values[i]);
    if (!seen.has(k)) {
      if (seen.size >= limit) return null;
      seen.set(k, values[i] === 0 ? 0 : values[i]);
    }
  }
  return Float32Array.from([...seen.values()].sort((a, b) => a - b));
}

export interface EncodeResult extends Encoded {
  /** Why the requested code book was not used (absent when it was). */
  fallback?: string;
}

/**
 * Encode with the requested code book; if it does not reproduce the values, with a table of the distinct
 * values when there are at most 2^maxBits of them, else as float32. `strict` throws instead of falling back.
 */
export function encodeWithFallback(
  values: Float32Array, shape: readonly number[], req: CodebookRequest, opts: { maxBits: number; what: string; strict?: boolean },
): EncodeResult {
  const enc = tryEncode(values, shape, req);
  if (enc) return enc;
  const reason = `the values are not all representable by the '${req.kind}' code book`;
  if (opts.strict) throw new Error(`${opts.what}: ${reason} (strict packing)`);
  const maxBits = Math.min(16, Math.max(1, opts.maxBits));
  const table = distinctValues(values, 2 ** maxBits);
  if (table) {
    const lv = tryEncode(values, shape, { kind: 'levels', table });
    if (lv) return { ...lv, fallback: `${reason}; stored as a table of its ${table.length} distinct values` };
  }
  return { ...(tryEncode(values, shape, { kind: 'float32' }) as Encoded), fallback: `${reason}; stored as float32` };
}
