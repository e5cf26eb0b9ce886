/**
 * qnnlab's low-bit inference kernels, compiled to WebAssembly (assembly/qnn.wasm) by AssemblyScript:
 * `npm run build:wasm`. The same module runs in Node and in a browser. docs/inference.md describes the
 * strategies and bit layouts; src/inference/engine.ts lays the weights out and calls these functions.
 *
 * Memory: the host owns the linear memory above heapBase() and passes byte addresses; nothing here allocates.
 * Activations are NHWC float32 (tfjs's layout) or, for binary activations, bit-packed per pixel (see
 * signPack). All kernels take "pixels" p = (n, oh, ow) in row-major order.
 *
 * Float-activation convolutions (dense layers are convolutions whose kernel covers the whole input map):
 *   the input is already zero-padded (padNHWC), so every tap is inside; outputs are computed in blocks of 8
 *   output channels for two pixels at a time (four f32x4 accumulators), the weights of one block being one
 *   entry per (kh, kw, c):
 *     convF32   8 float32 (32 bytes)                                    the float control
 *     convLut1  8 one-bit codes (1 byte): nibble -> f32x4 via a 16-entry table of the 2 levels
 *     convLut2  8 two-bit codes (2 bytes): byte -> f32x4 via a 256-entry table of the (up to) 4 levels
 *     convSum1  1-bit codes: sum of the inputs whose code is 1 (masked adds), combined with the patch sum
 *     convSum2  2-bit codes as two bit planes: sums over plane 0, plane 1 and both, combined per output with
 *               the levels (M - 1 grouped sums, M multiplications per output)
 *   then y = acc·scale[o] + shift[o] and the activation (0: none, 1: ReLU, 2: sign ±1 floats, 3: sign as bits,
 *   y > 0 -> 1, packed 32 channels per u32 word as signPack writes them).
 * Binary × binary: convXnor, XNOR-popcount on 64-bit words of the bit-packed patch; maxPoolBits pools bits.
 */

// ---------------------------------------------------------------------------------------------------------
// Memory and glue

/** First byte the host may use (everything below holds this module's static data). */
export function heapBase(): usize {
  return __heap_base;
}

/** Copy NHWC [N, H, W, C] float32 into [N, H + pt + pb, W + pl + pr, C] with zero borders. */
export function padNHWC(inp: usize, out: usize, N: i32, H: i32, W: i32, C: i32, pt: i32, pb: i32, pl: i32, pr: i32): void {
  const Hp = H + pt + pb;
  const Wp = W + pl + pr;
  const rowIn = <usize>(W * C) << 2;
  memory.fill(out, 0, (<usize>N * Hp * Wp * C) << 2);
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < H; h++) {
      const dst = out + ((<usize>((n * Hp + h + pt) * Wp + pl) * C) << 2);
      const src = inp + ((<usize>((n * H + h) * W) * C) << 2);
      memory.copy(dst, src, rowIn);
    }
  }
}

/** y = x·scale[c] + shift[c], then the activation (0 none, 1 ReLU, 2 sign: +1 if > 0 else -1); in place allowed. */
export function affineAct(inp: usize, out: usize, P: i32, C: i32, scale: usize, shift: usize, act: i32): void {
  for (let p = 0; p < P; p++) {
    const base = <usize>(p * C) << 2;
    for (let c = 0; c < C; c++) {
      let y = load<f32>(inp + base + (<usize>c << 2)) * load<f32>(scale + (<usize>c << 2)) + load<f32>(shift + (<usize>c << 2));
      if (act == 1) y = y > 0 ? y : 0;
      else if (act == 2) y = y > 0 ? 1 : -1;
      store<f32>(out + base + (<usize>c << 2), y);
    }
  }
}

/** Binary activations as bits: x > 0 -> 1 (+1), else 0 (-1), [P, C] float32 -> [P, ceil(C/32)] u32, unused bits 0. */
export function signPack(inp: usize, out: usize, P: i32, C: i32): void {
  const CW = (C + 31) >> 5;
  const zero = f32x4.splat(0);
  for (let p = 0; p < P; p++) {
    const src = inp + ((<usize>p * C) << 2);
    const dst = out + ((<usize>p * CW) << 2);
    for (let w = 0; w < CW; w++) {
      const c0 = w << 5;
      const c1 = min(C, c0 + 32);
      let word: u32 = 0;
      let c = c0;
      for (; c + 4 <= c1; c += 4) {
        const m = <u32>i32x4.bitmask(f32x4.gt(v128.load(src + (<usize>c << 2)), zero));
        word |= m << <u32>(c - c0);
      }
      for (; c < c1; c++) {
        if (load<f32>(src + (<usize>c << 2)) > 0) word |= (<u32>1) << <u32>(c - c0);
      }
      store<u32>(dst + (<usize>w << 2), word);
    }
  }
}

