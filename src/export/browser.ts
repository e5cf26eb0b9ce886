/**
 * Reading a packed model without Node: the same checks and decoding as unpackModel / unpackPosterior
 * (unpack.ts), with the header inflated by the web platform's DecompressionStream('deflate') (zlib, RFC 1950),
 * which browsers and Node >= 18 both have. The demo page (src/demo/page.ts) loads its models with it.
 * Importing this module registers qnnlab's layer classes (through unpack.ts); a bundler must stub the Node
 * modules that unpack.ts and container.ts import for their Node-only functions (src/demo/build.ts does).
 */
import type * as tf from '@tensorflow/tfjs';
import { FLAG_DEFLATED_HEADER, PackedFormatError, parseHeaderJson, splitContainer } from './container';
import { checkHeader, type PackedHeader } from './header';
import { decodePosterior, type PackedPosterior } from './posterior';
import { buildWithWeights, decodeTensors } from './unpack';

/** zlib-inflate with the web platform's DecompressionStream. */
export async function inflateWeb(data: Uint8Array): Promise<Uint8Array> {
  const DS = (globalThis as unknown as { DecompressionStream?: new (format: string) => TransformStream<Uint8Array, Uint8Array> }).DecompressionStream;
  if (!DS) throw new Error('DecompressionStream is not available (a browser from 2023 or later, or Node 18+, has it)');
  const stream = new Blob([data]).stream().pipeThrough(new DS('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export interface UnpackedInBrowser {
  model: tf.LayersModel;
  header: PackedHeader;
  /** The σ section, decoded (null when the file has none). */
  posterior: PackedPosterior | null;
  totalBytes: number;
  headerBytes: number;
  bodyBytes: number;
  posteriorBytes: number;
}

/** The deployed model (and its posterior σ, if stored) of packed bytes; throws PackedFormatError as unpackModel does. */
export async function unpackModelAsync(bytes: Uint8Array, what = 'packed model'): Promise<UnpackedInBrowser> {
  const c = splitContainer(bytes, what);
  let text: string;
  try {
    const raw = c.flags & FLAG_DEFLATED_HEADER ? await inflateWeb(c.rawHeader) : c.rawHeader;
    text = new TextDecoder('utf-8').decode(raw);
  } catch (e) {
    throw new PackedFormatError(`${what}: the header does not inflate (${(e as Error).message}).`);
  }
  const header = checkHeader(parseHeaderJson(text, what), c.body.length, what);
  const weights = decodeTensors(header, c.body, what);
  const posterior = decodePosterior(header, c.body, what);
  const model = buildWithWeights(header.modelClass, header.modelConfig, weights, what);
  return {
    model, header, posterior, totalBytes: bytes.length, headerBytes: c.rawHeader.length, bodyBytes: c.body.length,
    posteriorBytes: posterior?.bytes ?? 0,
  };
}
