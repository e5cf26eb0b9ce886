/**
 * The quantized inference engine: a packed model's layer list (plan.ts) compiled into calls of the
 * WebAssembly kernels of assembly/qnn.ts, with the weights laid out once in the module's memory as the
 * kernels read them (codes stay codes). No tfjs and no Node modules: the same code runs in a browser, given
 * the module's bytes. docs/inference.md describes the kernels and layouts.
 *
 *   const engine = await InferenceEngine.create(wasmBytes);            // or loadInferenceEngine() in Node
 *   const net = engine.compile(modelIR(header, body));                 // or compileModel(model) in Node
 *   const logits = net.predict(images, batch);                         // Float32Array, NHWC input
 */
import type { CodedKernel, LayerIR, ModelIR } from './plan';

/** Which kernels run the quantized layers. */
export type KernelSet =
  /** Low-bit kernels: XNOR-popcount for binary × binary, code-table kernels for low-bit weights × float inputs. */
  | 'lowbit'
  /** Every layer in float32 (weights decoded): the same net, the same engine, float arithmetic (the control). */
  | 'float32';

/** How low-bit weights meet float inputs. */
export type FloatInputStrategy =
  /** Codes -> float lanes through a small table (16 or 256 entries of four levels), then multiply-add. */
  | 'lut'
  /** Masked sums of the inputs by code bit plane, the levels applied once per output (M multiplies per output). */
  | 'grouped';

export interface CompileOptions {
  kernels?: KernelSet;
  strategy?: FloatInputStrategy;
}

/** What one compiled step runs (describe()). */
export interface StepInfo {
  name: string;
  kernel: 'convC1' | 'convF32' | 'convLut1' | 'convLut2' | 'convSum1' | 'convSum2' | 'convXnor' | 'affine' | 'signPack' | 'maxPool' | 'maxPoolBits';
  outShape: [number, number, number];
  /** Output as bits (binary activations packed 32 channels per word). */
  outBits: boolean;
  /** Epilogue activation fused into the step ('bits': the sign, written as packed bits). */
  act?: 'none' | 'relu' | 'sign' | 'bits';
}

export interface ResidentBytes {
  /** Bytes of codes (bit-packed kernels) resident in the module's memory. */
  codes: number;
  /** Bytes of float32 numbers resident: float kernels, levels, fused scales and shifts. */
  floats: number;
  total: number;
}

interface Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  heapBase(): number;
  padNHWC(inp: number, out: number, N: number, H: number, W: number, C: number, pt: number, pb: number, pl: number, pr: number): void;
  affineAct(inp: number, out: number, P: number, C: number, scale: number, shift: number, act: number): void;
  signPack(inp: number, out: number, P: number, C: number): void;
  maxPool(inp: number, out: number, N: number, H: number, W: number, C: number, OH: number, OW: number, ph: number, pw: number, sh: number, sw: number, pt: number, pl: number): void;
  maxPoolBits(inp: number, out: number, N: number, H: number, W: number, C: number, OH: number, OW: number, ph: number, pw: number, sh: number, sw: number, pt: number, pl: number): void;
  buildLut2(levels: number, lut: number): void;
  buildLut1(levels: number, lut: number): void;
  buildMask4(lut: number): void;
  convF32(inp: number, N: number, Hp: number, Wp: number, C: number, OH: number, OW: number, KH: number, KW: number, sh: number, sw: number,
    w: number, O: number, scale: number, shift: number, act: number, out: number, tmp: number): void;
  convLut1(inp: number, N: number, Hp: number, Wp: number, C: number, OH: number, OW: number, KH: number, KW: number, sh: number, sw: number,
    w: number, O: number, lut: number, scale: number, shift: number, act: number, out: number, tmp: number): void;
  convLut2(inp: number, N: number, Hp: number, Wp: number, C: number, OH: number, OW: number, KH: number, KW: number, sh: number, sw: number,
    w: number, O: number, lut: number, scale: number, shift: number, act: number, out: number, tmp: number): void;
  convSum1(inp: number, N: number, Hp: number, Wp: number, C: number, OH: number, OW: number, KH: number, KW: number, sh: number, sw: number,
    w: number, O: number, mask4: number, coef: number, scale: number, shift: number, act: number, out: number, tmp: number): void;
  convSum2(inp: number, N: number, Hp: number, Wp: number, C: number, OH: number, OW: number, KH: number, KW: number, sh: number, sw: number,
    w: number, O: number, mask4: number, coef: number, planes: number, scale: number, shift: number, act: number, out: number, tmp: number): void;
  decodeBlocks(kind: number, w: number, levels: number, T: number, O: number, dst: number): void;
  convC1(inp: number, N: number, Hp: number, Wp: number, OH: number, OW: number, KH: number, KW: number, sh: number,
    wtab: number, O: number, scale: number, shift: number, act: number, out: number, tmp: number): void;
  convXnor(inp: number, N: number, H: number, W: number, C: number, OH: number, OW: number, KH: number, KW: number, sh: number, sw: number,
    pt: number, pl: number, w: number, O: number, scale: number, shift: number, act: number, out: number, scratch: number): void;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  compile(bytes: Uint8Array): Promise<object>;
}

