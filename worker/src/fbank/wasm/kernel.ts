import { encodeModule, FunctionBody, I32, Simd, V128 } from './encoder';

/**
 * Generates, per option set, a WebAssembly SIMD kernel that turns two frames at once into two rows of filterbank
 * output. Each f64x2 lane carries one frame, so the whole pipeline — window, radix-4 Stockham FFT, real-spectrum
 * split, power, sparse mel sums, log — is ordinary scalar arithmetic done twice per instruction, in float64, with no
 * shuffles. The code is straight-line and specialised: window values, twiddles and mel weights are table entries
 * at constant addresses, multiplications by 0 or ±1 and the FFT's zero padding are folded away while generating,
 * and FFT bins no mel filter reads are never computed.
 *
 * Memory: [two FFT buffers | spectrum | v128 constants | window, twiddle and weight scalars | dynamic area]. The
 * caller owns the dynamic area (from `dynamicBase`): the pre-emphasised clip, per-frame parameters, output rows.
 */

export interface KernelSpec {
  /** The analysis window, window_size values. */
  window: Float64Array;
  /** FFT length N (a power of two, >= 8). */
  padded_window_size: number;
  /** Sparse mel filters over the N/2 + 1 power-spectrum bins. */
  mel: { num_bins: number; first: Int32Array; offsets: Int32Array; weights: Float64Array };
  use_power: boolean;
  use_log_fbank: boolean;
  /** Every output value v is stored as v · scale + offset (BEATs' normalisation, fused). */
  scale: number;
  offset: number;
  preemphasis_coefficient: number;
  /** The clip is used as samples · input_scale (BEATs' × 2^15, fused). */
  input_scale: number;
}

/** The parts of the WebAssembly JS API used here (the project's lib settings do not declare the global). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const WebAssemblyApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

export interface FbankKernel {
  memory: WasmMemory;
  /**
   * Computes rows for frames A and B. emphA/emphB: byte addresses of the pre-emphasised clip at each frame's start
   * (float64). params: 32 bytes = [kA, kB, y0A, y0B] where k = frame mean · (1 − preemph) (subtracted from every
   * pre-emphasised sample) and y0 = the frame's first windowed sample. outA/outB: byte addresses of the float32 rows.
   */
  pair: (emphA: number, emphB: number, params: number, outA: number, outB: number) => void;
  /**
   * Pre-emphasis of a float32 clip: e[t] = s·x[t] − c·s·x[t−1] into float64 at `dst`, two samples per step, while
   * `dst` < `dstEnd`. `src` is the byte address of x[−1] (the caller stores x[0] there: Kaldi's replicate padding),
   * and x must be readable one sample past its end.
   */
  emphasize: (src: number, dst: number, dstEnd: number) => void;
  /** First byte the caller may use (16-aligned). */
  dynamicBase: number;
}

const ZERO = -1;
type Value = number; // a v128 local, or ZERO

const EPSILON = 1.1920928955078125e-7;
const LOG_TERMS = 3;

/** Stack-machine emission with constant folding of zeros and ±1, over a pool of v128 temporaries. */
class Emitter {
  private readonly temps: number[] = [];
  private used = 0;
  /** Splatted scalars already in a temporary since the last release(). */
  private splats = new Map<number, Value>();

  constructor(
    readonly f: FunctionBody,
    private readonly scalarOffset: (value: number) => number,
  ) {}

  /** Temporaries live until the next release(); each butterfly and each filter releases its own. */
  release(): void {
    this.used = 0;
    this.splats.clear();
  }

  private temp(): number {
    let t = this.temps[this.used];
    if (t === undefined) {
      t = this.f.local(V128);
      this.temps.push(t);
    }
    this.used++;
    return t;
  }

  private push(v: Value): void {
    if (v === ZERO) this.f.v128Const(new Uint8Array(16));
    else this.f.localGet(v);
  }

  private result(): Value {
    const t = this.temp();
    this.f.localSet(t);
    return t;
  }

  /** v128 at a constant address, or at local `base` + offset. */
  load(offset: number, base?: number): Value {
    if (base === undefined) this.f.i32Const(0);
    else this.f.localGet(base);
    this.f.simdMem(Simd.load, 4, offset);
    return this.result();
  }

  store(offset: number, v: Value): void {
    this.f.i32Const(0);
    this.push(v);
    this.f.simdMem(Simd.store, 4, offset);
  }

