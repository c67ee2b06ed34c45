import { describe, expect, it } from 'vitest';
import { featureWindow, WINDOW_TYPES } from '../../worker/src/fbank';

describe('Kaldi window functions', () => {
  const N = 400;

  it('are symmetric (period N − 1, as torch.*_window(periodic=False))', () => {
    for (const type of WINDOW_TYPES) {
      const w = featureWindow(type, N);
      for (let n = 0; n < N; n++) expect(w[n]).toBeCloseTo(w[N - 1 - n]!, 12);
    }
  });

  it('have the expected ends and middle', () => {
    const hann = featureWindow('hanning', N);
    expect(hann[0]).toBeCloseTo(0, 15);
    expect(hann[199]).toBeGreaterThan(0.9999);
    expect(featureWindow('povey', N)[0]).toBe(0);
    expect(featureWindow('hamming', N)[0]).toBeCloseTo(0.08, 12);
    expect([...featureWindow('rectangular', N)].every((v) => v === 1)).toBe(true);
    expect(featureWindow('blackman', N)[0]).toBeCloseTo(0, 12); // 0.42 − 0.5 + 0.08
  });

  it('povey is Hann to the power 0.85', () => {
    const hann = featureWindow('hanning', N);
    const povey = featureWindow('povey', N);
    for (let n = 0; n < N; n++) expect(povey[n]).toBeCloseTo(Math.pow(hann[n]!, 0.85), 14);
    expect(povey[100]).toBeGreaterThan(hann[100]!);
  });

  it('blackman follows blackman_coeff: coeff − 0.5cos(a n) + (0.5 − coeff)cos(2a n)', () => {
    const w = featureWindow('blackman', N, 0.3);
    const a = (2 * Math.PI) / (N - 1);
    for (const n of [0, 17, 123, 200, 399])
      expect(w[n]).toBeCloseTo(0.3 - 0.5 * Math.cos(a * n) + 0.2 * Math.cos(2 * a * n), 14);
  });
});