/** Max-pooling, NHWC, window ph×pw, strides sh×sw, top/left padding pt/pl (padded cells are ignored). */
export function maxPool(inp: usize, out: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32,
  ph: i32, pw: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  const C4 = C & ~3;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const dst = out + ((<usize>(((n * OH + oh) * OW + ow) * C)) << 2);
        const h0 = max(0, oh * sh - pt);
        const h1 = min(H, oh * sh - pt + ph);
        const w0 = max(0, ow * sw - pl);
        const w1 = min(W, ow * sw - pl + pw);
        const first = inp + ((<usize>(((n * H + h0) * W + w0) * C)) << 2);
        for (let c = 0; c < C; c++) store<f32>(dst + (<usize>c << 2), load<f32>(first + (<usize>c << 2)));
        for (let h = h0; h < h1; h++) {
          for (let w = w0; w < w1; w++) {
            if (h == h0 && w == w0) continue;
            const src = inp + ((<usize>(((n * H + h) * W + w) * C)) << 2);
            let c = 0;
            for (; c < C4; c += 4) {
              const o = <usize>c << 2;
              v128.store(dst + o, f32x4.max(v128.load(dst + o), v128.load(src + o)));
            }
            for (; c < C; c++) {
              const o = <usize>c << 2;
              const a = load<f32>(dst + o);
              const b = load<f32>(src + o);
              store<f32>(dst + o, b > a ? b : a);
            }
          }
        }
      }
    }
  }
}

/** Look-up table for 2-bit codes: entry b (a byte of four codes, lane i = bits 2i..2i+1) = f32x4 of levels. */
export function buildLut2(levels: usize, lut: usize): void {
  for (let b = 0; b < 256; b++) {
    for (let i = 0; i < 4; i++) {
      store<f32>(lut + (<usize>(b * 4 + i) << 2), load<f32>(levels + (<usize>((b >> (2 * i)) & 3) << 2)));
    }
  }
}

/** Look-up table for 1-bit codes: entry b (a nibble of four codes, lane i = bit i) = f32x4 of levels[0] / levels[1]. */
export function buildLut1(levels: usize, lut: usize): void {
  for (let b = 0; b < 16; b++) {
    for (let i = 0; i < 4; i++) {
      store<f32>(lut + (<usize>(b * 4 + i) << 2), load<f32>(levels + (<usize>((b >> i) & 1) << 2)));
    }
  }
}

