import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../worker/src/checkpoint';
import { FIXTURES } from '../helpers/golden';

/**
 * dtypes.pt and plain-state-dict.pt were written by torch (make_checkpoint_fixtures.py beside this test);
 * reference.json holds what torch.load gives for them, as float32 values in C order. The reader must agree exactly.
 */
interface TensorReference {
  shape: number[];
  dtype: string;
  values: (number | string)[];
}
const reference = JSON.parse(readFileSync(path.join(FIXTURES, 'checkpoint', 'reference.json'), 'utf8')) as {
  'dtypes.pt': {
    cfg: Record<string, unknown>;
    label_dict: Record<string, unknown>;
    extra_keys: string[];
    tensors: Record<string, TensorReference>;
  };
  'plain-state-dict.pt': { tensors: Record<string, TensorReference> };
};

function expectedValues(ref: TensorReference): number[] {
  return ref.values.map((v) => (typeof v === 'number' ? v : Number(v.replace('inf', 'Infinity'))));
}

describe('crafted checkpoint with every dtype and view kind', () => {
  it('converts each tensor to exactly the float32 values torch gives', async () => {
    const ck = await readCheckpoint(path.join(FIXTURES, 'checkpoint', 'dtypes.pt'));
    const tensors = reference['dtypes.pt'].tensors;
    expect([...ck.tensors.keys()]).toEqual(Object.keys(tensors));
    for (const [key, ref] of Object.entries(tensors)) {
      const t = ck.tensors.get(key)!;
      expect(t.shape, key).toEqual(ref.shape);
      expect(Array.from(t.data), key).toEqual(expectedValues(ref));
      expect(ck.storedDtypes.get(key), key).toBe(ref.dtype);
    }
  });

  it('returns cfg values as plain data (tuples as arrays, huge ints as bigint), label_dict, and the extra keys', async () => {
    const ck = await readCheckpoint(path.join(FIXTURES, 'checkpoint', 'dtypes.pt'));
    const { cfg, label_dict, extra_keys } = reference['dtypes.pt'];
    expect(ck.cfg).toEqual({ ...cfg, big_int: BigInt(cfg['big_int'] as string) });
    expect(ck.labelDict).toEqual(label_dict);
    expect(ck.extraKeys).toEqual(extra_keys);
    expect(ck.layout).toBe('checkpoint');
  });

  it('keeps tensors that share a storage independent', async () => {
    const ck = await readCheckpoint(path.join(FIXTURES, 'checkpoint', 'dtypes.pt'));
    const a = ck.tensors.get('shared_a')!;
    const b = ck.tensors.get('shared_b')!;
    const before = b.data[0];
    a.data[0] = 1234;
    expect(b.data[0]).toBe(before);
  });

  it('reads a bare state dict with cfg {} and says so', async () => {
    const ck = await readCheckpoint(path.join(FIXTURES, 'checkpoint', 'plain-state-dict.pt'));
    expect(ck.layout).toBe('state-dict');
    expect(ck.cfg).toEqual({});
    expect(ck.labelDict).toBeUndefined();
    const tensors = reference['plain-state-dict.pt'].tensors;
    expect([...ck.tensors.keys()]).toEqual(Object.keys(tensors));
    for (const [key, ref] of Object.entries(tensors)) {
      expect(ck.tensors.get(key)!.shape).toEqual(ref.shape);
      expect(Array.from(ck.tensors.get(key)!.data)).toEqual(expectedValues(ref));
    }
  });

  it('refuses the legacy (non-zip) format with what to do', async () => {
    const file = path.join(FIXTURES, 'checkpoint', 'legacy.pt');
    await expect(readCheckpoint(file)).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringMatching(
        /legacy \(non-zip\) PyTorch format: re-save with torch\.save\(obj, path\) in torch >= 1\.6/,
      ) as unknown,
    });
  });
});
