import { at } from '../util/at';

/** Kaldi's mel scale: 1127 · ln(1 + f / 700). */
export function melScale(freq: number): number {
  return 1127.0 * Math.log(1.0 + freq / 700.0);
}

export function inverseMelScale(mel: number): number {
  return 700.0 * (Math.exp(mel / 1127.0) - 1.0);
}

/** Where the triangles sit, in mel: bin b spans [mel_low + b·Δ, mel_low + (b+2)·Δ] and peaks at mel_low + (b+1)·Δ. */
export interface MelLayout {
  mel_low: number;
  mel_high: number;
  /** Δ = (mel_high − mel_low) / (num_bins + 1). */
  mel_delta: number;
}

export function melLayout(num_bins: number, low_freq: number, high_freq_hz: number): MelLayout {
  const mel_low = melScale(low_freq);
  const mel_high = melScale(high_freq_hz);
  return { mel_low, mel_high, mel_delta: (mel_high - mel_low) / (num_bins + 1) };
}

/**
 * Kaldi's triangular mel filterbank (torchaudio `get_mel_banks` with vtln_warp = 1), held sparsely: each filter
 * covers one contiguous run of FFT bins, so filter b is `weights[offsets[b] .. offsets[b+1])` applied to FFT bins
 * `first[b] ..`. The Nyquist bin (index padded_window_size / 2) has weight 0 in every filter, as in torchaudio.
 */
export class MelBanks {
  readonly num_bins: number;
  /** Number of FFT bins the dense matrix has (padded_window_size / 2 + 1, the Nyquist column included). */
  readonly num_fft_bins: number;
  /** (num_bins,) the first FFT bin of each filter. */
  readonly first: Int32Array;
  /** (num_bins + 1,) where each filter's weights start in `weights`; the last entry is weights.length. */
  readonly offsets: Int32Array;
  /** All filters' weights, concatenated. */
  readonly weights: Float64Array;
  readonly layout: MelLayout;

  constructor(
    num_bins: number,
    padded_window_size: number,
    sample_frequency: number,
    low_freq: number,
    high_freq_hz: number,
  ) {
    this.num_bins = num_bins;
    const half = padded_window_size / 2;
    this.num_fft_bins = half + 1;
    this.layout = melLayout(num_bins, low_freq, high_freq_hz);
    const weightsOf = torchFloat32Weights(padded_window_size, sample_frequency, this.layout);

    this.first = new Int32Array(num_bins);
    this.offsets = new Int32Array(num_bins + 1);
    const runs: number[][] = [];
    let total = 0;
    // In bounds: k < half = row.length.
    for (let b = 0; b < num_bins; b++) {
      const row = weightsOf(b);
      const run: number[] = [];
      let first = -1;
      for (let k = 0; k < half; k++) {
        const w = row[k]!;
        if (w > 0) {
          if (first < 0) first = k;
          // The triangle is convex in k, so its support is contiguous: pad any interior zero rather than split.
          while (first + run.length < k) run.push(0);
          run.push(w);
        }
      }
      this.first[b] = first < 0 ? 0 : first;
      this.offsets[b] = total;
      total += run.length;
      runs.push(run);
    }
    this.offsets[num_bins] = total;
    this.weights = new Float64Array(total);
    runs.forEach((run, b) => this.weights.set(run, at(this.offsets, b, 'mel filter offsets')));
  }

  /** The dense (num_bins × num_fft_bins) matrix, row-major, as torchaudio returns it after padding the Nyquist column. */
  dense(): Float64Array {
    const out = new Float64Array(this.num_bins * this.num_fft_bins);
    // In bounds: b < num_bins, offsets holds num_bins + 1 entries, and i runs over filter b's weights.
    for (let b = 0; b < this.num_bins; b++) {
      for (let i = this.offsets[b]!; i < this.offsets[b + 1]!; i++) {
        out[b * this.num_fft_bins + this.first[b]! + i - this.offsets[b]!] = this.weights[i]!;
      }
    }
    return out;
  }
}

const f32 = Math.fround;

/**
 * The weights exactly as torchaudio's get_mel_banks rounds them: it builds the matrix in float32 (torch.arange
 * tensors meet Python-float scalars) even when the waveform is float64. Following its rounding step by step
 * rather than computing in float64 matters: float32 mel values near 2840 carry ~1e-4 of error, which moves
 * narrow low-frequency filters' log outputs by up to ~4e-4. Returns filter b's weights for FFT bins 0..N/2−1.
 */
function torchFloat32Weights(
  padded_window_size: number,
  sample_frequency: number,
  layout: MelLayout,
): (b: number) => Float64Array {
  const half = padded_window_size / 2;
  const fft_bin_width = f32(sample_frequency / padded_window_size);
  const mel = new Float64Array(half);
  for (let k = 0; k < half; k++) {
    const freq = f32(fft_bin_width * k);
    mel[k] = f32(1127.0 * f32(Math.log(f32(1.0 + f32(freq / 700.0)))));
  }
  const mel_low = f32(layout.mel_low);
  const delta = f32(layout.mel_delta);
  return (b: number) => {
    const left = f32(mel_low + f32(b * delta));
    const center = f32(mel_low + f32((b + 1) * delta));
    const right = f32(mel_low + f32((b + 2) * delta));
    const row = new Float64Array(half);
    // In bounds: k < half = mel.length.
    for (let k = 0; k < half; k++) {
      const up = f32(f32(mel[k]! - left) / f32(center - left));
      const down = f32(f32(right - mel[k]!) / f32(right - center));
      row[k] = Math.max(0, Math.min(up, down));
    }
    return row;
  };
}
