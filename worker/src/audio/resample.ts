import { GenrepError } from '../errors';

/**
 * Band-limited sample-rate conversion by a Kaiser-windowed sinc, evaluated polyphase.
 *
 * Why hand-written: `resample` must be synchronous and deterministic, and the obvious library
 * (@alexanderolsen/libsamplerate-js, a libsamplerate WASM build) only offers an asynchronous, stateful API; a
 * windowed-sinc filter is short enough to own and to test against its own specification.
 *
 * Specification (B = min(fromRate, toRate) / 2, the lower of the two Nyquist frequencies; B = 8 kHz when
 * resampling to 16 kHz from anything faster):
 * - passband 0 … 0.9·B (0 … 7.2 kHz at 16 kHz out): ripple within ±0.001 dB (measured ±0.0001 dB);
 * - transition 0.9·B … B, where the gain falls from 0 dB to the stopband floor;
 * - stopband ≥ B (everything above 8 kHz at 16 kHz out): attenuation ≥ 98 dB (Kaiser design for 100 dB,
 *   β = 10.06; the measured floor is 99.8 dB); images when upsampling are rejected by the same amount;
 * - linear phase, no delay: output sample k is the input evaluated at time k·fromRate/toRate, so a clip keeps
 *   its alignment; the input is taken as zero outside the clip, as every resampler without look-ahead does.
 * Length: ceil(n·toRate/fromRate). Equal rates return a bit-exact copy.
 *
 * When the reduced ratio toRate/fromRate = L/M has L ≤ MAX_EXACT_PHASES, every output phase has its own row of
 * coefficients; otherwise (e.g. 44101 Hz → 16 kHz) rows are tabulated every 1/INTERPOLATED_PHASES of an input
 * sample and linearly interpolated, which adds an error below −110 dB, as libsamplerate does.
 */
export const RESAMPLER_PASSBAND_FRACTION = 0.9;
/** Kaiser design attenuation; the stopband floor and the passband ripple (δ = 10^(−A/20)) both follow from it. */
export const RESAMPLER_DESIGN_ATTENUATION_DB = 100;

const MAX_EXACT_PHASES = 1024;
const INTERPOLATED_PHASES = 1024;
const MAX_CACHED_FILTERS = 4;

interface PolyphaseFilter {
  /** Reduced ratio: L output samples per M input samples. */
  up: number;
  down: number;
  /** Taps per output sample (2 × half-width in input samples). */
  taps: number;
  halfWidth: number;
  /** Rows of `taps` coefficients; row r is for fractional input position r / rowsPerSample. */
  rows: number;
  exact: boolean;
  coefficients: Float32Array;
}

