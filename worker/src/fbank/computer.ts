import { GenrepError } from '../errors';
import { RealFftPower } from './fft';
import { MelBanks } from './melBanks';
import { type FbankGeometry, type FbankOptions, resolveFbankOptions } from './options';
import { GaussianRandom } from './random';
import { KernelRunner } from './wasm/runner';
import { featureWindow } from './windows';

/** Filterbank features, time-major: `data[frame * bins + bin]`. */
export interface Fbank {
  /** (frames, bins) row-major float32. */
  data: Float32Array;
  frames: number;
  bins: number;
}

/** numeric_limits<float>::epsilon(), Kaldi's floor before every logarithm. */
export const FBANK_EPSILON = 1.1920928955078125e-7;

/**
 * How a computer runs (not fbank options: they change speed, not results beyond float64 round-off).
 * - backend: 'wasm' — the generated WebAssembly SIMD kernel (power-of-two FFT lengths, no dither, no energy column);
 *   'js' — plain TypeScript, every option; 'auto' (default) — 'wasm' where it applies and WebAssembly works.
 * - input_scale: the waveform is used as samples · input_scale (BEATs' × 2^15), without a scaled copy.
 * - output_scale / output_offset: each output value v becomes v · output_scale + output_offset, as a last step
 *   (BEATs' normalisation), fused into the kernel.
 */
export interface FbankRunOptions {
  backend?: 'auto' | 'wasm' | 'js';
  input_scale?: number;
  output_scale?: number;
  output_offset?: number;
}

/**
 * Kaldi fbank for one option set, equal to `torchaudio.compliance.kaldi.fbank(waveform, **options)`. The window,
 * FFT plan, twiddles and sparse mel matrix are built once here, so each clip costs only its frames. Arithmetic is
 * float64 throughout (torchaudio's is float32) except the mel weights, which are rounded exactly as torchaudio's
 * float32 ones; the result is rounded to float32 once, at the end.
 *
 * Not re-entrant (it owns its work buffers), which is fine for single-threaded callers; use one per worker.
 */
export class FbankComputer {
  readonly geometry: FbankGeometry;
  readonly window: Float64Array;
  readonly melBanks: MelBanks;
  /** Output columns: num_mel_bins, plus one for the energy with use_energy. */
  readonly bins: number;
  private readonly fft: RealFftPower;
  private readonly frame: Float64Array;
  private readonly spectrum: Float64Array;
  private readonly dithered: Float64Array;
  private emphasized = new Float64Array(0);
  /** Block size for the running sums behind frame means: gcd(window_shift, window_size), so frames align to blocks. */
  private readonly blockSize: number;
  private blockSums = new Float64Array(0);
  private readonly runOptions: Required<FbankRunOptions>;
  private kernel: KernelRunner | null | undefined;
  /** Which implementation compute() uses: decided at the first compute(), when the kernel is built. */
  backendInUse: 'wasm' | 'js' | undefined;

  constructor(options: FbankOptions = {}, run: FbankRunOptions = {}) {
    this.geometry = resolveFbankOptions(options);
    this.runOptions = {
      backend: run.backend ?? 'auto',
      input_scale: run.input_scale ?? 1,
      output_scale: run.output_scale ?? 1,
      output_offset: run.output_offset ?? 0,
    };
    const { options: o, window_size, padded_window_size, high_freq_hz } = this.geometry;
    this.window = featureWindow(o.window_type, window_size, o.blackman_coeff);
    this.melBanks = new MelBanks(o.num_mel_bins, padded_window_size, o.sample_frequency, o.low_freq, high_freq_hz);
    this.bins = o.num_mel_bins + (o.use_energy ? 1 : 0);
    this.fft = new RealFftPower(padded_window_size);
    // Samples past window_size are never written, so the zero padding up to the FFT length is free.
    this.frame = new Float64Array(padded_window_size);
    this.spectrum = new Float64Array(padded_window_size / 2 + 1);
    this.dithered = new Float64Array(window_size);
    this.blockSize = gcd(this.geometry.window_shift, window_size);
  }

