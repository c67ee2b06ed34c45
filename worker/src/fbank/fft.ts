/**
 * FFTs for the fbank, tuned for many transforms of one size: every twiddle is precomputed per plan, data is
 * interleaved complex float64 (re, im, re, im, …) in typed arrays, and nothing is allocated per transform.
 *
 * ComplexFft is a Stockham autosort FFT (no bit-reversal pass; each stage reads one buffer and writes the other).
 * Sizes factor into radix-4 stages (plus one radix-2 for odd powers of two); other factors (3, 5, any prime) use a
 * generic DFT stage, so any length works — Kaldi's round_to_power_of_two=false gives lengths like 200 = 2³·5².
 *
 * RealFftPower uses the classic packing trick: a real frame of even length N read as N/2 complex values
 * z[n] = x[2n] + i·x[2n+1] — which is exactly its memory layout — takes one N/2-point complex FFT, then one
 * O(N) pass splits the even/odd spectra into the N/2 + 1 bins of the real spectrum.
 */

interface Stage {
  radix: number;
  /** Length of the sub-transforms this stage splits (n), and the stride of the interleaved sub-sequences (s). */
  n: number;
  s: number;
  /** For radix 4: (W^p, W^2p, W^3p) per p; radix 2: W^p; generic: W^(r·p) for r = 1..radix−1. W = e^(−2πi/n). */
  twiddles: Float64Array;
  /** Generic radix only: e^(−2πi·k/radix), k = 0..radix−1. */
  roots: Float64Array;
}

function factorize(size: number): number[] {
  const radices: number[] = [];
  let rest = size;
  while (rest % 4 === 0) {
    radices.push(4);
    rest /= 4;
  }
  if (rest % 2 === 0) {
    radices.push(2);
    rest /= 2;
  }
  for (let p = 3; rest > 1; p += 2) {
    while (rest % p === 0) {
      radices.push(p);
      rest /= p;
    }
    if (p * p > rest && rest > 1) {
      radices.push(rest);
      rest = 1;
    }
  }
  return radices;
}

export class ComplexFft {
  readonly size: number;
  private readonly stages: Stage[] = [];
  private readonly bufA: Float64Array;
  private readonly bufB: Float64Array;
  private readonly scratch: Float64Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`FFT size must be a positive integer, got ${size}`);
    this.size = size;
    this.bufA = new Float64Array(2 * size);
    this.bufB = new Float64Array(2 * size);
    let n = size;
    let s = 1;
    let maxRadix = 1;
    for (const radix of factorize(size)) {
      const m = n / radix;
      const twiddles = new Float64Array(2 * (radix - 1) * m);
      for (let p = 0; p < m; p++) {
        for (let r = 1; r < radix; r++) {
          const angle = (-2 * Math.PI * r * p) / n;
          twiddles[2 * ((radix - 1) * p + r - 1)] = Math.cos(angle);
          twiddles[2 * ((radix - 1) * p + r - 1) + 1] = Math.sin(angle);
        }
      }
      const roots = new Float64Array(2 * radix);
      for (let k = 0; k < radix; k++) {
        roots[2 * k] = Math.cos((-2 * Math.PI * k) / radix);
        roots[2 * k + 1] = Math.sin((-2 * Math.PI * k) / radix);
      }
      this.stages.push({ radix, n, s, twiddles, roots });
      maxRadix = Math.max(maxRadix, radix);
      n = m;
      s *= radix;
    }
    this.scratch = new Float64Array(4 * maxRadix);
  }

  /**
   * Forward DFT (X[k] = Σ x[j]·e^(−2πi·jk/size)) of `input` (interleaved, 2·size values; left untouched). Returns an
   * internal buffer that the next call overwrites.
   */
  forward(input: Float64Array): Float64Array {
    let x = input;
    let y = this.bufA;
    if (this.stages.length === 0) {
      this.bufA.set(input.subarray(0, 2 * this.size));
      return this.bufA;
    }
    for (const stage of this.stages) {
      if (stage.radix === 4) {
        if (stage.n === 4) radix4Last(stage.s, x, y);
        else radix4(stage.n, stage.s, stage.twiddles, x, y);
      } else if (stage.radix === 2) {
        radix2(stage.n, stage.s, stage.twiddles, x, y);
      } else {
        radixGeneric(stage, x, y, this.scratch);
      }
      x = y;
      y = y === this.bufA ? this.bufB : this.bufA;
    }
    return x;
  }
}