/** Lane masks for 4 bits: entry b = i32x4 with lane i all ones when bit i of b is set (for the grouped sums). */
export function buildMask4(lut: usize): void {
  for (let b = 0; b < 16; b++) {
    for (let i = 0; i < 4; i++) store<i32>(lut + (<usize>(b * 4 + i) << 2), ((b >> i) & 1) ? -1 : 0);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Float-activation convolutions

// @ts-ignore: decorator
@inline function epilogue(out: usize, p: i32, O: i32, o0: i32, a: v128, b: v128, scale: usize, shift: usize, act: i32, tmp: usize): void {
  const so = <usize>o0 << 2;
  let ya = f32x4.add(f32x4.mul(a, v128.load(scale + so)), v128.load(shift + so));
  let yb = f32x4.add(f32x4.mul(b, v128.load(scale + so, 16)), v128.load(shift + so, 16));
  if (act == 3) {
    // Bits: output o is bit (o & 31) of u32 word o >> 5 of pixel p's [ceil(O/32)] words; lanes past O stay 0.
    const z = f32x4.splat(0);
    let bits = <u32>(i32x4.bitmask(f32x4.gt(ya, z)) | (i32x4.bitmask(f32x4.gt(yb, z)) << 4));
    if (o0 + 8 > O) bits &= (<u32>1 << <u32>(O - o0)) - 1;
    const word = out + ((<usize>(p * ((O + 31) >> 5) + (o0 >> 5))) << 2);
    const sh = <u32>(o0 & 31);
    // Blocks of a pixel come in order of o0: the first block of a word writes it, the others OR into it.
    store<u32>(word, sh == 0 ? bits : load<u32>(word) | (bits << sh));
    return;
  }
  if (act == 1) {
    const z = f32x4.splat(0);
    ya = v128.bitselect(ya, z, f32x4.gt(ya, z));
    yb = v128.bitselect(yb, z, f32x4.gt(yb, z));
  } else if (act == 2) {
    const z = f32x4.splat(0);
    const one = f32x4.splat(1);
    const neg = f32x4.splat(-1);
    ya = v128.bitselect(one, neg, f32x4.gt(ya, z));
    yb = v128.bitselect(one, neg, f32x4.gt(yb, z));
  }
  const dst = out + ((<usize>(p * O + o0)) << 2);
  if (o0 + 8 <= O) {
    v128.store(dst, ya);
    v128.store(dst, yb, 16);
  } else {
    v128.store(tmp, ya);
    v128.store(tmp, yb, 16);
    memory.copy(dst, tmp, <usize>(O - o0) << 2);
  }
}

/** Byte address of pixel p's patch origin in a padded NHWC input. */
// @ts-ignore: decorator
@inline function patchOrigin(inp: usize, p: i32, OH: i32, OW: i32, Hp: i32, Wp: i32, C: i32, sh: i32, sw: i32): usize {
  const hw = OH * OW;
  const n = p / hw;
  const r = p - n * hw;
  const oh = r / OW;
  const ow = r - oh * OW;
  return inp + ((<usize>(((n * Hp + oh * sh) * Wp + ow * sw) * C)) << 2);
}

/**
 * Convolution of a zero-padded NHWC input with weights of kind K: f32 (float32), u8 (1-bit codes through a
 * 16-entry table), u16 (2-bit codes through a 256-entry table). Weights: [ceil(O/8)][KH][KW·C] entries.
 * scale/shift hold ceil(O/8)·8 floats. tmp: 32 bytes of scratch.
 */
// @ts-ignore: decorator
@inline function convLutImpl<K>(inp: usize, N: i32, Hp: i32, Wp: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32,
  sh: i32, sw: i32, w: usize, O: i32, lut: usize, scale: usize, shift: usize, act: i32, out: usize, tmp: usize): void {
  const P = N * OH * OW;
  const row = KW * C;
  const nBlk = (O + 7) >> 3;
  const esz: usize = isFloat<K>() ? 32 : sizeof<K>();
  const blkBytes: usize = <usize>(KH * row) * esz;
  const rowStride: usize = <usize>(Wp * C) << 2;
  for (let p = 0; p < P; p += 2) {
    const q = p + 1 < P ? p + 1 : p;
    const b0 = patchOrigin(inp, p, OH, OW, Hp, Wp, C, sh, sw);
    const b1 = patchOrigin(inp, q, OH, OW, Hp, Wp, C, sh, sw);
    for (let blk = 0; blk < nBlk; blk++) {
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let c0 = f32x4.splat(0);
      let c1 = f32x4.splat(0);
      let wp = w + <usize>blk * blkBytes;
      for (let kh = 0; kh < KH; kh++) {
        let x0 = b0 + <usize>kh * rowStride;
        let x1 = b1 + <usize>kh * rowStride;
        const end = x0 + (<usize>row << 2);
        while (x0 < end) {
          const v0 = v128.load32_splat(x0);
          const v1 = v128.load32_splat(x1);
          let wa: v128;
          let wb: v128;
          if (isFloat<K>()) {
            wa = v128.load(wp);
            wb = v128.load(wp, 16);
          } else if (sizeof<K>() == 2) {
            const code = <usize>load<u16>(wp);
            wa = v128.load(lut + ((code & 255) << 4));
            wb = v128.load(lut + ((code >> 8) << 4));
          } else {
            const code = <usize>load<u8>(wp);
            wa = v128.load(lut + ((code & 15) << 4));
            wb = v128.load(lut + ((code >> 4) << 4));
          }
          a0 = f32x4.add(a0, f32x4.mul(v0, wa));
          a1 = f32x4.add(a1, f32x4.mul(v0, wb));
          c0 = f32x4.add(c0, f32x4.mul(v1, wa));
          c1 = f32x4.add(c1, f32x4.mul(v1, wb));
          x0 += 4;
          x1 += 4;
          wp += esz;
        }
      }
      epilogue(out, p, O, blk << 3, a0, a1, scale, shift, act, tmp);
      if (q != p) epilogue(out, q, O, blk << 3, c0, c1, scale, shift, act, tmp);
    }
  }
}

export function convF32(inp: usize, N: i32, Hp: i32, Wp: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32,
  sh: i32, sw: i32, w: usize, O: i32, scale: usize, shift: usize, act: i32, out: usize, tmp: usize): void {
  convLutImpl<f32>(inp, N, Hp, Wp, C, OH, OW, KH, KW, sh, sw, w, O, 0, scale, shift, act, out, tmp);
}

export function convLut1(inp: usize, N: i32, Hp: i32, Wp: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32,
  sh: i32, sw: i32, w: usize, O: i32, lut: usize, scale: usize, shift: usize, act: i32, out: usize, tmp: usize): void {
  convLutImpl<u8>(inp, N, Hp, Wp, C, OH, OW, KH, KW, sh, sw, w, O, lut, scale, shift, act, out, tmp);
}

export function convLut2(inp: usize, N: i32, Hp: i32, Wp: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32,
  sh: i32, sw: i32, w: usize, O: i32, lut: usize, scale: usize, shift: usize, act: i32, out: usize, tmp: usize): void {
  convLutImpl<u16>(inp, N, Hp, Wp, C, OH, OW, KH, KW, sh, sw, w, O, lut, scale, shift, act, out, tmp);
}

/**
 * Weights of one-input-channel convolutions (convC1), decoded from a block layout (the one convF32 / convLut1 /
 * convLut2 read: [ceil(O/8)][T][8 lanes], T = KH·KW) into a float table [T][Opad], Opad = ceil(O/4)·4, zeros past
 * O. kind 0: float32 entries; 1: 1-bit codes (byte, bit i = lane i) through levels[2]; 2: 2-bit codes (u16,
 * lane i = bits 2i..2i+1) through levels[4]. Run per call into the workspace: the codes stay what is resident.
 */
export function decodeBlocks(kind: i32, w: usize, levels: usize, T: i32, O: i32, dst: usize): void {
  const Opad = (O + 3) & ~3;
  const nBlk = (O + 7) >> 3;
  memory.fill(dst, 0, <usize>(T * Opad) << 4);
  for (let blk = 0; blk < nBlk; blk++) {
    for (let t = 0; t < T; t++) {
      const e = blk * T + t;
      for (let i = 0; i < 8; i++) {
        const o = (blk << 3) + i;
        if (o >= O) break;
        let v: f32;
        if (kind == 0) v = load<f32>(w + ((<usize>(e * 8 + i)) << 2));
        else if (kind == 1) v = load<f32>(levels + ((<usize>((load<u8>(w + <usize>e) >> <u8>i) & 1)) << 2));
        else v = load<f32>(levels + ((<usize>((load<u16>(w + (<usize>e << 1)) >> <u16>(2 * i)) & 3)) << 2));
        v128.store(dst + ((<usize>(t * Opad + o)) << 4), f32x4.splat(v));
      }
    }
  }
}

// @ts-ignore: decorator
@inline function epilogue4(out: usize, p: i32, O: i32, o0: i32, a: v128, scale: usize, shift: usize, act: i32, tmp: usize): void {
  const so = <usize>o0 << 2;
  let y = f32x4.add(f32x4.mul(a, v128.load(scale + so)), v128.load(shift + so));
  const z = f32x4.splat(0);
  if (act == 3) {
    let bits = <u32>i32x4.bitmask(f32x4.gt(y, z));
    if (o0 + 4 > O) bits &= (<u32>1 << <u32>(O - o0)) - 1;
    const word = out + ((<usize>(p * ((O + 31) >> 5) + (o0 >> 5))) << 2);
    const sh = <u32>(o0 & 31);
    store<u32>(word, sh == 0 ? bits : load<u32>(word) | (bits << sh));
    return;
  }
  if (act == 1) y = v128.bitselect(y, z, f32x4.gt(y, z));
  else if (act == 2) y = v128.bitselect(f32x4.splat(1), f32x4.splat(-1), f32x4.gt(y, z));
  const dst = out + ((<usize>(p * O + o0)) << 2);
  if (o0 + 4 <= O) {
    v128.store(dst, y);
  } else {
    v128.store(tmp, y);
    memory.copy(dst, tmp, <usize>(O - o0) << 2);
  }
}

/**
 * Convolution of a zero-padded one-channel input (a grayscale image: the first layer), horizontal stride 1.
 * With one channel, eight neighbouring output pixels read eight consecutive input floats per tap, so the pixels
 * go in the lanes (two f32x4) and four output channels are computed at once (eight accumulators): per tap two
 * input loads and four weight broadcasts feed 32 multiply-adds. wtab: decodeBlocks's table. The lanes are
 * transposed to NHWC before the epilogue. Reads up to 8 floats past the end of the input (the workspace leaves
 * room).
 */
export function convC1(inp: usize, N: i32, Hp: i32, Wp: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32,
  wtab: usize, O: i32, scale: usize, shift: usize, act: i32, out: usize, tmp: usize): void {
  const Opad = (O + 3) & ~3;
  const tapStride = <usize>Opad << 4;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const row0 = inp + ((<usize>((n * Hp + oh * sh) * Wp)) << 2);
      for (let ow0 = 0; ow0 < OW; ow0 += 8) {
        const p0 = (n * OH + oh) * OW + ow0;
        const nPix = min(8, OW - ow0);
        for (let o0 = 0; o0 < O; o0 += 4) {
          let a0 = f32x4.splat(0);
          let a1 = f32x4.splat(0);
          let a2 = f32x4.splat(0);
          let a3 = f32x4.splat(0);
          let b0 = f32x4.splat(0);
          let b1 = f32x4.splat(0);
          let b2 = f32x4.splat(0);
          let b3 = f32x4.splat(0);
          let wp = wtab + (<usize>o0 << 4);
          for (let kh = 0; kh < KH; kh++) {
            const x = row0 + ((<usize>(kh * Wp + ow0)) << 2);
            for (let kw = 0; kw < KW; kw++) {
              const xa = v128.load(x + (<usize>kw << 2));
              const xb = v128.load(x + (<usize>kw << 2), 16);
              const w0 = v128.load(wp);
              const w1 = v128.load(wp, 16);
              const w2 = v128.load(wp, 32);
              const w3 = v128.load(wp, 48);
              a0 = f32x4.add(a0, f32x4.mul(xa, w0));
              a1 = f32x4.add(a1, f32x4.mul(xa, w1));
              a2 = f32x4.add(a2, f32x4.mul(xa, w2));
              a3 = f32x4.add(a3, f32x4.mul(xa, w3));
              b0 = f32x4.add(b0, f32x4.mul(xb, w0));
              b1 = f32x4.add(b1, f32x4.mul(xb, w1));
              b2 = f32x4.add(b2, f32x4.mul(xb, w2));
              b3 = f32x4.add(b3, f32x4.mul(xb, w3));
              wp += tapStride;
            }
          }
          // Transpose: a_j lane k (output o0 + j, pixel k) -> pixel k's four outputs.
          const t0 = v128.shuffle<i32>(a0, a1, 0, 4, 1, 5);
          const t1 = v128.shuffle<i32>(a0, a1, 2, 6, 3, 7);
          const t2 = v128.shuffle<i32>(a2, a3, 0, 4, 1, 5);
          const t3 = v128.shuffle<i32>(a2, a3, 2, 6, 3, 7);
          const u0 = v128.shuffle<i32>(b0, b1, 0, 4, 1, 5);
          const u1 = v128.shuffle<i32>(b0, b1, 2, 6, 3, 7);
          const u2 = v128.shuffle<i32>(b2, b3, 0, 4, 1, 5);
          const u3 = v128.shuffle<i32>(b2, b3, 2, 6, 3, 7);
          epilogue4(out, p0, O, o0, v128.shuffle<i32>(t0, t2, 0, 1, 4, 5), scale, shift, act, tmp);
          if (nPix > 1) epilogue4(out, p0 + 1, O, o0, v128.shuffle<i32>(t0, t2, 2, 3, 6, 7), scale, shift, act, tmp);
          if (nPix > 2) epilogue4(out, p0 + 2, O, o0, v128.shuffle<i32>(t1, t3, 0, 1, 4, 5), scale, shift, act, tmp);
          if (nPix > 3) epilogue4(out, p0 + 3, O, o0, v128.shuffle<i32>(t1, t3, 2, 3, 6, 7), scale, shift, act, tmp);
          if (nPix > 4) epilogue4(out, p0 + 4, O, o0, v128.shuffle<i32>(u0, u2, 0, 1, 4, 5), scale, shift, act, tmp);
          if (nPix > 5) epilogue4(out, p0 + 5, O, o0, v128.shuffle<i32>(u0, u2, 2, 3, 6, 7), scale, shift, act, tmp);
          if (nPix > 6) epilogue4(out, p0 + 6, O, o0, v128.shuffle<i32>(u1, u3, 0, 1, 4, 5), scale, shift, act, tmp);
          if (nPix > 7) epilogue4(out, p0 + 7, O, o0, v128.shuffle<i32>(u1, u3, 2, 3, 6, 7), scale, shift, act, tmp);
        }
      }
    }
  }
}