const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
const PAGE = 65536;
const SLACK = 64;
/** Epilogue activations (assembly/qnn.ts): `bits` is the sign written as packed bits for an XNOR layer. */
const ACT = { none: 0, relu: 1, sign: 2, bits: 3 } as const;

interface Workspace {
  N: number;
  input: number;
  bufs: [number, number];
  pad: number;
  lut: number;
  mask4: number;
  tmp: number;
  scratch: number;
}

interface Step {
  info: StepInfo;
  /** Bytes of zero-padded input per example (0: no padding copy). */
  padBytes: number;
  /** Bytes of scratch (patches of the XNOR kernel). */
  scratchBytes: number;
  run(N: number, inp: number, out: number, ws: Workspace): void;
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);
const align16 = (n: number) => Math.ceil(n / 16) * 16;

/** 'same' padding split as TensorFlow does it (the extra row / column at the bottom / right). */
function samePadding(n: number, k: number, s: number): [number, number] {
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + k - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function outLength(n: number, k: number, s: number, pad: 'same' | 'valid'): number {
  return pad === 'same' ? Math.ceil(n / s) : Math.ceil((n - k + 1) / s);
}

/** A WebAssembly instance of the kernels, one per compiled model (each has its own memory). */
class Module {
  readonly x: Exports;
  private top: number;

  constructor(module: object) {
    this.x = new WA.Instance(module, {}).exports as Exports;
    this.top = align16(this.x.heapBase());
  }

  get used(): number {
    return this.top;
  }

  /** Reserve `bytes` (16-byte aligned) above everything reserved so far. */
  alloc(bytes: number): number {
    const at = this.top;
    this.top = align16(at + bytes);
    this.ensure(this.top);
    return at;
  }

  /** Grow the memory to hold at least `end` bytes. */
  ensure(end: number): void {
    const have = this.x.memory.buffer.byteLength;
    if (end > have) this.x.memory.grow(Math.ceil((end - have) / PAGE));
  }

  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.x.memory.buffer, ptr, n);
  }

  u8(ptr: number, n: number): Uint8Array {
    return new Uint8Array(this.x.memory.buffer, ptr, n);
  }

  putF32(values: ArrayLike<number>): number {
    const p = this.alloc(values.length * 4);
    this.f32(p, values.length).set(values);
    return p;
  }

  putU8(values: Uint8Array): number {
    const p = this.alloc(values.length);
    this.u8(p, values.length).set(values);
    return p;
  }
}