function radix4(n: number, s: number, tw: Float64Array, x: Float64Array, y: Float64Array): void {
  // In bounds: the plan's stage has n·s = size, so ia + 3·sm2 + 1 and io + 3·s2 + 1 stay below 2·size (x's and y's
  // length), and tw holds 6 values per p < m = n/4.
  const m = n >> 2;
  const sm2 = 2 * s * m;
  const s2 = 2 * s;
  for (let p = 0; p < m; p++) {
    const t = 6 * p;
    const w1r = tw[t]!;
    const w1i = tw[t + 1]!;
    const w2r = tw[t + 2]!;
    const w2i = tw[t + 3]!;
    const w3r = tw[t + 4]!;
    const w3i = tw[t + 5]!;
    let ia = s2 * p;
    let io = 4 * s2 * p;
    for (let q = 0; q < s; q++, ia += 2, io += 2) {
      const ib = ia + sm2;
      const ic = ib + sm2;
      const id = ic + sm2;
      const ar = x[ia]!;
      const ai = x[ia + 1]!;
      const br = x[ib]!;
      const bi = x[ib + 1]!;
      const cr = x[ic]!;
      const ci = x[ic + 1]!;
      const dr = x[id]!;
      const di = x[id + 1]!;
      const apcR = ar + cr;
      const apcI = ai + ci;
      const amcR = ar - cr;
      const amcI = ai - ci;
      const bpdR = br + dr;
      const bpdI = bi + di;
      const bmdR = br - dr;
      const bmdI = bi - di;
      y[io] = apcR + bpdR;
      y[io + 1] = apcI + bpdI;
      // (a − c) − i(b − d), then × W^p
      const y1r = amcR + bmdI;
      const y1i = amcI - bmdR;
      y[io + s2] = y1r * w1r - y1i * w1i;
      y[io + s2 + 1] = y1r * w1i + y1i * w1r;
      const y2r = apcR - bpdR;
      const y2i = apcI - bpdI;
      y[io + 2 * s2] = y2r * w2r - y2i * w2i;
      y[io + 2 * s2 + 1] = y2r * w2i + y2i * w2r;
      // (a − c) + i(b − d), then × W^3p
      const y3r = amcR - bmdI;
      const y3i = amcI + bmdR;
      y[io + 3 * s2] = y3r * w3r - y3i * w3i;
      y[io + 3 * s2 + 1] = y3r * w3i + y3i * w3r;
    }
  }
}

/** The final radix-4 stage (n = 4): all twiddles are 1, and input and output strides coincide. */
function radix4Last(s: number, x: Float64Array, y: Float64Array): void {
  // In bounds: 4·s = size, so id + 1 = ia + 3·s2 + 1 < 4·s2 = 2·size, x's and y's length.
  const s2 = 2 * s;
  for (let ia = 0; ia < s2; ia += 2) {
    const ib = ia + s2;
    const ic = ib + s2;
    const id = ic + s2;
    const ar = x[ia]!;
    const ai = x[ia + 1]!;
    const br = x[ib]!;
    const bi = x[ib + 1]!;
    const cr = x[ic]!;
    const ci = x[ic + 1]!;
    const dr = x[id]!;
    const di = x[id + 1]!;
    const apcR = ar + cr;
    const apcI = ai + ci;
    const amcR = ar - cr;
    const amcI = ai - ci;
    const bpdR = br + dr;
    const bpdI = bi + di;
    const bmdR = br - dr;
    const bmdI = bi - di;
    y[ia] = apcR + bpdR;
    y[ia + 1] = apcI + bpdI;
    y[ib] = amcR + bmdI;
    y[ib + 1] = amcI - bmdR;
    y[ic] = apcR - bpdR;
    y[ic + 1] = apcI - bpdI;
    y[id] = amcR - bmdI;
    y[id + 1] = amcI + bmdR;
  }
}

function radix2(n: number, s: number, tw: Float64Array, x: Float64Array, y: Float64Array): void {
  // In bounds: n·s = size, so ia + sm2 + 1 and io + s2 + 1 stay below 2·size; tw holds 2 values per p < m = n/2.
  const m = n >> 1;
  const s2 = 2 * s;
  const sm2 = s2 * m;
  for (let p = 0; p < m; p++) {
    const wr = tw[2 * p]!;
    const wi = tw[2 * p + 1]!;
    let ia = s2 * p;
    let io = 2 * s2 * p;
    for (let q = 0; q < s; q++, ia += 2, io += 2) {
      const ar = x[ia]!;
      const ai = x[ia + 1]!;
      const br = x[ia + sm2]!;
      const bi = x[ia + sm2 + 1]!;
      y[io] = ar + br;
      y[io + 1] = ai + bi;
      const dr = ar - br;
      const di = ai - bi;
      y[io + s2] = dr * wr - di * wi;
      y[io + s2 + 1] = dr * wi + di * wr;
    }
  }
}