/**
 * Grouped sums (the papers' "M multiplications per output"): for each output, the inputs are summed by code
 * bit plane with masked adds, and the levels are applied once per output. With 2-bit codes c = b0 + 2·b1 and
 * levels l0..l3, Σ l[c_k]·x_k = l0·T + (l1 - l0)·S0 + (l2 - l0)·S1 + (l3 - l2 - l1 + l0)·S01, where T is the
 * patch sum, S0 / S1 the sums over bit 0 / bit 1 and S01 over both. `coef` holds [l0, l1 - l0, l2 - l0,
 * l3 - l2 - l1 + l0] (four floats; the per-channel scales of BWN / TWN are in `scale`); `planes`
 * (convSum2): bit 2 set when S01 is needed (M = 4; ternary and M = 3 never use code 3). Weights: per block and (kh, kw, c) one byte of plane 0
 * then one byte of plane 1 (bit i = output 8·blk + i). mask4: 16 lane masks (buildMask4).
 */
// @ts-ignore: decorator
@inline function convSumImpl(twoBit: bool, inp: usize, N: i32, Hp: i32, Wp: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32,
  sh: i32, sw: i32, w: usize, O: i32, mask4: usize, coef: usize, planes: i32, scale: usize, shift: usize, act: i32,
  out: usize, tmp: usize): void {
  const P = N * OH * OW;
  const row = KW * C;
  const nBlk = (O + 7) >> 3;
  const esz: usize = twoBit ? 2 : 1;
  const blkBytes: usize = <usize>(KH * row) * esz;
  const rowStride: usize = <usize>(Wp * C) << 2;
  const k0 = v128.load32_splat(coef);
  const k1 = v128.load32_splat(coef, 4);
  const k2 = v128.load32_splat(coef, 8);
  const k3 = v128.load32_splat(coef, 12);
  const useS01 = (planes & 4) != 0;
  for (let p = 0; p < P; p++) {
    const b0 = patchOrigin(inp, p, OH, OW, Hp, Wp, C, sh, sw);
    // Patch sum T, shared by every output channel.
    let t: f32 = 0;
    for (let kh = 0; kh < KH; kh++) {
      let x = b0 + <usize>kh * rowStride;
      const end = x + (<usize>row << 2);
      while (x < end) {
        t += load<f32>(x);
        x += 4;
      }
    }
    const tv = f32x4.splat(t);
    for (let blk = 0; blk < nBlk; blk++) {
      let s0a = f32x4.splat(0);
      let s0b = f32x4.splat(0);
      let s1a = f32x4.splat(0);
      let s1b = f32x4.splat(0);
      let s2a = f32x4.splat(0);
      let s2b = f32x4.splat(0);
      let wp = w + <usize>blk * blkBytes;
      for (let kh = 0; kh < KH; kh++) {
        let x = b0 + <usize>kh * rowStride;
        const end = x + (<usize>row << 2);
        while (x < end) {
          const v = f32x4.splat(load<f32>(x));
          const p0 = <usize>load<u8>(wp);
          const m0a = v128.load(mask4 + ((p0 & 15) << 4));
          const m0b = v128.load(mask4 + ((p0 >> 4) << 4));
          s0a = f32x4.add(s0a, v128.and(v, m0a));
          s0b = f32x4.add(s0b, v128.and(v, m0b));
          if (twoBit) {
            const p1 = <usize>load<u8>(wp, 1);
            const m1a = v128.load(mask4 + ((p1 & 15) << 4));
            const m1b = v128.load(mask4 + ((p1 >> 4) << 4));
            s1a = f32x4.add(s1a, v128.and(v, m1a));
            s1b = f32x4.add(s1b, v128.and(v, m1b));
            if (useS01) {
              s2a = f32x4.add(s2a, v128.and(v, v128.and(m0a, m1a)));
              s2b = f32x4.add(s2b, v128.and(v, v128.and(m0b, m1b)));
            }
          }
          x += 4;
          wp += esz;
        }
      }
      let ra = f32x4.add(f32x4.mul(tv, k0), f32x4.mul(s0a, k1));
      let rb = f32x4.add(f32x4.mul(tv, k0), f32x4.mul(s0b, k1));
      if (twoBit) {
        ra = f32x4.add(ra, f32x4.mul(s1a, k2));
        rb = f32x4.add(rb, f32x4.mul(s1b, k2));
        if (useS01) {
          ra = f32x4.add(ra, f32x4.mul(s2a, k3));
          rb = f32x4.add(rb, f32x4.mul(s2b, k3));
        }
      }
      epilogue(out, p, O, blk << 3, ra, rb, scale, shift, act, tmp);
    }
  }
}

