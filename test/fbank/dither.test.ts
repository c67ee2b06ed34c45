import { describe, expect, it } from 'vitest';
import { fbank } from '../../worker/src/fbank';

describe('dither', () => {
  const clip = Float32Array.from({ length: 8000 }, (_, i) => 1000 * Math.sin(i * 0.2));
  const silence = new Float32Array(8000);

  it('is off by default: dither 0 and no dither give the same features', () => {
    expect(fbank(clip, { dither: 0 }).data).toEqual(fbank(clip).data);
  });

  it('is repeatable for one seed and differs between seeds', () => {
    const a = fbank(silence, { dither: 1 }).data;
    expect(fbank(silence, { dither: 1 }).data).toEqual(a);
    expect(fbank(silence, { dither: 1, dither_seed: 0 }).data).toEqual(a);
    expect(fbank(silence, { dither: 1, dither_seed: 7 }).data).not.toEqual(a);
  });

  it('lifts silence off the log floor by about the expected noise power', () => {
    const floor = Math.log(1.1920928955078125e-7);
    const fb = fbank(silence, {
      dither: 1,
      remove_dc_offset: false,
      preemphasis_coefficient: 0,
      window_type: 'rectangular',
      use_log_fbank: false,
    });
    // White N(0, 1): E|X[k]|² = 400 per FFT bin, so filter energy ≈ 400 · (sum of its weights).
    let total = 0;
    for (const v of fb.data) total += v;
    const mean = total / fb.data.length;
    expect(mean).toBeGreaterThan(400);
    expect(Math.min(...fbank(silence, { dither: 1 }).data)).toBeGreaterThan(floor + 5);
  });

  it('barely moves a loud signal', () => {
    const plain = fbank(clip).data;
    const dithered = fbank(clip, { dither: 1 }).data;
    let peakPlain = -Infinity;
    let worst = 0;
    for (let i = 0; i < plain.length; i++) peakPlain = Math.max(peakPlain, plain[i]!);
    for (let i = 0; i < plain.length; i++)
      if (plain[i]! > peakPlain - 10) worst = Math.max(worst, Math.abs(plain[i]! - dithered[i]!));
    expect(worst).toBeLessThan(0.05);
  });
});