  /** Both lanes = one float64 from the scalar table. */
  splat(value: number): Value {
    const known = this.splats.get(value);
    if (known !== undefined) return known;
    this.f.i32Const(0);
    this.f.simdMem(Simd.load64Splat, 3, this.scalarOffset(value));
    const v = this.result();
    this.splats.set(value, v);
    return v;
  }

  /** Lane 0 from local `baseA` + offset, lane 1 from `baseB` + offset (float64 each). */
  gather(baseA: number, baseB: number, offset: number): Value {
    this.f.localGet(baseB);
    this.f.localGet(baseA);
    this.f.simdMem(Simd.load64Splat, 3, offset);
    this.f.simdMem(Simd.load64Lane, 3, offset, 1);
    return this.result();
  }

  op(code: number, a: Value, b: Value): Value {
    this.push(a);
    this.push(b);
    this.f.simd(code);
    return this.result();
  }

  add(a: Value, b: Value): Value {
    if (a === ZERO) return b;
    if (b === ZERO) return a;
    return this.op(Simd.f64x2Add, a, b);
  }

  sub(a: Value, b: Value): Value {
    if (b === ZERO) return a;
    if (a === ZERO) return this.neg(b);
    return this.op(Simd.f64x2Sub, a, b);
  }

  mul(a: Value, b: Value): Value {
    if (a === ZERO || b === ZERO) return ZERO;
    return this.op(Simd.f64x2Mul, a, b);
  }

  neg(a: Value): Value {
    if (a === ZERO) return ZERO;
    this.push(a);
    this.f.simd(Simd.f64x2Neg);
    return this.result();
  }

  /** a · c for a compile-time constant c. */
  scale(a: Value, c: number): Value {
    if (a === ZERO || c === 0) return ZERO;
    if (c === 1) return a;
    if (c === -1) return this.neg(a);
    return this.mul(a, this.splat(c));
  }

  /** Each 64-bit lane shifted right, zero-filled. */
  shiftRightUnsigned64(a: Value, bits: number): Value {
    this.push(a);
    this.f.i32Const(bits);
    this.f.simd(Simd.i64x2ShrU);
    return this.result();
  }

  /** Bits of `a` where `mask` is set, of `b` elsewhere. */
  select(a: Value, b: Value, mask: Value): Value {
    this.push(a);
    this.push(b);
    this.push(mask);
    this.f.simd(Simd.bitselect);
    return this.result();
  }

  unary(code: number, a: Value): Value {
    this.push(a);
    this.f.simd(code);
    return this.result();
  }
}

interface Complex {
  re: Value;
  im: Value;
}

/** cos/sin with the values that are exactly 0 or ±1 made exact, so folding removes those multiplications. */
function exactTrig(angle: number): { c: number; s: number } {
  const snap = (x: number): number => (Math.abs(x) < 1e-15 ? 0 : Math.abs(Math.abs(x) - 1) < 1e-15 ? Math.sign(x) : x);
  return { c: snap(Math.cos(angle)), s: snap(Math.sin(angle)) };
}

function multiplyByConstant(e: Emitter, x: Complex, angle: number): Complex {
  const { c, s } = exactTrig(angle);
  return {
    re: e.sub(e.scale(x.re, c), e.scale(x.im, s)),
    im: e.add(e.scale(x.re, s), e.scale(x.im, c)),
  };
}

/** Constant v128 values the log and output stages read (splatted float64, or raw 64-bit patterns). */
function constantTable(spec: KernelSpec): Map<string, Uint8Array> {
  const f64 = (x: number): Uint8Array => new Uint8Array(new Float64Array([x, x]).buffer);
  const bits = (hi: number, lo: number): Uint8Array => new Uint8Array(new Uint32Array([lo, hi, lo, hi]).buffer);
  const table = new Map<string, Uint8Array>([
    ['epsilon', f64(EPSILON)],
    ['mantissa', bits(0x000fffff, 0xffffffff)],
    ['one', f64(1)],
    ['exponentMagic', bits(0x43300000, 0)], // 2^52: OR-ing a small integer into its mantissa gives 2^52 + integer
    ['exponentBias', f64(2 ** 52 + 1023)],
    ['sqrt2', f64(Math.SQRT2)],
    ['half', f64(0.5)],
    ['ln2', f64(Math.LN2)],
    ['scale', f64(spec.scale)],
    ['offset', f64(spec.offset)],
    ['inputScale', f64(spec.input_scale)],
    ['emphasisScale', f64(spec.preemphasis_coefficient * spec.input_scale)],
  ]);
  // ln(m) = 2·atanh(s), s = (m − 1)/(m + 1), |s| <= 0.1716 for m in [√½, √2): odd series to s^7, error < 3e-8,
  // i.e. 3e-8 relative in the energy — below torchaudio's own float32 round-off (~1e-7) and float32 output steps.
  for (let k = 0; k <= LOG_TERMS; k++) table.set(`log${k}`, f64(2 / (2 * k + 1)));
  return table;
}