export function convSum1(inp: usize, N: i32, Hp: i32, Wp: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32,
  sh: i32, sw: i32, w: usize, O: i32, mask4: usize, coef: usize, scale: usize, shift: usize, act: i32, out: usize, tmp: usize): void {
  convSumImpl(false, inp, N, Hp, Wp, C, OH, OW, KH, KW, sh, sw, w, O, mask4, coef, 1, scale, shift, act, out, tmp);
}

export function convSum2(inp: usize, N: i32, Hp: i32, Wp: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32,
  sh: i32, sw: i32, w: usize, O: i32, mask4: usize, coef: usize, planes: i32, scale: usize, shift: usize, act: i32,
  out: usize, tmp: usize): void {
  convSumImpl(true, inp, N, Hp, Wp, C, OH, OW, KH, KW, sh, sw, w, O, mask4, coef, planes, scale, shift, act, out, tmp);
}

// ---------------------------------------------------------------------------------------------------------
// Binary weights × binary activations

// @ts-ignore: decorator
@inline function appendBits(buf: usize, pos: i32, word: u64, bits: i32): void {
  const idx = <usize>(pos >> 6) << 3;
  const s = <u64>(pos & 63);
  store<u64>(buf + idx, load<u64>(buf + idx) | (word << s));
  if (<i32>s + bits > 64) store<u64>(buf + idx, load<u64>(buf + idx, 8) | (word >> (64 - s)), 8);
}