/** Weights of one block-of-8 kernel: [ceil(O/8)][KH·KW·C] entries (see assembly/qnn.ts). */
function blockLayout(k: CodedKernel, kind: 'f32' | 'lut1' | 'lut2' | 'sum2'): Uint8Array {
  const [KH, KW, C, O] = k.shape;
  const rows = KH * KW * C;
  const nBlk = ceilDiv(O, 8);
  if (kind === 'f32') {
    const out = new Float32Array(nBlk * rows * 8);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < O; o++) out[((o >> 3) * rows + r) * 8 + (o & 7)] = k.values[r * O + o];
    }
    return new Uint8Array(out.buffer);
  }
  const codes = k.codes as Uint16Array;
  if (kind === 'lut1') {
    const out = new Uint8Array(nBlk * rows);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < O; o++) out[(o >> 3) * rows + r] |= (codes[r * O + o] & 1) << (o & 7);
    }
    return out;
  }
  const out = new Uint8Array(nBlk * rows * 2);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < O; o++) {
      const c = codes[r * O + o];
      const at = ((o >> 3) * rows + r) * 2;
      if (kind === 'lut2') {
        // One u16 (little-endian) per entry, output i at bits 2i..2i+1.
        const bit = 2 * (o & 7);
        out[at + (bit >> 3)] |= (c & 3) << (bit & 7);
      } else {
        // Two bit planes: byte 0 = bit 0 of the codes, byte 1 = bit 1; output i at bit i.
        out[at] |= (c & 1) << (o & 7);
        out[at + 1] |= ((c >> 1) & 1) << (o & 7);
      }
    }
  }
  return out;
}

/** XNOR weights: per output channel its K = KH·KW·C code bits in (kh, kw, c) order, in ceil(K/64) 64-bit words. */
function xnorLayout(k: CodedKernel): Uint8Array {
  const [KH, KW, C, O] = k.shape;
  const K = KH * KW * C;
  const wordBytes = ceilDiv(K, 64) * 8;
  const out = new Uint8Array(O * wordBytes);
  const codes = k.codes as Uint16Array;
  for (let r = 0; r < K; r++) {
    for (let o = 0; o < O; o++) if (codes[r * O + o] & 1) out[o * wordBytes + (r >> 3)] |= 1 << (r & 7);
  }
  return out;
}

/** A compiled model: predict() runs it on the kernels. */
export class CompiledModel {
  private ws: Workspace | null = null;
  private readonly outLen: number;

  constructor(
    private readonly mod: Module,
    private readonly steps: Step[],
    readonly inputShape: [number, number, number],
    readonly outputShape: [number, number, number],
    readonly resident: ResidentBytes,
    readonly options: Required<CompileOptions>,
  ) {
    this.outLen = outputShape[0] * outputShape[1] * outputShape[2];
  }

  /** The steps, their kernels and output shapes. */
  describe(): StepInfo[] {
    return this.steps.map((s) => ({ ...s.info }));
  }

  /** Bytes of the module's memory in use (weights + the workspace of the largest batch run so far). */
  get memoryBytes(): number {
    return this.mod.x.memory.buffer.byteLength;
  }

  private workspace(N: number): Workspace {
    if (this.ws && this.ws.N >= N) return this.ws;
    // Reserved after the weights; a larger batch lays a new workspace out further up (the old one is abandoned,
    // bounded by the largest batch).
    const [H, W, C] = this.inputShape;
    const inBytes = H * W * C * 4 * N;
    let maxOut = 0;
    let maxPad = 0;
    let maxScratch = 0;
    for (const s of this.steps) {
      const [h, w, c] = s.info.outShape;
      maxOut = Math.max(maxOut, N * h * w * (s.info.outBits ? ceilDiv(c, 32) * 4 : c * 4));
      maxPad = Math.max(maxPad, N * s.padBytes);
      maxScratch = Math.max(maxScratch, s.scratchBytes);
    }
    // SLACK: convC1 reads a few floats past the end of its input.
    const ws: Workspace = {
      N,
      input: this.mod.alloc(inBytes + SLACK),
      bufs: [this.mod.alloc(maxOut + SLACK), this.mod.alloc(maxOut + SLACK)],
      pad: this.mod.alloc(maxPad + SLACK),
      lut: this.mod.alloc(256 * 16),
      mask4: this.mod.alloc(16 * 16),
      tmp: this.mod.alloc(32),
      scratch: this.mod.alloc(maxScratch),
    };
    this.mod.x.buildMask4(ws.mask4);
    this.ws = ws;
    return ws;
  }