/** Where the constant `key` sits in the kernel's static memory. */
function constantAt(offsets: ReadonlyMap<string, number>, key: string): number {
  const at = offsets.get(key);
  if (at === undefined) throw new Error(`fbank kernel: no constant '${key}'`);
  return at;
}

export function buildFbankKernel(spec: KernelSpec): FbankKernel {
  const N = spec.padded_window_size;
  const M = N / 2;
  if (!Number.isInteger(Math.log2(N)) || N < 8)
    throw new RangeError(`kernel needs a power-of-two FFT length >= 8, got ${N}`);
  const W = spec.window.length;
  const bins = spec.mel.num_bins;

  // --- static memory layout: FFT buffers and spectrum (sizes known), constants, then the scalar table, which
  // grows while code is generated; the caller's dynamic area starts after it. ---
  const bufA = 0;
  const bufB = bufA + 32 * M;
  const spectrum = bufB + 32 * M;
  const constants = constantTable(spec);
  const constantOffset = new Map<string, number>();
  let cursor = spectrum + 16 * (M + 1);
  for (const key of constants.keys()) {
    constantOffset.set(key, cursor);
    cursor += 16;
  }
  const scalarsBase = cursor;
  const scalars: number[] = [];
  const scalarIndex = new Map<number, number>();
  const scalarOffset = (value: number): number => {
    let i = scalarIndex.get(value);
    if (i === undefined) {
      i = scalars.length;
      scalars.push(value);
      scalarIndex.set(value, i);
    }
    return scalarsBase + 8 * i;
  };
  const constant = (e: Emitter, key: string): Value => e.load(constantAt(constantOffset, key));

  // --- the pair function ---
  const f = new FunctionBody([I32, I32, I32, I32, I32]);
  const [emphA, emphB, params, outA, outB] = [0, 1, 2, 3, 4];
  const e = new Emitter(f, scalarOffset);
  const kLocal = f.local(V128);
  const y0Local = f.local(V128);
  f.localGet(params).simdMem(Simd.load, 4, 0).localSet(kLocal);
  f.localGet(params).simdMem(Simd.load, 4, 16).localSet(y0Local);

  /** Windowed, DC-removed, pre-emphasised frame sample j (both lanes); ZERO in the FFT's zero padding. */
  const sample = (j: number): Value => {
    if (j >= W) return ZERO;
    const w = spec.window[j]!; // j < W = window.length
    if (w === 0) return ZERO; // povey's and blackman's ends
    if (j === 0) return y0Local;
    const centred = e.sub(e.gather(emphA, emphB, 8 * j), kLocal);
    return w === 1 ? centred : e.mul(centred, e.splat(w));
  };

  // Stockham autosort FFT over M complex points z[n] = x[2n] + i·x[2n+1]; the first stage reads the frame itself.
  const radices: number[] = [];
  for (let rest = M; rest > 1;) {
    const r = rest % 4 === 0 ? 4 : 2;
    radices.push(r);
    rest /= r;
  }
  let n = M;
  let s = 1;
  let source: number | null = null; // null: the frame
  let target = bufA;
  const read = (index: number): Complex =>
    source === null
      ? { re: sample(2 * index), im: sample(2 * index + 1) }
      : { re: e.load(source + 32 * index), im: e.load(source + 32 * index + 16) };
  const write = (index: number, v: Complex): void => {
    e.store(target + 32 * index, v.re);
    e.store(target + 32 * index + 16, v.im);
  };
  for (const radix of radices) {
    const m = n / radix;
    for (let p = 0; p < m; p++) {
      for (let q = 0; q < s; q++) {
        e.release();
        // The butterfly's inputs, read (and their loads emitted) in order t = 0, 1, …
        const input = (t: number): Complex => read(q + s * (p + t * m));
        let y: Complex[];
        if (radix === 4) {
          const a = input(0);
          const b = input(1);
          const c = input(2);
          const d = input(3);
          const apc = { re: e.add(a.re, c.re), im: e.add(a.im, c.im) };
          const amc = { re: e.sub(a.re, c.re), im: e.sub(a.im, c.im) };
          const bpd = { re: e.add(b.re, d.re), im: e.add(b.im, d.im) };
          const bmd = { re: e.sub(b.re, d.re), im: e.sub(b.im, d.im) };
          y = [
            { re: e.add(apc.re, bpd.re), im: e.add(apc.im, bpd.im) },
            { re: e.add(amc.re, bmd.im), im: e.sub(amc.im, bmd.re) }, // (a − c) − i(b − d)
            { re: e.sub(apc.re, bpd.re), im: e.sub(apc.im, bpd.im) },
            { re: e.sub(amc.re, bmd.im), im: e.add(amc.im, bmd.re) }, // (a − c) + i(b − d)
          ];
        } else {
          const a = input(0);
          const b = input(1);
          y = [
            { re: e.add(a.re, b.re), im: e.add(a.im, b.im) },
            { re: e.sub(a.re, b.re), im: e.sub(a.im, b.im) },
          ];
        }
        y.forEach((v, r) =>
          write(q + s * (radix * p + r), r * p === 0 ? v : multiplyByConstant(e, v, (-2 * Math.PI * r * p) / n)),
        );
      }
    }
    source = target;
    target = target === bufA ? bufB : bufA;
    n = m;
    s *= radix;
  }
  const z = source as number;

  // Real-spectrum split, unhalved: X'[k] = 2·X[k], so power' = 4·|X|² and magnitude' = 2·|X|; the mel weights
  // carry the 1/4 or 1/2 instead. Only bins some filter reads are computed.
  const needed = new Uint8Array(M + 1);
  const { offsets, first, weights } = spec.mel;
  // In bounds here and in the mel sums below: b < bins, offsets holds bins + 1 entries, w runs over filter b's
  // weights, and its FFT bins k stay ≤ M (melBanks.ts).
  for (let b = 0; b < bins; b++) {
    for (let w = offsets[b]!, k = first[b]!; w < offsets[b + 1]!; w++, k++) {
      if (weights[w] !== 0) needed[k] = 1;
    }
  }
  const finish = (v: Value): Value => (spec.use_power ? v : e.unary(Simd.f64x2Sqrt, v));
  const square = (re: Value, im: Value): Value => e.add(e.mul(re, re), e.mul(im, im));
  if (needed[0] || needed[M]) {
    e.release();
    const r0 = e.load(z);
    const i0 = e.load(z + 16);
    // X'[0] = 2(Re z0 + Im z0), X'[M] = 2(Re z0 − Im z0)
    const two = (v: Value): Value => e.add(v, v);
    if (needed[0]) e.store(spectrum, finish(e.mul(two(e.add(r0, i0)), two(e.add(r0, i0)))));
    if (needed[M]) e.store(spectrum + 16 * M, finish(e.mul(two(e.sub(r0, i0)), two(e.sub(r0, i0)))));
  }
  for (let k = 1; k <= M / 2; k++) {
    const j = M - k;
    if (!needed[k] && !needed[j]) continue;
    e.release();
    const ar = e.load(z + 32 * k);
    const ai = e.load(z + 32 * k + 16);
    const br = e.load(z + 32 * j);
    const bi = e.load(z + 32 * j + 16);
    const er = e.add(ar, br);
    const ei = e.sub(ai, bi);
    const odd = { re: e.add(ai, bi), im: e.sub(br, ar) };
    // T = W^k·O with W = e^(−2πi/N)
    const t = multiplyByConstant(e, odd, (-2 * Math.PI * k) / N);
    if (needed[k]) e.store(spectrum + 16 * k, finish(square(e.add(er, t.re), e.add(ei, t.im))));
    if (needed[j] && j !== k) e.store(spectrum + 16 * j, finish(square(e.sub(er, t.re), e.sub(ei, t.im))));
  }

  // Mel sums, log, affine, float32 rows.
  const weightScale = spec.use_power ? 0.25 : 0.5;
  for (let b = 0; b < bins; b++) {
    e.release();
    let acc: Value = ZERO;
    for (let w = offsets[b]!, k = first[b]!; w < offsets[b + 1]!; w++, k++) {
      const weight = weights[w]!;
      if (weight === 0) continue;
      acc = e.add(acc, e.mul(e.load(spectrum + 16 * k), e.splat(weight * weightScale)));
    }
    let v = spec.use_log_fbank
      ? emitLog(e, acc === ZERO ? constant(e, 'epsilon') : e.op(Simd.f64x2Max, acc, constant(e, 'epsilon')), constant)
      : acc;
    if (spec.scale !== 1) v = e.mul(v, constant(e, 'scale'));
    if (spec.offset !== 0) v = e.add(v, constant(e, 'offset'));
    const narrow = e.unary(Simd.f32x4DemoteF64x2Zero, v);
    f.localGet(outA)
      .localGet(narrow)
      .simdMem(Simd.store32Lane, 2, 4 * b, 0);
    f.localGet(outB)
      .localGet(narrow)
      .simdMem(Simd.store32Lane, 2, 4 * b, 1);
  }

  const dynamicBase = (scalarsBase + 8 * scalars.length + 15) & ~15;
  const emphasize = emphasizeFunction(constantOffset);
  const bytes = encodeModule(
    [
      { name: 'pair', body: f },
      { name: 'emphasize', body: emphasize },
    ],
    Math.ceil((dynamicBase + 65536) / 65536),
  );
  if (!WebAssemblyApi) throw new Error('WebAssembly is not available');
  const instance = new WebAssemblyApi.Instance(new WebAssemblyApi.Module(bytes), {});
  const memory = instance.exports['memory'] as WasmMemory;
  const view = new DataView(memory.buffer);
  for (const [key, value] of constants) new Uint8Array(memory.buffer, constantAt(constantOffset, key), 16).set(value);
  scalars.forEach((x, i) => view.setFloat64(scalarsBase + 8 * i, x, true));
  return {
    memory,
    pair: instance.exports['pair'] as FbankKernel['pair'],
    emphasize: instance.exports['emphasize'] as FbankKernel['emphasize'],
    dynamicBase,
  };
}