const filterCache = new Map<string, PolyphaseFilter>();

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind, by its power series (converges fast for x ≤ 20). */
function besselI0(x: number): number {
  const q = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function designFilter(fromRate: number, toRate: number): PolyphaseFilter {
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  const nyquist = Math.min(fromRate, toRate) / 2;
  const passEdge = RESAMPLER_PASSBAND_FRACTION * nyquist;
  // Cut-off mid-transition, in cycles per input sample; the windowed sinc's ripple is symmetric about it.
  const cutoff = (passEdge + nyquist) / 2 / fromRate;
  const transition = (2 * Math.PI * (nyquist - passEdge)) / fromRate;
  const attenuation = RESAMPLER_DESIGN_ATTENUATION_DB;
  const beta = 0.1102 * (attenuation - 8.7);
  // Kaiser's length estimate for the given ripple and transition width.
  const length = Math.ceil((attenuation - 7.95) / (2.285 * transition)) + 1;
  const halfWidth = Math.ceil(length / 2);
  const taps = 2 * halfWidth;
  const i0Beta = besselI0(beta);

  const kernel = (tau: number): number => {
    const u = tau / halfWidth;
    if (u <= -1 || u >= 1) return 0;
    const x = 2 * cutoff * tau;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    return 2 * cutoff * sinc * (besselI0(beta * Math.sqrt(1 - u * u)) / i0Beta);
  };

  const exact = up <= MAX_EXACT_PHASES;
  const rowsPerSample = exact ? up : INTERPOLATED_PHASES;
  // The interpolated table needs the row at fraction 1.0 as the upper neighbour of the last one.
  const rows = exact ? up : INTERPOLATED_PHASES + 1;
  const coefficients = new Float32Array(rows * taps);
  const row = new Float64Array(taps);
  // In bounds: m < taps = row.length.
  for (let r = 0; r < rows; r++) {
    const frac = r / rowsPerSample;
    let sum = 0;
    for (let m = 0; m < taps; m++) {
      row[m] = kernel(frac + halfWidth - 1 - m);
      sum += row[m]!;
    }
    // Unit DC gain in every phase, so a constant stays constant instead of picking up a phase-dependent ripple.
    for (let m = 0; m < taps; m++) coefficients[r * taps + m] = row[m]! / sum;
  }
  return { up, down, taps, halfWidth, rows: rowsPerSample, exact, coefficients };
}

function filterFor(fromRate: number, toRate: number): PolyphaseFilter {
  const key = `${fromRate}:${toRate}`;
  let filter = filterCache.get(key);
  if (filter === undefined) {
    filter = designFilter(fromRate, toRate);
    if (filterCache.size >= MAX_CACHED_FILTERS) filterCache.delete(filterCache.keys().next().value as string);
    filterCache.set(key, filter);
  }
  return filter;
}

function checkRate(name: string, rate: number): void {
  if (!Number.isInteger(rate) || rate <= 0) {
    throw new GenrepError(`resample: ${name} must be a positive whole number of Hz, got ${rate}`, 'BAD_INPUT', {
      field: name,
      expected: 'a positive integer',
    });
  }
}

/**
 * Σ x[start + m]·c[rowStart + m] over the taps, with x taken as zero outside the clip [0, clipLength). `x` holds the
 * clip from `windowStart` on, so a block of a long clip can be resampled from a window of its samples; the taps
 * summed and their order depend only on the clip position, never on the window, so every window that covers the
 * taps gives the same float32 result as the whole clip. Four partial sums let V8 overlap the multiply-adds (about
 * twice as fast as one running sum).
 */
function dot(
  x: Float32Array,
  windowStart: number,
  clipLength: number,
  start: number,
  c: Float32Array,
  rowStart: number,
  taps: number,
): number {
  const lo = Math.max(0, -start);
  const hi = Math.min(taps, clipLength - start);
  const at = start - windowStart;
  // In bounds: lo..hi keeps start + m inside the clip, which `x` covers from windowStart on for these taps (the
  // caller's contract, BlockResampler.run), and rowStart + m inside the coefficient row.
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let m = lo;
  for (; m + 3 < hi; m += 4) {
    const i = at + m;
    const j = rowStart + m;
    a0 += x[i]! * c[j]!;
    a1 += x[i + 1]! * c[j + 1]!;
    a2 += x[i + 2]! * c[j + 2]!;
    a3 += x[i + 3]! * c[j + 3]!;
  }
  for (; m < hi; m++) a0 += x[at + m]! * c[rowStart + m]!;
  return a0 + a1 + (a2 + a3);
}

/** Output samples for `inputLength` input samples: ceil(n · toRate / fromRate). */
export function resampledLength(inputLength: number, fromRate: number, toRate: number): number {
  checkRate('fromRate', fromRate);
  checkRate('toRate', toRate);
  if (fromRate === toRate) return inputLength;
  const g = gcd(fromRate, toRate);
  return Math.ceil((inputLength * (toRate / g)) / (fromRate / g));
}

/**
 * Resampling of one clip in blocks of output, each computed from a window of the input: a long file need not be
 * decoded whole, and a consumer that keeps only the first N outputs (BEATs' 10 s) decodes only the input those N
 * read. Every output is bit-identical to `resample` of the whole clip (see `dot`).
 */
export class BlockResampler {
  private readonly filter: PolyphaseFilter;
  /** Outputs of the whole clip, ceil(n · toRate / fromRate). */
  readonly fullLength: number;

  constructor(
    readonly inputLength: number,
    readonly fromRate: number,
    readonly toRate: number,
  ) {
    checkRate('fromRate', fromRate);
    checkRate('toRate', toRate);
    if (fromRate === toRate) throw new GenrepError('BlockResampler: equal rates need no resampling', 'INTERNAL');
    this.filter = filterFor(fromRate, toRate);
    this.fullLength = Math.ceil((inputLength * this.filter.up) / this.filter.down);
  }

  /** Taps per output: the work of one output sample, in multiply-adds (twice that when interpolating rows). */
  get taps(): number {
    return this.filter.taps;
  }

  /** Input position of output k: whole sample and phase (k·down = base·up + phase), exactly, in integers. */
  private position(k: number): { base: number; phase: number } {
    const { up, down } = this.filter;
    // k·down stays below 2^53: k ≤ n·up/down + 1 with n < 2^32 input frames and up ≤ the target rate.
    const total = k * down;
    let base = Math.floor(total / up);
    // The float division may round across a whole number; settle it in integers.
    if (base * up > total) base -= 1;
    else if ((base + 1) * up <= total) base += 1;
    return { base, phase: total - base * up };
  }

  /** The input samples [start, end), clipped to the clip, that outputs [k0, k1) read. */
  inputRange(k0: number, k1: number): { start: number; end: number } {
    if (k1 <= k0) return { start: 0, end: 0 };
    const { halfWidth } = this.filter;
    const first = this.position(k0).base - halfWidth + 1;
    const last = this.position(k1 - 1).base + halfWidth;
    return { start: Math.max(0, first), end: Math.min(this.inputLength, last + 1) };
  }

  /**
   * Writes outputs [k0, k1) to out[outOffset …], reading `window`, which holds input samples from `windowStart`
   * and must cover inputRange(k0, k1).
   */
  run(window: Float32Array, windowStart: number, k0: number, k1: number, out: Float32Array, outOffset: number): void {
    const filter = this.filter;
    const { up, down, taps, halfWidth, coefficients } = filter;
    const n = this.inputLength;
    // Output k sits at input position k·down/up = base + phase/up; stepped incrementally to stay in integers.
    const stepWhole = Math.floor(down / up);
    const stepPhase = down % up;
    let { base, phase } = this.position(k0);
    for (let k = k0; k < k1; k++) {
      const start = base - halfWidth + 1;
      let value: number;
      if (filter.exact) {
        value = dot(window, windowStart, n, start, coefficients, phase * taps, taps);
      } else {
        const position = (phase * filter.rows) / up;
        const r = Math.floor(position);
        const a = position - r;
        const lower = dot(window, windowStart, n, start, coefficients, r * taps, taps);
        const upper = a === 0 ? lower : dot(window, windowStart, n, start, coefficients, (r + 1) * taps, taps);
        value = lower + a * (upper - lower);
      }
      out[outOffset + k - k0] = value;
      base += stepWhole;
      phase += stepPhase;
      if (phase >= up) {
        phase -= up;
        base += 1;
      }
    }
  }
}

/** Resamples mono audio from `fromRate` to `toRate` Hz; see the module comment for the filter's specification. */
export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  checkRate('fromRate', fromRate);
  checkRate('toRate', toRate);
  if (fromRate === toRate) return samples.slice();
  const resampler = new BlockResampler(samples.length, fromRate, toRate);
  const out = new Float32Array(resampler.fullLength);
  resampler.run(samples, 0, 0, out.length, out, 0);
  return out;
}
