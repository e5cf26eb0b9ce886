/**
 * Fixed-width integer codes packed into bytes, least significant bit first: code i occupies bits
 * [i·b, (i+1)·b) of the stream, bit j of the stream is bit (j mod 8) of byte floor(j / 8). n codes of b bits
 * take ceil(n·b / 8) bytes; the unused high bits of the last byte are zero.
 */

/** Bytes needed for `count` codes of `bits` bits. */
export function packedByteLength(count: number, bits: number): number {
  return Math.ceil((count * bits) / 8);
}

function checkBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) throw new Error(`bit packing: bits must be an integer in 1..16, got ${bits}`);
}

/** Pack codes (each in 0 .. 2^bits - 1) into bytes. */
export function packBits(codes: ArrayLike<number>, bits: number): Uint8Array {
  checkBits(bits);
  const out = new Uint8Array(packedByteLength(codes.length, bits));
  const limit = 2 ** bits;
  let bitPos = 0;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (!(Number.isInteger(c) && c >= 0 && c < limit)) throw new Error(`bit packing: code ${c} at ${i} does not fit in ${bits} bits`);
    let v = c;
    let left = bits;
    while (left > 0) {
      const byte = bitPos >>> 3;
      const shift = bitPos & 7;
      const take = Math.min(left, 8 - shift);
      out[byte] |= (v & ((1 << take) - 1)) << shift;
      v >>>= take;
      left -= take;
      bitPos += take;
    }
  }
  return out;
}

/** Unpack `count` codes of `bits` bits from `bytes` (which must hold at least packedByteLength bytes). */
export function unpackBits(bytes: Uint8Array, bits: number, count: number): Uint16Array {
  checkBits(bits);
  if (bytes.length < packedByteLength(count, bits)) {
    throw new Error(`bit packing: ${count} codes of ${bits} bits need ${packedByteLength(count, bits)} bytes, got ${bytes.length}`);
  }
  const out = new Uint16Array(count);
  let bitPos = 0;
  for (let i = 0; i < count; i++) {
    let v = 0;
    let got = 0;
    while (got < bits) {
      const byte = bitPos >>> 3;
      const shift = bitPos & 7;
      const take = Math.min(bits - got, 8 - shift);
      v |= ((bytes[byte] >>> shift) & ((1 << take) - 1)) << got;
      got += take;
      bitPos += take;
    }
    out[i] = v;
  }
  return out;
}