/**
 * XNOR-popcount convolution. Input: bit-packed activations [N, H, W, ceil(C/32)] u32 (signPack: bit 1 = +1).
 * Weights: per output channel the K = KH·KW·C bits of its kernel in (kh, kw, c) order, bit 1 = +1, packed
 * into ceil(K/64) u64 words, unused bits 0. Per output pixel the patch is gathered into the same layout; taps
 * outside the input (padding) are left out with a mask, as zero padding does: the dot product of the valid
 * taps is (valid bits) - 2·popcount((patch XOR kernel) AND mask), exact. Output float32 NHWC through
 * scale/shift/act. scratch: 16·ceil(K/64) bytes.
 */
export function convXnor(inp: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32,
  sh: i32, sw: i32, pt: i32, pl: i32, w: usize, O: i32, scale: usize, shift: usize, act: i32, out: usize, scratch: usize): void {
  const CW = (C + 31) >> 5;
  const K = KH * KW * C;
  const nw = (K + 63) >> 6;
  const wBytes = <usize>nw << 3;
  const patch = scratch;
  const mask = scratch + wBytes;
  const taps = KH * KW;
  // With C a multiple of 8 every tap starts on a byte, so an interior pixel's patch is a copy of C/8 bytes per
  // tap (little-endian words: channel c is bit c & 7 of byte c >> 3), with no shifts and no mask.
  const tapBytes: usize = (C & 7) == 0 ? <usize>(C >> 3) : 0;
  const pixelBytes: usize = <usize>CW << 2;
  const outWords = (O + 31) >> 5;
  memory.fill(patch, 0, wBytes << 1);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const ih0 = oh * sh - pt;
        const iw0 = ow * sw - pl;
        const inside = ih0 >= 0 && ih0 + KH <= H && iw0 >= 0 && iw0 + KW <= W;
        let nValid = taps;
        if (inside && tapBytes == 2) {
          // C = 16 (LeNet's conv2): one u16 per tap, no checks.
          let d = patch;
          for (let kh = 0; kh < KH; kh++) {
            let src = inp + <usize>(((n * H + ih0 + kh) * W + iw0) * CW) * 4;
            for (let kw = 0; kw < KW; kw++) {
              store<u16>(d, load<u16>(src));
              d += 2;
              src += pixelBytes;
            }
          }
        } else if (tapBytes != 0) {
          // Byte-aligned taps: copied. At the border, padded taps keep zero bytes and a zero mask.
          if (!inside) {
            for (let i: usize = 0; i < wBytes << 1; i += 8) store<u64>(patch + i, 0);
            nValid = 0;
          }
          let dst: usize = 0;
          for (let kh = 0; kh < KH; kh++) {
            const ih = ih0 + kh;
            let src = inp + <usize>(((n * H + ih) * W + iw0) * CW) * 4;
            for (let kw = 0; kw < KW; kw++) {
              const iw = iw0 + kw;
              if (inside || (ih >= 0 && ih < H && iw >= 0 && iw < W)) {
                if (tapBytes == 2) store<u16>(patch + dst, load<u16>(src));
                else if (tapBytes == 4) store<u32>(patch + dst, load<u32>(src));
                else memory.copy(patch + dst, src, tapBytes);
                if (!inside) {
                  for (let b: usize = 0; b < tapBytes; b++) store<u8>(mask + dst + b, 0xff);
                  nValid++;
                }
              }
              dst += tapBytes;
              src += pixelBytes;
            }
          }
        } else {
          for (let i: usize = 0; i < wBytes << 1; i += 8) store<u64>(patch + i, 0);
          let pos = 0;
          nValid = 0;
          for (let kh = 0; kh < KH; kh++) {
            const ih = ih0 + kh;
            for (let kw = 0; kw < KW; kw++) {
              const iw = iw0 + kw;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) {
                pos += C;
                continue;
              }
              nValid++;
              const src = inp + ((<usize>(((n * H + ih) * W + iw) * CW)) << 2);
              for (let cw = 0; cw < CW; cw++) {
                const bits = min(32, C - (cw << 5));
                appendBits(patch, pos, <u64>load<u32>(src + (<usize>cw << 2)), bits);
                appendBits(mask, pos, bits == 32 ? <u64>0xffffffff : ((<u64>1 << <u64>bits) - 1), bits);
                pos += bits;
              }
            }
          }
        }
        const valid = nValid * C;
        const p = (n * OH + oh) * OW + ow;
        const full = nValid == taps;
        let word: u32 = 0;
        // Up to 8 words (K <= 512: LeNet's 5x5x16) the patch stays in registers and the word loop is unrolled.
        const x0 = load<u64>(patch);
        const x1 = nw > 1 ? load<u64>(patch, 8) : 0;
        const x2 = nw > 2 ? load<u64>(patch, 16) : 0;
        const x3 = nw > 3 ? load<u64>(patch, 24) : 0;
        const x4 = nw > 4 ? load<u64>(patch, 32) : 0;
        const x5 = nw > 5 ? load<u64>(patch, 40) : 0;
        const x6 = nw > 6 ? load<u64>(patch, 48) : 0;
        const x7 = nw > 7 ? load<u64>(patch, 56) : 0;
        for (let o = 0; o < O; o++) {
          const wo = w + <usize>o * wBytes;
          let m: i32 = 0;
          if (full && nw <= 8) {
            switch (nw) {
              case 8: m += <i32>popcnt<u64>(x7 ^ load<u64>(wo, 56));
              case 7: m += <i32>popcnt<u64>(x6 ^ load<u64>(wo, 48));
              case 6: m += <i32>popcnt<u64>(x5 ^ load<u64>(wo, 40));
              case 5: m += <i32>popcnt<u64>(x4 ^ load<u64>(wo, 32));
              case 4: m += <i32>popcnt<u64>(x3 ^ load<u64>(wo, 24));
              case 3: m += <i32>popcnt<u64>(x2 ^ load<u64>(wo, 16));
              case 2: m += <i32>popcnt<u64>(x1 ^ load<u64>(wo, 8));
              default: m += <i32>popcnt<u64>(x0 ^ load<u64>(wo));
            }
          } else if (full) {
            for (let i: usize = 0; i < wBytes; i += 8) m += <i32>popcnt<u64>(load<u64>(patch + i) ^ load<u64>(wo + i));
          } else {
            for (let i: usize = 0; i < wBytes; i += 8) m += <i32>popcnt<u64>((load<u64>(patch + i) ^ load<u64>(wo + i)) & load<u64>(mask + i));
          }
          let y = <f32>(valid - 2 * m) * load<f32>(scale + (<usize>o << 2)) + load<f32>(shift + (<usize>o << 2));
          if (act == 3) {
            word |= (<u32>(y > 0)) << <u32>(o & 31); // branch-free: the sign of y is a coin flip to a predictor
            if ((o & 31) == 31 || o == O - 1) {
              store<u32>(out + ((<usize>(p * outWords + (o >> 5))) << 2), word);
              word = 0;
            }
            continue;
          }
          if (act == 1) y = y > 0 ? y : 0;
          else if (act == 2) y = y > 0 ? 1 : -1;
          store<f32>(out + ((<usize>(p * O + o)) << 2), y);
        }
      }
    }
  }
}

/**
 * Max-pooling of bit-packed ±1 activations [N, H, W, ceil(C/32)] u32: the max of ±1 values is +1 when any is,
 * so a window's max is the OR of its words (padded cells are ignored, as in maxPool).
 */
export function maxPoolBits(inp: usize, out: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32,
  ph: i32, pw: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  const CW = (C + 31) >> 5;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = max(0, oh * sh - pt);
      const h1 = min(H, oh * sh - pt + ph);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = max(0, ow * sw - pl);
        const w1 = min(W, ow * sw - pl + pw);
        const dst = out + ((<usize>(((n * OH + oh) * OW + ow) * CW)) << 2);
        for (let c = 0; c < CW; c++) {
          let v: u32 = 0;
          for (let h = h0; h < h1; h++) {
            for (let x = w0; x < w1; x++) v |= load<u32>(inp + ((<usize>(((n * H + h) * W + x) * CW + c)) << 2));
          }
          store<u32>(dst + (<usize>c << 2), v);
        }
      }
    }
  }
}
