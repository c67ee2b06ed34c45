import { MelBanks } from '../../fbank/melBanks';

function hzToMel(f: number, scale: 'htk' | 'slaney'): number {
  if (scale === 'htk') return 2595 * Math.log10(1 + f / 700);
  // Slaney: linear (200/3 Hz per mel) below 1 kHz, logarithmic above.
  return f >= 1000 ? 15 + Math.log(f / 1000) / (Math.log(6.4) / 27) : f / (200 / 3);
}

function melToHz(m: number, scale: 'htk' | 'slaney'): number {
  if (scale === 'htk') return 700 * (10 ** (m / 2595) - 1);
  return m >= 15 ? 1000 * Math.exp((Math.log(6.4) / 27) * (m - 15)) : (200 / 3) * m;
}

/**
 * Dense (n_mels × n_freqs) mel matrix, row-major. htk / slaney: torchaudio.functional.melscale_fbanks (triangles on
 * linspace(0, sample_rate // 2, n_freqs), 'slaney' norm = 2 / bandwidth); kaldi: Kaldi's banks (our fbank's, with
 * torchaudio's float32 rounding), whose Nyquist column is 0 as EfficientAT pads it.
 */
export function melFilters(
  scale: 'htk' | 'slaney' | 'kaldi',
  n_fft: number,
  sampleRate: number,
  n_mels: number,
  f_min: number,
  f_max: number,
  norm: 'slaney' | undefined,
): Float64Array {
  const n_freqs = Math.floor(n_fft / 2) + 1;
  if (scale === 'kaldi') return new MelBanks(n_mels, n_fft, sampleRate, f_min, f_max).dense();
  const mMin = hzToMel(f_min, scale);
  const mMax = hzToMel(f_max, scale);
  const fPts = new Float64Array(n_mels + 2);
  // In bounds: i < n_mels + 2 = fPts.length.
  for (let i = 0; i < n_mels + 2; i++) fPts[i] = melToHz(mMin + ((mMax - mMin) * i) / (n_mels + 1), scale);
  const top = Math.floor(sampleRate / 2);
  const out = new Float64Array(n_mels * n_freqs);
  // In bounds: m + 2 < n_mels + 2 = fPts.length; k < n_freqs, so m·n_freqs + k < out.length.
  for (let m = 0; m < n_mels; m++) {
    const lo = fPts[m]!;
    const mid = fPts[m + 1]!;
    const hi = fPts[m + 2]!;
    const enorm = norm === 'slaney' ? 2 / (hi - lo) : 1;
    for (let k = 0; k < n_freqs; k++) {
      const f = n_freqs === 1 ? 0 : (top * k) / (n_freqs - 1);
      const down = (f - lo) / (mid - lo);
      const up = (hi - f) / (hi - mid);
      const w = Math.max(0, Math.min(down, up));
      out[m * n_freqs + k] = w * enorm;
    }
  }
  return out;
}