  /** How many frames a clip of `num_samples` gives (torchaudio `_get_strided`). */
  numFrames(num_samples: number): number {
    const { window_size, window_shift, options } = this.geometry;
    if (options.snip_edges)
      return num_samples < window_size ? 0 : 1 + Math.floor((num_samples - window_size) / window_shift);
    return Math.floor((num_samples + Math.floor(window_shift / 2)) / window_shift);
  }

  /**
   * Features of one clip. With `into` (at least frames × bins long) the result is written there and `data` is a
   * view of it: a caller that reuses one buffer spares the allocation and the page faults of a fresh 0.5 MB array
   * per clip.
   */
  compute(waveform: Float32Array, into?: Float32Array): Fbank {
    const { options: o, window_size, window_shift } = this.geometry;
    const n = waveform.length;
    if (n < window_size) {
      throw new GenrepError(
        `clip has ${n} samples, shorter than one ${o.frame_length} ms frame (${window_size} samples)`,
        'BAD_INPUT',
        { field: 'waveform', expected: `at least ${window_size} samples` },
      );
    }
    const frames = n < o.min_duration * o.sample_frequency ? 0 : this.numFrames(n);
    const bins = this.bins;
    if (into && into.length < frames * bins) {
      throw new GenrepError(
        `output buffer holds ${into.length} values, the features need ${frames} × ${bins}`,
        'BAD_INPUT',
        {
          field: 'into',
          expected: `at least ${frames * bins} values`,
        },
      );
    }
    const data = into ? into.subarray(0, frames * bins) : new Float32Array(frames * bins);
    if (frames === 0) return { data, frames, bins };

    const source = o.snip_edges ? waveform : reflectEdges(waveform, window_size, window_shift);
    const kernel = this.kernelRunner();
    if (kernel) return this.computeWithKernel(kernel, source, waveform, data);
    this.growBuffers(source.length, true);
    this.prepareSource(source, waveform);
    const numMel = o.num_mel_bins;
    const melColumn = o.use_energy && !o.htk_compat ? 1 : 0;
    const energyColumn = o.use_energy ? (o.htk_compat ? numMel : 0) : -1;
    const logEnergyFloor = o.energy_floor === 0 ? -Infinity : Math.log(o.energy_floor);
    const random = o.dither !== 0 ? new GaussianRandom(o.dither_seed) : null;

    for (let i = 0; i < frames; i++) {
      const start = i * window_shift;
      const rawEnergy = random ? this.fillFrameDithered(source, start, random) : this.fillFrame(source, start);
      this.fft.power(this.frame, this.spectrum);
      const row = i * bins;
      this.applyMelBanks(data, row + melColumn);
      if (energyColumn >= 0) {
        const energy = o.raw_energy ? rawEnergy : sumOfSquares(this.frame);
        data[row + energyColumn] = Math.max(Math.log(Math.max(energy, FBANK_EPSILON)), logEnergyFloor);
      }
    }
    if (o.subtract_mean) subtractColumnMeans(data, frames, bins);
    applyAffine(data, this.runOptions.output_scale, this.runOptions.output_offset);
    return { data, frames, bins };
  }

