/**
 * The byte container of a packed model (docs/packed-format.md):
 *
 *   offset  size  field
 *   0       4     magic "QNNP"
 *   4       2     format version, uint16 little-endian
 *   6       2     flags, uint16 LE (bit 0: the header is zlib-deflated; other bits 0)
 *   8       4     header length H in bytes, uint32 LE
 *   12      4     body length B in bytes, uint32 LE
 *   16      4     CRC-32 of bytes [20, 20 + H + B), uint32 LE
 *   20      H     header: UTF-8 JSON (deflated when flag bit 0 is set)
 *   20 + H  B     body: packed codes and float32 numbers (little-endian), at the offsets the header gives
 *
 * `readContainer` checks, in this order and before anything is decoded: length >= 20, magic, version (a newer
 * version is refused), flags, the total length 20 + H + B (shorter: truncated; longer: trailing bytes), the
 * CRC, then inflates and parses the header.
 */
import * as zlib from 'node:zlib';
import { crc32 } from './crc32';

export const MAGIC = 'QNNP';
/** The file name extension of packed models. */
export const PACKED_EXTENSION = '.qnnp';
/** The version this code writes and the newest it reads. */
export const FORMAT_VERSION = 1;
export const PREFIX_BYTES = 20;
export const FLAG_DEFLATED_HEADER = 1;

/** A packed model that cannot be read: truncated, corrupted, not a packed model, or from a newer version. */
export class PackedFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PackedFormatError';
  }
}

export interface Container {
  version: number;
  flags: number;
  header: unknown;
  /** Stored (possibly deflated) header length in bytes. */
  headerBytes: number;
  body: Uint8Array;
}

/** Assemble prefix, deflated header and body. */
export function writeContainer(header: unknown, body: Uint8Array): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const h = zlib.deflateSync(json, { level: 9 });
  const out = new Uint8Array(PREFIX_BYTES + h.length + body.length);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = MAGIC.charCodeAt(i);
  dv.setUint16(4, FORMAT_VERSION, true);
  dv.setUint16(6, FLAG_DEFLATED_HEADER, true);
  dv.setUint32(8, h.length, true);
  dv.setUint32(12, body.length, true);
  out.set(h, PREFIX_BYTES);
  out.set(body, PREFIX_BYTES + h.length);
  dv.setUint32(16, crc32(out.subarray(PREFIX_BYTES)), true);
  return out;
}

/** A container checked up to its CRC, with the stored header not yet inflated or parsed. */
export interface RawContainer {
  version: number;
  flags: number;
  /** The stored header bytes (zlib-deflated when `flags & FLAG_DEFLATED_HEADER`). */
  rawHeader: Uint8Array;
  body: Uint8Array;
}

/**
 * Every check of the prefix (length, magic, version, flags, total length, CRC-32), without inflating the header:
 * what a reader without synchronous zlib (a browser, src/export/browser.ts) shares with `readContainer`.
 */
export function splitContainer(bytes: Uint8Array, what = 'packed model'): RawContainer {
  if (!(bytes instanceof Uint8Array)) throw new PackedFormatError(`${what}: expected bytes (a Uint8Array or Buffer).`);
  if (bytes.length < PREFIX_BYTES) {
    throw new PackedFormatError(`${what} is truncated: ${bytes.length} bytes, shorter than the ${PREFIX_BYTES}-byte prefix.`);
  }
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (magic !== MAGIC) throw new PackedFormatError(`${what} is not a qnnlab packed model (magic ${JSON.stringify(magic)}, expected "${MAGIC}").`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint16(4, true);
  if (version > FORMAT_VERSION) {
    throw new PackedFormatError(`${what} has format version ${version}, newer than this qnnlab reads (${FORMAT_VERSION}): upgrade qnnlab.`);
  }
  if (version < 1) throw new PackedFormatError(`${what} has format version ${version}; versions start at 1.`);
  const flags = dv.getUint16(6, true);
  if ((flags & ~FLAG_DEFLATED_HEADER) !== 0) throw new PackedFormatError(`${what} sets unknown flags 0x${flags.toString(16)}.`);
  const headerBytes = dv.getUint32(8, true);
  const bodyBytes = dv.getUint32(12, true);
  const expected = PREFIX_BYTES + headerBytes + bodyBytes;
  if (bytes.length < expected) {
    throw new PackedFormatError(`${what} is truncated: ${bytes.length} bytes, the prefix announces ${expected} ` +
      `(${PREFIX_BYTES} + header ${headerBytes} + body ${bodyBytes}).`);
  }
  if (bytes.length > expected) {
    throw new PackedFormatError(`${what} has ${bytes.length - expected} bytes after its end (${expected} bytes announced).`);
  }
  const stored = dv.getUint32(16, true);
  const actual = crc32(bytes.subarray(PREFIX_BYTES));
  if (stored !== actual) {
    throw new PackedFormatError(`${what} is corrupted: CRC-32 0x${actual.toString(16).padStart(8, '0')}, ` +
      `the file says 0x${stored.toString(16).padStart(8, '0')}.`);
  }
  return {
    version, flags,
    rawHeader: bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerBytes),
    body: bytes.subarray(PREFIX_BYTES + headerBytes, expected),
  };
}

/** The header's JSON text -> the parsed header (PackedFormatError when it is not JSON). */
export function parseHeaderJson(text: string, what = 'packed model'): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new PackedFormatError(`${what}: the header is not JSON (${(e as Error).message}).`);
  }
}

/** Check and split a packed model; throws PackedFormatError with what is wrong. */
export function readContainer(bytes: Uint8Array, what = 'packed model'): Container {
  const c = splitContainer(bytes, what);
  let text: string;
  try {
    text = (c.flags & FLAG_DEFLATED_HEADER ? zlib.inflateSync(c.rawHeader) : Buffer.from(c.rawHeader)).toString('utf8');
  } catch (e) {
    throw new PackedFormatError(`${what}: the header does not inflate (${(e as Error).message}).`);
  }
  return { version: c.version, flags: c.flags, header: parseHeaderJson(text, what), headerBytes: c.rawHeader.length, body: c.body };
}