/** The pre-emphasis loop: per step, (x[t−1], x[t]) and (x[t], x[t+1]) as float32 pairs, widened, one multiply-subtract. */
function emphasizeFunction(constantOffset: Map<string, number>): FunctionBody {
  const f = new FunctionBody([I32, I32, I32]);
  const [src, dst, dstEnd] = [0, 1, 2];
  const scale = f.local(V128);
  const emphasisScale = f.local(V128);
  f.i32Const(0).simdMem(Simd.load, 4, constantAt(constantOffset, 'inputScale')).localSet(scale);
  f.i32Const(0).simdMem(Simd.load, 4, constantAt(constantOffset, 'emphasisScale')).localSet(emphasisScale);
  f.loop();
  f.localGet(dst);
  f.localGet(src).simdMem(Simd.load64Zero, 2, 4).simd(Simd.f64x2PromoteLowF32x4).localGet(scale).simd(Simd.f64x2Mul);
  f.localGet(src)
    .simdMem(Simd.load64Zero, 2, 0)
    .simd(Simd.f64x2PromoteLowF32x4)
    .localGet(emphasisScale)
    .simd(Simd.f64x2Mul);
  f.simd(Simd.f64x2Sub).simdMem(Simd.store, 3, 0);
  f.localGet(src).i32Const(8).i32Add().localSet(src);
  f.localGet(dst).i32Const(16).i32Add().localTee(dst).localGet(dstEnd).i32LtU().brIf(0);
  f.end();
  return f;
}