  /** The kernel for this option set, built on first use; null where it does not apply (then the JS path runs). */
  private kernelRunner(): KernelRunner | null {
    if (this.kernel !== undefined) return this.kernel;
    const { options: o, padded_window_size } = this.geometry;
    const reasons: string[] = [];
    if ((padded_window_size & (padded_window_size - 1)) !== 0 || padded_window_size < 8)
      reasons.push('an FFT length that is not a power of two >= 8');
    if (o.dither !== 0) reasons.push('dither');
    if (o.use_energy) reasons.push('use_energy');
    if (typeof (globalThis as { WebAssembly?: unknown }).WebAssembly !== 'object') reasons.push('no WebAssembly');
    this.kernel = null;
    if (this.runOptions.backend === 'wasm' && reasons.length > 0) {
      throw new GenrepError(`the wasm fbank backend does not support ${reasons.join(', ')}`, 'UNSUPPORTED', {
        field: 'backend',
      });
    }
    if (this.runOptions.backend !== 'js' && reasons.length === 0) {
      try {
        // The kernel applies the output transform itself unless subtract_mean must come first.
        const fused = !o.subtract_mean;
        this.kernel = new KernelRunner({
          window: this.window,
          padded_window_size,
          mel: this.melBanks,
          use_power: o.use_power,
          use_log_fbank: o.use_log_fbank,
          scale: fused ? this.runOptions.output_scale : 1,
          offset: fused ? this.runOptions.output_offset : 0,
          preemphasis_coefficient: o.preemphasis_coefficient,
          input_scale: this.runOptions.input_scale,
        });
      } catch (err) {
        // An engine without WebAssembly SIMD refuses the module: fall back, unless the kernel was asked for.
        if (this.runOptions.backend === 'wasm') throw err;
      }
    }
    this.backendInUse = this.kernel ? 'wasm' : 'js';
    return this.kernel;
  }

  private computeWithKernel(
    kernel: KernelRunner,
    source: Float32Array,
    waveform: Float32Array,
    data: Float32Array,
  ): Fbank {
    const { options: o, window_shift } = this.geometry;
    const frames = data.length / this.bins;
    const scale = this.runOptions.input_scale;
    kernel.load(source, frames);
    this.growBuffers(source.length, false);
    this.sumBlocks(source, waveform);
    const c = o.preemphasis_coefficient;
    const starts = new Int32Array(frames);
    const k = new Float64Array(frames);
    const y0 = new Float64Array(frames);
    // In bounds: every frame start lies inside `source` (numFrames counts only frames that fit); window is
    // window_size ≥ 1 long.
    for (let i = 0; i < frames; i++) {
      const start = i * window_shift;
      const mean = o.remove_dc_offset ? this.frameMean(start) : 0;
      starts[i] = start;
      k[i] = mean * (1 - c);
      y0[i] = this.window[0]! * (1 - c) * (source[start]! * scale - mean);
    }
    kernel.run(starts, k, y0, data);
    if (o.subtract_mean) {
      subtractColumnMeans(data, frames, this.bins);
      applyAffine(data, this.runOptions.output_scale, this.runOptions.output_offset);
    }
    return { data, frames, bins: this.bins };
  }

  /** The kernel keeps the pre-emphasised clip in its own memory; the JS path needs its own array. */
  private growBuffers(samples: number, emphasized: boolean): void {
    if (emphasized && this.emphasized.length < samples) this.emphasized = new Float64Array(samples);
    const blocks = Math.floor(samples / this.blockSize) + 1;
    if (this.blockSums.length < blocks) this.blockSums = new Float64Array(blocks);
  }

  /**
   * JS path, once per clip: refuses non-finite samples and (without dither) keeps the pre-emphasised signal and
   * running block sums, so each frame's mean is O(1) and its pre-emphasis is shared with the frames that overlap it.
   */
  private prepareSource(source: Float32Array, waveform: Float32Array): void {
    const { options: o } = this.geometry;
    const n = source.length;
    const scale = this.runOptions.input_scale;
    // In bounds: t < n = source.length ≤ emphasized.length (growBuffers), and n ≥ window_size ≥ 1.
    if (o.dither !== 0) {
      let check = 0;
      for (let t = 0; t < n; t++) check += source[t]! - source[t]!;
      if (check !== 0) throwNonFinite(waveform);
      return;
    }
    const c = o.preemphasis_coefficient * scale;
    const out = this.emphasized;
    out[0] = source[0]! * (scale - c);
    for (let t = 1; t < n; t++) out[t] = source[t]! * scale - c * source[t - 1]!;
    this.sumBlocks(source, waveform);
  }