  /**
   * Run a batch: `x` holds `batch` examples in NHWC order (the tfjs layout of the model's input), the result the
   * batch's outputs (logits), row-major [batch, ...outputShape].
   */
  predict(x: Float32Array, batch: number): Float32Array {
    const [H, W, C] = this.inputShape;
    if (!(Number.isInteger(batch) && batch >= 1)) throw new Error(`predict: batch must be a positive integer, got ${batch}`);
    if (x.length !== batch * H * W * C) throw new Error(`predict: expected ${batch}·${H}·${W}·${C} = ${batch * H * W * C} inputs, got ${x.length}`);
    const ws = this.workspace(batch);
    this.mod.f32(ws.input, x.length).set(x);
    let cur = ws.input;
    for (const s of this.steps) {
      const out = cur === ws.bufs[0] ? ws.bufs[1] : ws.bufs[0];
      s.run(batch, cur, out, ws);
      cur = out;
    }
    return this.mod.f32(cur, batch * this.outLen).slice();
  }

  /**
   * Milliseconds per step (the median of `reps` runs of the whole net, each step timed with `now`), for
   * breakdowns; `now` defaults to performance.now.
   */
  profile(x: Float32Array, batch: number, reps = 5, now: () => number = () => performance.now()): { name: string; kernel: string; ms: number }[] {
    this.predict(x, batch);
    const ws = this.workspace(batch);
    const times = this.steps.map(() => [] as number[]);
    for (let r = 0; r < reps; r++) {
      this.mod.f32(ws.input, x.length).set(x);
      let cur = ws.input;
      this.steps.forEach((s, k) => {
        const out = cur === ws.bufs[0] ? ws.bufs[1] : ws.bufs[0];
        const t0 = now();
        s.run(batch, cur, out, ws);
        times[k].push(now() - t0);
        cur = out;
      });
    }
    return this.steps.map((s, k) => {
      const t = times[k].sort((a, b) => a - b);
      return { name: s.info.name, kernel: s.info.kernel, ms: t[Math.floor(t.length / 2)] };
    });
  }
}

interface State {
  shape: [number, number, number];
  bits: boolean;
}

/** Loads the kernels once; compiles models (each gets its own instance and memory). */
export class InferenceEngine {
  private constructor(private readonly module: object) {}

  /** From the bytes of assembly/qnn.wasm (in Node, loadInferenceEngine() reads them). */
  static async create(wasm: Uint8Array): Promise<InferenceEngine> {
    return new InferenceEngine(await WA.compile(wasm));
  }

  static createSync(wasm: Uint8Array): InferenceEngine {
    return new InferenceEngine(new WA.Module(wasm));
  }

