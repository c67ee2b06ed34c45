import type { WindowType } from './options';

/**
 * Kaldi's window functions as torchaudio builds them (symmetric: the period is window_size − 1, so both ends are
 * sampled). Computed in float64; torchaudio builds them in float32, which differs by < 1e-7 relative.
 */
export function featureWindow(window_type: WindowType, window_size: number, blackman_coeff = 0.42): Float64Array {
  const w = new Float64Array(window_size);
  const a = (2 * Math.PI) / (window_size - 1);
  for (let n = 0; n < window_size; n++) {
    const c = Math.cos(a * n);
    switch (window_type) {
      case 'hanning':
        w[n] = 0.5 - 0.5 * c;
        break;
      case 'povey':
        // Hann raised to 0.85: like Hann but with less weight near the ends.
        w[n] = Math.pow(0.5 - 0.5 * c, 0.85);
        break;
      case 'hamming':
        w[n] = 0.54 - 0.46 * c;
        break;
      case 'rectangular':
        w[n] = 1;
        break;
      case 'blackman':
        // Kaldi's generalised Blackman (torch.blackman_window uses other coefficients).
        w[n] = blackman_coeff - 0.5 * c + (0.5 - blackman_coeff) * Math.cos(2 * a * n);
        break;
    }
  }
  return w;
}