  /**
   * Running sums (× input_scale) at block boundaries only: frames start and end on multiples of the block size,
   * and a per-sample prefix array costs several times a whole pass over the clip (a 1.3 MB store stream).
   * A float64 sum of float32 samples cannot overflow, so the total is finite exactly when every sample is: this
   * is also the NaN / Inf check.
   */
  private sumBlocks(source: Float32Array, waveform: Float32Array): void {
    const n = source.length;
    const g = this.blockSize;
    const scale = this.runOptions.input_scale;
    const sums = this.blockSums;
    const blocks = Math.floor(n / g);
    // In bounds: t < blocks·g ≤ n = source.length within blocks, t < n after them; blockSums holds blocks + 1.
    let total = 0;
    sums[0] = 0;
    for (let b = 0; b < blocks; b++) {
      let even = 0;
      let odd = 0;
      const end = (b + 1) * g;
      let t = b * g;
      for (; t + 1 < end; t += 2) {
        even += source[t]!;
        odd += source[t + 1]!;
      }
      if (t < end) even += source[t]!;
      total += even + odd;
      sums[b + 1] = total * scale;
    }
    for (let t = blocks * g; t < n; t++) total += source[t]!;
    if (!Number.isFinite(total)) throwNonFinite(waveform);
  }

  /** Mean of source[start .. start + window_size), from the block sums. */
  private frameMean(start: number): number {
    const { window_size } = this.geometry;
    const g = this.blockSize;
    // In bounds: frames start and end on block boundaries inside the clip, whose block sums sumBlocks wrote.
    return (this.blockSums[(start + window_size) / g]! - this.blockSums[start / g]!) / window_size;
  }

  /**
   * Frame at `start`: DC removal, pre-emphasis (first sample against itself, as Kaldi), window. With DC removal the
   * pre-emphasised sample is e[t] − mean·(1 − c), so the shared pre-emphasised signal serves every frame.
   * Returns the raw energy Σ(x − mean)² when the energy column needs it.
   */
  private fillFrame(source: Float32Array, start: number): number {
    const { options: o, window_size } = this.geometry;
    const c = o.preemphasis_coefficient;
    const mean = o.remove_dc_offset ? this.frameMean(start) : 0;
    const shift = mean * (1 - c);
    const frame = this.frame;
    const window = this.window;
    const emphasized = this.emphasized.subarray(start, start + window_size);
    const scale = this.runOptions.input_scale;
    // In bounds: j < window_size = window.length ≤ frame.length, and the frame [start, start + window_size) lies
    // inside `source` and `emphasized`.
    frame[0] = window[0]! * (1 - c) * (source[start]! * scale - mean);
    for (let j = 1; j < window_size; j++) frame[j] = window[j]! * (emphasized[j]! - shift);
    if (!o.use_energy || !o.raw_energy) return 0;
    let energy = 0;
    for (let j = 0; j < window_size; j++) {
      const d = source[start + j]! * scale - mean;
      energy += d * d;
    }
    return energy;
  }

  /** The same, with fresh Gaussian noise per frame (torchaudio draws dither for the strided frames, overlaps included). */
  private fillFrameDithered(source: Float32Array, start: number, random: GaussianRandom): number {
    const { options: o, window_size } = this.geometry;
    const c = o.preemphasis_coefficient;
    const buf = this.dithered;
    // In bounds: j < window_size = buf.length = window.length ≤ frame.length; the frame lies inside `source`.
    let sum = 0;
    const scale = this.runOptions.input_scale;
    for (let j = 0; j < window_size; j++) {
      const v = source[start + j]! * scale + o.dither * random.gaussian();
      buf[j] = v;
      sum += v;
    }
    const mean = o.remove_dc_offset ? sum / window_size : 0;
    let energy = 0;
    let previous = buf[0]! - mean;
    for (let j = 0; j < window_size; j++) {
      const d = buf[j]! - mean;
      energy += d * d;
      this.frame[j] = this.window[j]! * (d - c * previous);
      previous = d;
    }
    return energy;
  }

