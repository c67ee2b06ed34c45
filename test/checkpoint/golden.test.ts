import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint, type Checkpoint } from '../../worker/src/checkpoint';
import { FIXTURES, GoldenSet } from '../helpers/golden';

/**
 * Values checked against what torch.load returned (test/fixtures/checkpoint/reference.json, made by
 * make_checkpoint_fixtures.py beside this test).
 */
const reference = JSON.parse(readFileSync(path.join(FIXTURES, 'checkpoint', 'reference.json'), 'utf8')) as {
  'golden-beats-tiny/checkpoint.pt': {
    label_dict: Record<string, string>;
    tensors: Record<string, { shape: number[]; sum: number; sum_sq: number; first: number[]; last: number }>;
  };
};

const golden = new GoldenSet('golden-beats-tiny');
const manifest = golden.manifest['checkpoint'] as {
  cfg: Record<string, unknown>;
  state_dict: Record<string, number[]>;
};

describe('golden BEATs-shaped checkpoint (torch 1.13 zip, pickle protocol 2)', () => {
  let ck: Checkpoint;
  beforeAll(async () => {
    ck = await readCheckpoint(path.join(golden.dir, 'checkpoint.pt'), { sha256: true });
  });

  it('has every state-dict key with the manifest shape, and nothing else', () => {
    expect([...ck.tensors.keys()].sort()).toEqual(Object.keys(manifest.state_dict).sort());
    for (const [key, shape] of Object.entries(manifest.state_dict)) {
      const t = ck.tensors.get(key)!;
      expect(t.shape, key).toEqual(shape);
      expect(t.data.length, key).toBe(shape.reduce((a, b) => a * b, 1));
      expect(t.data).toBeInstanceOf(Float32Array);
    }
  });

  it('returns cfg equal to the manifest cfg, and the label dict', () => {
    expect(ck.layout).toBe('checkpoint');
    expect(ck.cfg).toEqual(manifest.cfg);
    expect(ck.labelDict).toEqual(reference['golden-beats-tiny/checkpoint.pt'].label_dict);
    expect(ck.extraKeys).toEqual([]);
    expect([...ck.storedDtypes.values()].every((d) => d === 'float32')).toBe(true);
  });

  it('matches torch values: first/last elements exactly, sums to float64 rounding', () => {
    const tensors = reference['golden-beats-tiny/checkpoint.pt'].tensors;
    expect(Object.keys(tensors).length).toBe(ck.tensors.size);
    for (const [key, ref] of Object.entries(tensors)) {
      const { data, shape } = ck.tensors.get(key)!;
      expect(shape, key).toEqual(ref.shape);
      expect(Array.from(data.subarray(0, 4)), key).toEqual(ref.first);
      expect(data[data.length - 1], key).toBe(ref.last);
      let sum = 0;
      let sumSq = 0;
      for (const v of data) {
        sum += v;
        sumSq += v * v;
      }
      expect(Math.abs(sum - ref.sum), key).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(ref.sum)));
      expect(Math.abs(sumSq - ref.sum_sq), key).toBeLessThanOrEqual(1e-9 * ref.sum_sq);
    }
  });

  it('gives the two keys that share one storage equal values in separate arrays', () => {
    const a = ck.tensors.get('encoder.layers.0.self_attn.relative_attention_bias.weight')!;
    const b = ck.tensors.get('encoder.layers.1.self_attn.relative_attention_bias.weight')!;
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(a.data.buffer).not.toBe(b.data.buffer);
  });

  it('hashes the file when asked', async () => {
    const { createHash } = await import('node:crypto');
    const expected = createHash('sha256')
      .update(readFileSync(path.join(golden.dir, 'checkpoint.pt')))
      .digest('hex');
    expect(ck.sha256).toBe(expected);
    const plain = await readCheckpoint(path.join(golden.dir, 'checkpoint.pt'));
    expect(plain.sha256).toBeUndefined();
  });

  it('reports progress over the storage bytes', async () => {
    const calls: [number, number][] = [];
    await readCheckpoint(path.join(golden.dir, 'checkpoint.pt'), {
      onProgress: (done, total) => calls.push([done, total]),
    });
    const total = Object.values(manifest.state_dict).reduce((s, shape) => s + 4 * shape.reduce((a, b) => a * b, 1), 0);
    // one storage is shared by two keys, so the bytes read are less than the sum over keys by one copy of it
    const shared = 4 * 320 * 4;
    expect(calls.at(-1)).toEqual([total - shared, total - shared]);
    expect(calls.every(([d], i) => i === 0 || d > calls[i - 1]![0])).toBe(true);
  });
});