  compile(ir: ModelIR, opts: CompileOptions = {}): CompiledModel {
    const options: Required<CompileOptions> = { kernels: opts.kernels ?? 'lowbit', strategy: opts.strategy ?? 'lut' };
    if (options.kernels !== 'lowbit' && options.kernels !== 'float32') throw new Error(`inference: unknown kernel set '${String(options.kernels)}'`);
    if (options.strategy !== 'lut' && options.strategy !== 'grouped') throw new Error(`inference: unknown strategy '${String(options.strategy)}'`);
    const mod = new Module(this.module);
    const resident: ResidentBytes = { codes: 0, floats: 0, total: 0 };
    const putF32 = (v: ArrayLike<number>) => {
      resident.floats += v.length * 4;
      return mod.putF32(v);
    };
    const putCodes = (v: Uint8Array, isFloat = false) => {
      if (isFloat) resident.floats += v.length;
      else resident.codes += v.length;
      return mod.putU8(v);
    };
    const L = ir.layers;
    const lowbit = options.kernels === 'lowbit';
    /** Does the sign at index j feed (through flattens) a binary-weight layer that can take bits? */
    const signFeedsXnor = (j: number): boolean => {
      if (!lowbit) return false;
      let k = j + 1;
      while (k < L.length && L[k].op === 'flatten') k++;
      const next = L[k];
      return next !== undefined && next.op === 'conv' && next.kernel.bits === 1 && next.kernel.signBinary;
    };
    /**
     * Fold the affine / relu / sign layers after index i into (scale, shift, act); returns the next index to
     * compile. A sign that feeds an XNOR layer becomes `bits`. So does one behind a max-pooling: the sign is
     * monotone, so sign(max(y)) = max(sign(y)), and the pooling then runs on bits (maxPoolBits); the sign's
     * index is returned in `skip`. Bits come only out of convolutions (`bitsOut`); elsewhere such a sign stays
     * a signPack step.
     */
    const fuse = (i: number, scale: Float32Array, shift: Float32Array, bitsOut: boolean): { next: number; act: number; skip: number } => {
      let act: number = ACT.none;
      let j = i + 1;
      while (j < L.length) {
        const l = L[j];
        if (l.op === 'affine' && act === ACT.none) {
          for (let c = 0; c < scale.length; c++) {
            shift[c] = shift[c] * l.scale[c] + l.shift[c];
            scale[c] = scale[c] * l.scale[c];
          }
        } else if (l.op === 'relu' && act === ACT.none) {
          act = ACT.relu;
        } else if (l.op === 'sign' && act === ACT.none && (bitsOut || !signFeedsXnor(j))) {
          act = signFeedsXnor(j) ? ACT.bits : ACT.sign;
        } else {
          break;
        }
        j++;
      }
      if (bitsOut && act === ACT.none && L[j]?.op === 'maxpool' && L[j + 1]?.op === 'sign' && signFeedsXnor(j + 1)) return { next: j, act: ACT.bits, skip: j + 1 };
      return { next: j, act, skip: -1 };
    };
    const actName = (a: number): StepInfo['act'] => (a === ACT.relu ? 'relu' : a === ACT.sign ? 'sign' : a === ACT.bits ? 'bits' : 'none');
    let skip = -1; // a sign moved in front of a max-pooling (fuse)

    const steps: Step[] = [];
    let st: State = { shape: ir.inputShape.slice() as [number, number, number], bits: false };
    let i = 0;
    while (i < L.length) {
      const l = L[i];
      if (l.op === 'flatten' || i === skip) {
        i++;
        continue;
      }
      if (l.op === 'conv') {
        const k = l.kernel;
        const [KH, KW, C, O] = k.shape;
        const [H, W] = st.shape;
        const [sh, sw] = l.strides;
        const OH = outLength(H, KH, sh, l.padding);
        const OW = outLength(W, KW, sw, l.padding);
        const [pt, pb] = l.padding === 'same' ? samePadding(H, KH, sh) : [0, 0];
        const [pl, pr] = l.padding === 'same' ? samePadding(W, KW, sw) : [0, 0];
        const oPad = ceilDiv(O, 8) * 8;
        let impl: StepInfo['kernel'];
        if (st.bits) impl = 'convXnor';
        else if (!lowbit || k.bits === 0) impl = 'convF32';
        else if (k.bits === 1) impl = options.strategy === 'lut' ? 'convLut1' : 'convSum1';
        else impl = options.strategy === 'lut' ? 'convLut2' : 'convSum2';
        const scale = new Float32Array(oPad).fill(1);
        const shift = new Float32Array(oPad);
        if (impl !== 'convF32' && k.channelScale) scale.set(k.channelScale);
        if (l.bias) shift.set(l.bias);
        const fused = fuse(i, scale, shift, true);
        const { next, act } = fused;
        skip = fused.skip;
        const scaleP = putF32(scale);
        const shiftP = putF32(shift);
        const outShape: [number, number, number] = [OH, OW, O];
        const outBits = act === ACT.bits;
        const info: StepInfo = { name: l.name, kernel: impl, outShape, outBits, act: actName(act) };
        if (impl === 'convXnor') {
          const w = putCodes(xnorLayout(k));
          const scratchBytes = 16 * ceilDiv(KH * KW * C, 64);
          steps.push({
            info, padBytes: 0, scratchBytes,
            run: (N, inp, out, ws) => mod.x.convXnor(inp, N, H, W, C, OH, OW, KH, KW, sh, sw, pt, pl, w, O, scaleP, shiftP, act, out, ws.scratch),
          });
        } else {
          const padded = pt + pb + pl + pr > 0;
          const Hp = H + pt + pb;
          const Wp = W + pl + pr;
          const padBytes = padded ? Hp * Wp * C * 4 : 0;
          const src = (N: number, inp: number, ws: Workspace): number => {
            if (!padded) return inp;
            mod.x.padNHWC(inp, ws.pad, N, H, W, C, pt, pb, pl, pr);
            return ws.pad;
          };
          let run: Step['run'];
          let scratchBytes = 0;
          if (C === 1 && sw === 1 && (impl === 'convF32' || impl === 'convLut1' || impl === 'convLut2')) {
            // One input channel (a grayscale image): pixels in the lanes (convC1), the weights decoded from their
            // block layout into the workspace at each call, for the float control as for the codes.
            const kind = impl === 'convF32' ? 0 : impl === 'convLut1' ? 1 : 2;
            const w = putCodes(blockLayout(k, kind === 0 ? 'f32' : kind === 1 ? 'lut1' : 'lut2'), kind === 0);
            const levels = kind === 0 ? 0 : putF32(k.levels as Float32Array);
            scratchBytes = KH * KW * ceilDiv(O, 4) * 4 * 16;
            info.kernel = 'convC1';
            run = (N, inp, out, ws) => {
              mod.x.decodeBlocks(kind, w, levels, KH * KW, O, ws.scratch);
              mod.x.convC1(src(N, inp, ws), N, Hp, Wp, OH, OW, KH, KW, sh, ws.scratch, O, scaleP, shiftP, act, out, ws.tmp);
            };
          } else if (impl === 'convF32') {
            const w = putCodes(blockLayout(k, 'f32'), true);
            run = (N, inp, out, ws) => mod.x.convF32(src(N, inp, ws), N, Hp, Wp, C, OH, OW, KH, KW, sh, sw, w, O, scaleP, shiftP, act, out, ws.tmp);
          } else if (impl === 'convLut1' || impl === 'convLut2') {
            const w = putCodes(blockLayout(k, impl === 'convLut1' ? 'lut1' : 'lut2'));
            const levels = putF32(k.levels as Float32Array);
            run = impl === 'convLut1'
              ? (N, inp, out, ws) => {
                mod.x.buildLut1(levels, ws.lut);
                mod.x.convLut1(src(N, inp, ws), N, Hp, Wp, C, OH, OW, KH, KW, sh, sw, w, O, ws.lut, scaleP, shiftP, act, out, ws.tmp);
              }
              : (N, inp, out, ws) => {
                mod.x.buildLut2(levels, ws.lut);
                mod.x.convLut2(src(N, inp, ws), N, Hp, Wp, C, OH, OW, KH, KW, sh, sw, w, O, ws.lut, scaleP, shiftP, act, out, ws.tmp);
              };
          } else {
            const lv = k.levels as Float32Array;
            // Σ l[c]·x = l0·T + (l1 - l0)·S0 + (l2 - l0)·S1 + (l3 - l2 - l1 + l0)·S01 (S01 only when code 3 occurs).
            const coefs = [lv[0], lv[1] - lv[0], k.bits === 2 ? lv[2] - lv[0] : 0, k.bits === 2 && k.count === 4 ? lv[3] - lv[2] - lv[1] + lv[0] : 0];
            const coefP = putF32(coefs);
            const planes = coefs[3] !== 0 ? 4 : 0;
            if (impl === 'convSum1') {
              const w = putCodes(blockLayout(k, 'lut1'));
              run = (N, inp, out, ws) => mod.x.convSum1(src(N, inp, ws), N, Hp, Wp, C, OH, OW, KH, KW, sh, sw, w, O, ws.mask4, coefP, scaleP, shiftP, act, out, ws.tmp);
            } else {
              const w = putCodes(blockLayout(k, 'sum2'));
              run = (N, inp, out, ws) => mod.x.convSum2(src(N, inp, ws), N, Hp, Wp, C, OH, OW, KH, KW, sh, sw, w, O, ws.mask4, coefP, planes, scaleP, shiftP, act, out, ws.tmp);
            }
          }
          steps.push({ info, padBytes, scratchBytes, run });
        }
        st = { shape: outShape, bits: outBits };
        i = next;
        continue;
      }
      if (l.op === 'maxpool') {
        const [H, W, C] = st.shape;
        const [ph, pw] = l.pool;
        const [sh, sw] = l.strides;
        const OH = outLength(H, ph, sh, l.padding);
        const OW = outLength(W, pw, sw, l.padding);
        const pt = l.padding === 'same' ? samePadding(H, ph, sh)[0] : 0;
        const pl = l.padding === 'same' ? samePadding(W, pw, sw)[0] : 0;
        const outShape: [number, number, number] = [OH, OW, C];
        const bits = st.bits;
        const pool = bits ? mod.x.maxPoolBits : mod.x.maxPool;
        steps.push({
          info: { name: l.name, kernel: bits ? 'maxPoolBits' : 'maxPool', outShape, outBits: bits }, padBytes: 0, scratchBytes: 0,
          run: (N, inp, out) => pool(inp, out, N, H, W, C, OH, OW, ph, pw, sh, sw, pt, pl),
        });
        st = { shape: outShape, bits };
        i++;
        continue;
      }
      if (st.bits) throw new Error(`inference: '${l.name}' (${l.op}) after bit-packed activations is not supported`);
      const [H, W, C] = st.shape;
      if (l.op === 'sign' && signFeedsXnor(i)) {
        const outShape = st.shape;
        steps.push({
          info: { name: l.name, kernel: 'signPack', outShape, outBits: true }, padBytes: 0, scratchBytes: 0,
          run: (N, inp, out) => mod.x.signPack(inp, out, N * H * W, C),
        });
        st = { shape: outShape, bits: true };
        i++;
        continue;
      }
      // affine (batch norm), relu or sign on floats: one affine step with what follows fused.
      const scale = new Float32Array(C).fill(1);
      const shift = new Float32Array(C);
      let act: number;
      let next: number;
      if (l.op === 'affine') {
        scale.set(l.scale);
        shift.set(l.shift);
        ({ next, act } = fuse(i, scale, shift, false));
      } else {
        act = l.op === 'relu' ? ACT.relu : ACT.sign;
        next = i + 1;
      }
      const scaleP = putF32(scale);
      const shiftP = putF32(shift);
      steps.push({
        info: { name: l.name, kernel: 'affine', outShape: st.shape, outBits: false, act: actName(act) }, padBytes: 0, scratchBytes: 0,
        run: (N, inp, out) => mod.x.affineAct(inp, out, N * H * W, C, scaleP, shiftP, act),
      });
      i = next;
    }
    if (st.bits) throw new Error('inference: the model ends with binary activations; the engine returns float outputs');
    if (steps.length === 0) throw new Error('inference: the model has no layer to run');
    resident.total = resident.codes + resident.floats;
    return new CompiledModel(mod, steps, ir.inputShape, st.shape, resident, options);
  }
}