/** ln(x) for x >= float32 epsilon in both lanes: exponent by bit manipulation, mantissa by an atanh series. */
function emitLog(e: Emitter, x: Value, constant: (e: Emitter, key: string) => Value): Value {
  // x = 2^(E − 1023) · m, m in [1, 2): E from the top bits, as a float via the 2^52 trick.
  const biased = e.op(Simd.or, e.shiftRightUnsigned64(x, 52), constant(e, 'exponentMagic'));
  const exponent = e.op(Simd.f64x2Sub, biased, constant(e, 'exponentBias'));
  const one = constant(e, 'one');
  const m1 = e.op(Simd.or, e.op(Simd.and, x, constant(e, 'mantissa')), one);
  // Move m into [√½, √2) so the series converges fast: halve it and bump the exponent where m > √2.
  const big = e.op(Simd.f64x2Gt, m1, constant(e, 'sqrt2'));
  const m = e.select(e.mul(m1, constant(e, 'half')), m1, big);
  const exponent2 = e.add(exponent, e.op(Simd.and, big, one));
  const s = e.op(Simd.f64x2Div, e.sub(m, one), e.add(m, one));
  const s2 = e.mul(s, s);
  let poly = constant(e, `log${LOG_TERMS}`);
  for (let k = LOG_TERMS - 1; k >= 0; k--) poly = e.add(e.mul(poly, s2), constant(e, `log${k}`));
  return e.add(e.mul(exponent2, constant(e, 'ln2')), e.mul(s, poly));
}
