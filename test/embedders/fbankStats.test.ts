import { describe, expect, it } from 'vitest';
import { createEmbedder, FBANK_STATS_DIM } from '../../worker/src/embedders';
import { GoldenSet } from '../helpers/golden';

const golden = new GoldenSet('golden-beats-tiny');

describe('fbank-stats embedder', () => {
  it('is the per-bin temporal mean and std of the BEATs-normalised fbank (reference fbank)', async () => {
    const embedder = await createEmbedder('fbank-stats');
    expect(embedder.id).toBe('fbank-stats:v1');
    expect(embedder.numLayers).toBe(1);
    expect(embedder.dim('temporal')).toBe(256);
    const wave = golden.f32('beats/input_wave').data;
    const clips = [0, 1, 2].map((i) => wave.subarray(i * 160000, (i + 1) * 160000));
    const [features] = await embedder.embed(clips, { layers: [1], pooling: 'temporal' });
    expect(features!.length).toBe(3 * FBANK_STATS_DIM);
    const fbank = golden.f32('beats/fbank_norm').data;
    // The real recordings only: clip 2 is a zero-padded pure tone whose high bins hold rounding-noise energy, where
    // any two FFT implementations differ by far more than on real audio.
    for (let clip = 0; clip < 2; clip++) {
      for (const bin of [0, 17, 64, 127]) {
        let sum = 0;
        for (let t = 0; t < 998; t++) sum += fbank[(clip * 998 + t) * 128 + bin]!;
        const mean = sum / 998;
        let sq = 0;
        for (let t = 0; t < 998; t++) sq += (fbank[(clip * 998 + t) * 128 + bin]! - mean) ** 2;
        const std = Math.sqrt(sq / 998);
        // log-fbank within 1e-3 of the reference, normalised by 13.1: statistics agree to ~1e-4
        expect(features![clip * 256 + bin]).toBeCloseTo(mean, 3);
        expect(features![clip * 256 + 128 + bin]).toBeCloseTo(std, 3);
      }
    }
  });

  it('zero-pads short clips and keeps only the first 10 s of long ones', async () => {
    const embedder = await createEmbedder({ kind: 'fbank-stats' });
    const tone = Float32Array.from({ length: 160000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / 16000));
    const longer = new Float32Array(200000);
    longer.set(tone);
    longer.fill(0.9, 160000);
    const [features] = await embedder.embed([tone, longer, tone.subarray(0, 48000)], {
      layers: [1],
      pooling: 'temporal',
    });
    expect(Array.from(features!.subarray(256, 512))).toEqual(Array.from(features!.subarray(0, 256)));
    expect(features!.subarray(512, 768)).not.toEqual(features!.subarray(0, 256));
  });

  it('has one layer and only temporal statistics', async () => {
    const embedder = await createEmbedder({ kind: 'fbank-stats' });
    await expect(embedder.embed([new Float32Array(16000)], { layers: [2], pooling: 'temporal' })).rejects.toThrow(
      /single layer \(1\), got 2/,
    );
    expect(() => embedder.dim('spectral')).toThrow(/does not apply to fbank-stats/);
  });
});