/** Any radix, by a direct DFT of each group of `radix` values: O(radix²), fine for the small odd factors Kaldi meets. */
function radixGeneric(stage: Stage, x: Float64Array, y: Float64Array, scratch: Float64Array): void {
  const { radix, n, s, twiddles, roots } = stage;
  // In bounds: n·s = size, so i and o stay below 2·size (x's and y's length); scratch holds at least 2·radix values,
  // roots 2·radix, and twiddles 2·(radix − 1) per p < m.
  const m = n / radix;
  for (let p = 0; p < m; p++) {
    for (let q = 0; q < s; q++) {
      for (let t = 0; t < radix; t++) {
        const i = 2 * (q + s * (p + t * m));
        scratch[2 * t] = x[i]!;
        scratch[2 * t + 1] = x[i + 1]!;
      }
      for (let r = 0; r < radix; r++) {
        let sr = 0;
        let si = 0;
        for (let t = 0; t < radix; t++) {
          const k = (r * t) % radix;
          const vr = scratch[2 * t]!;
          const vi = scratch[2 * t + 1]!;
          sr += vr * roots[2 * k]! - vi * roots[2 * k + 1]!;
          si += vr * roots[2 * k + 1]! + vi * roots[2 * k]!;
        }
        const o = 2 * (q + s * (radix * p + r));
        if (r === 0) {
          y[o] = sr;
          y[o + 1] = si;
        } else {
          const w = 2 * ((radix - 1) * p + r - 1);
          y[o] = sr * twiddles[w]! - si * twiddles[w + 1]!;
          y[o + 1] = sr * twiddles[w + 1]! + si * twiddles[w]!;
        }
      }
    }
  }
}

/** |X[k]|² for k = 0..N/2 of a real frame of even length N, via one N/2-point complex FFT. */
export class RealFftPower {
  readonly size: number;
  private readonly half: number;
  private readonly fft: ComplexFft;
  /** (cos, sin)(2πk/N) for k = 0..N/4, each halved: the split formula's ½ factors are folded in here. */
  private readonly twiddles: Float64Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 2 || size % 2 !== 0)
      throw new RangeError(`real FFT size must be even and >= 2, got ${size}`);
    this.size = size;
    this.half = size / 2;
    this.fft = new ComplexFft(this.half);
    const quarter = this.half >> 1;
    this.twiddles = new Float64Array(2 * (quarter + 1));
    for (let k = 0; k <= quarter; k++) {
      this.twiddles[2 * k] = 0.5 * Math.cos((2 * Math.PI * k) / size);
      this.twiddles[2 * k + 1] = 0.5 * Math.sin((2 * Math.PI * k) / size);
    }
  }

  /** Writes the power spectrum of `frame` (length N, read only) into `power` (length N/2 + 1). */
  power(frame: Float64Array, power: Float64Array): void {
    const z = this.fft.forward(frame);
    // In bounds: z holds 2·half values and power half + 1; k ≤ quarter and j = half − k ≥ quarter, so 2·j + 1 <
    // 2·half; tw holds 2·(quarter + 1) values.
    const half = this.half;
    const tw = this.twiddles;
    const z0r = z[0]!;
    const z0i = z[1]!;
    power[0] = (z0r + z0i) * (z0r + z0i);
    power[half] = (z0r - z0i) * (z0r - z0i);
    const quarter = half >> 1;
    for (let k = 1; k <= quarter; k++) {
      const j = half - k;
      const ar = z[2 * k]!;
      const ai = z[2 * k + 1]!;
      const br = z[2 * j]!;
      const bi = z[2 * j + 1]!;
      // Even part E = (Z[k] + conj Z[N/2−k]) / 2, odd part O = (Z[k] − conj Z[N/2−k]) / 2i; X[k] = E + W^k·O and
      // X[N/2−k] = conj(E − W^k·O). The halvings live in E below and in the twiddle table.
      const er = 0.5 * (ar + br);
      const ei = 0.5 * (ai - bi);
      const or = ai + bi;
      const oi = br - ar;
      const c = tw[2 * k]!;
      const s = tw[2 * k + 1]!;
      const tr = c * or + s * oi;
      const ti = c * oi - s * or;
      const xr = er + tr;
      const xi = ei + ti;
      power[k] = xr * xr + xi * xi;
      const yr = er - tr;
      const yi = ei - ti;
      power[j] = yr * yr + yi * yi;
    }
  }
}
