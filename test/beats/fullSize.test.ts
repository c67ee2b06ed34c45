import { describe, expect, it } from 'vitest';
import { BEATS_OFFICIAL } from '../../worker/src/beats/config';
import { convertBeatsToBytes } from '../../worker/src/beats/convert';
import { randomBeatsWeights } from '../../worker/src/beats/randomWeights';
import { openSession, ort } from '../../worker/src/onnx/runtime';

describe('full-size BEATs (official configuration, random weights)', () => {
  it('converts and runs end to end: layers 1, 4, 12 temporal-pooled, B = 1', async () => {
    const tensors = randomBeatsWeights(BEATS_OFFICIAL, 7);
    expect(tensors.size).toBe(5 + 5 + 12 * 20);
    // Unique parameters (the shared relative-position table counted once) as the released checkpoints have them (90 M, docs/beats.md "Checks").
    const shared = /^encoder\.layers\.([1-9]|1[01])\.self_attn\.relative_attention_bias/;
    const parameters = [...tensors].filter(([key]) => !shared.test(key)).reduce((n, [, t]) => n + t.data.length, 0);
    expect(parameters).toBe(90_311_792);
    const bytes = convertBeatsToBytes(
      { file: 'random.pt', cfg: { ...BEATS_OFFICIAL }, tensors },
      { layers: [1, 4, 12], output: 'temporal' },
    );
    const { session } = await openSession(bytes, { threads: 2, device: 'cpu' });
    try {
      const fbank = Float32Array.from({ length: 998 * 128 }, (_, i) => Math.sin(i * 0.37) * 0.8);
      const out = await session.run({ fbank: new ort.Tensor('float32', fbank, [1, 998, 128]) });
      expect(Object.keys(out).sort()).toEqual(['layer12_temporal', 'layer1_temporal', 'layer4_temporal']);
      const vectors = ['layer1_temporal', 'layer4_temporal', 'layer12_temporal'].map((name) => {
        const value = out[name]!;
        expect(value.dims).toEqual([1, 8 * 768]);
        const data = value.data as Float32Array;
        expect(data.every(Number.isFinite)).toBe(true);
        return data;
      });
      // Post-LN outputs are normalised per token, so the pooled vectors are O(1), and deeper layers differ.
      const rms = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
      for (const v of vectors) expect(rms(v)).toBeGreaterThan(0.01);
      expect(vectors[0]).not.toEqual(vectors[2]);
    } finally {
      await session.release();
    }
  });
});