  private applyMelBanks(out: Float32Array, at: number): void {
    const { options: o } = this.geometry;
    const spectrum = this.spectrum;
    // In bounds: b < num_bins, offsets holds num_bins + 1 entries, and the mel matrix (melBanks.ts) keeps every
    // weight index w < weights.length and every bin k < padded_window_size/2 + 1 = spectrum.length.
    if (!o.use_power) for (let k = 0; k < spectrum.length; k++) spectrum[k] = Math.sqrt(spectrum[k]!);
    const { first, offsets, weights, num_bins } = this.melBanks;
    const log = o.use_log_fbank;
    for (let b = 0; b < num_bins; b++) {
      let acc = 0;
      let k = first[b]!;
      const end = offsets[b + 1]!;
      for (let w = offsets[b]!; w < end; w++, k++) acc += spectrum[k]! * weights[w]!;
      out[at + b] = log ? Math.log(acc > FBANK_EPSILON ? acc : FBANK_EPSILON) : acc;
    }
  }
}

/**
 * torchaudio's snip_edges=false framing: the clip reflected at both ends with the edge sample repeated
 * ([2, 1, 0, 0, 1, 2] rather than numpy's [2, 1, 0, 1, 2]), window_size/2 − window_shift/2 samples on the left
 * (a negative amount trims the front), and the whole reversed clip on the right.
 */
export function reflectEdges(waveform: Float32Array, window_size: number, window_shift: number): Float32Array {
  const n = waveform.length;
  const pad = Math.floor(window_size / 2) - Math.floor(window_shift / 2);
  const left = Math.max(pad, 0);
  const skip = Math.max(-pad, 0);
  const out = new Float32Array(left + (n - skip) + n);
  // In bounds for clips of at least window_size samples (compute() refuses shorter ones): left − 1 − t < pad < n,
  // and n − 1 − t ≥ 0 for t < n.
  for (let t = 0; t < left; t++) out[t] = waveform[left - 1 - t]!;
  out.set(waveform.subarray(skip), left);
  const tail = left + n - skip;
  for (let t = 0; t < n; t++) out[tail + t] = waveform[n - 1 - t]!;
  return out;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function applyAffine(data: Float32Array, scale: number, offset: number): void {
  if (scale === 1 && offset === 0) return;
  // In bounds: i < data.length.
  for (let i = 0; i < data.length; i++) data[i] = data[i]! * scale + offset;
}

function sumOfSquares(frame: Float64Array): number {
  let s = 0;
  // In bounds: j < frame.length.
  for (let j = 0; j < frame.length; j++) s += frame[j]! * frame[j]!;
  return s;
}

function subtractColumnMeans(data: Float32Array, frames: number, bins: number): void {
  if (frames === 0) return;
  const means = new Float64Array(bins);
  // In bounds: b < bins = means.length, i·bins + b < frames·bins ≤ data.length.
  for (let i = 0; i < frames; i++) for (let b = 0; b < bins; b++) means[b]! += data[i * bins + b]!;
  for (let b = 0; b < bins; b++) means[b]! /= frames;
  for (let i = 0; i < frames; i++) for (let b = 0; b < bins; b++) data[i * bins + b]! -= means[b]!;
}

function throwNonFinite(waveform: Float32Array): never {
  const index = waveform.findIndex((x) => !Number.isFinite(x));
  throw new GenrepError(
    `waveform sample ${index} is ${waveform[index]}; audio samples must be finite numbers`,
    'BAD_INPUT',
    {
      field: 'waveform',
      expected: 'finite samples',
    },
  );
}
