import { describe, expect, it } from 'vitest';
import { inverseMelScale, MelBanks, melLayout, melScale } from '../../worker/src/fbank';

describe("Kaldi mel scale and BEATs filter layout (torchaudio's get_mel_banks, docs/fbank.md)", () => {
  it('has the reference numbers: mel_low = 31.748578…, mel_high = 2840.037712…, Δ = 21.769683…', () => {
    const layout = melLayout(128, 20, 8000);
    expect(layout.mel_low).toBeCloseTo(31.748578, 6);
    expect(layout.mel_high).toBeCloseTo(2840.037712, 6);
    expect(layout.mel_delta).toBeCloseTo(21.769683, 6);
    expect(inverseMelScale(melScale(1234.5))).toBeCloseTo(1234.5, 9);
  });

  const banks = new MelBanks(128, 512, 16000, 20, 8000);
  const dense = banks.dense();
  const fftBins = 257;

  it('is 128 × 257 with a zero Nyquist column', () => {
    expect(banks.num_fft_bins).toBe(fftBins);
    for (let b = 0; b < 128; b++) expect(dense[b * fftBins + 256]).toBe(0);
  });

  it('puts each triangle between its edges: zero at and outside them, 1 nowhere exceeded', () => {
    const { mel_low, mel_delta } = banks.layout;
    for (let b = 0; b < 128; b++) {
      const left = mel_low + b * mel_delta;
      const right = mel_low + (b + 2) * mel_delta;
      for (let k = 0; k < 256; k++) {
        const w = dense[b * fftBins + k];
        const m = melScale(31.25 * k);
        expect(w).toBeGreaterThanOrEqual(0);
        expect(w).toBeLessThanOrEqual(1);
        if (m <= left - 1e-3 || m >= right + 1e-3) expect(w).toBe(0);
        if (m > left + 1e-3 && m < right - 1e-3) expect(w).toBeGreaterThan(0);
      }
    }
  });

  it('matches the triangle formula to float32 precision (torchaudio builds it in float32)', () => {
    const { mel_low, mel_delta } = banks.layout;
    for (let b = 0; b < 128; b += 9) {
      for (let k = 0; k < 256; k++) {
        const m = melScale(31.25 * k);
        const up = (m - (mel_low + b * mel_delta)) / mel_delta;
        const down = (mel_low + (b + 2) * mel_delta - m) / mel_delta;
        expect(Math.abs(dense[b * fftBins + k]! - Math.max(0, Math.min(up, down)))).toBeLessThan(2e-5);
      }
    }
  });

  it('first filter starts at FFT bin 1 (31.25 Hz > 20 Hz) and the last ends below Nyquist', () => {
    expect(banks.first[0]).toBe(1);
    const last = 127;
    const lastBin = banks.first[last]! + banks.offsets[last + 1]! - banks.offsets[last]! - 1;
    expect(lastBin).toBeLessThan(256);
    expect(lastBin).toBeGreaterThan(240);
  });

  it('touches each FFT bin from at most two adjacent filters (what makes the sparse form cheap)', () => {
    for (let k = 0; k < 257; k++) {
      const filters: number[] = [];
      for (let b = 0; b < 128; b++) if (dense[b * fftBins + k]! > 0) filters.push(b);
      expect(filters.length).toBeLessThanOrEqual(2);
      if (filters.length === 2) expect(filters[1]! - filters[0]!).toBe(1);
    }
    expect(banks.weights.length).toBeLessThan(2 * 256);
  });

  it('resolves a negative high_freq as an offset from Nyquist', () => {
    expect(melLayout(23, 20, 8000 - 500).mel_high).toBeCloseTo(melScale(7500), 12);
  });
});
