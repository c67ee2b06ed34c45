import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ArchitectureInput, type CheckpointArchitecture, readCheckpoint } from '../../worker/src/checkpoint';
import { PickleFault, unpickle } from '../../worker/src/checkpoint/pickle';
import { PyFloat } from '../../worker/src/checkpoint/pythonValues';
import { torchUnpickleHooks } from '../../worker/src/checkpoint/torchGlobals';
import { genrepRejection, thrownOf } from '../helpers/errors';
import { float32Bytes, PickleBuilder, statePickle, torchZip, writeTorchZip, type TensorSpec } from './torchZip';

/**
 * The limits that keep a hostile checkpoint from sizing memory: checks before any tensor data is read, the tensor
 * memory budget, stride-0 views, zip sizes and ratios, and the unpickler's own object budget.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-ckpt-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function save(bytes: Uint8Array): string {
  const file = path.join(dir, `case${counter++}.pt`);
  writeFileSync(file, bytes);
  return file;
}

/** `count` tensors, each the whole of one storage of `numel` floats (memoised, so the pickle stays small). */
function viewsOfOneStorage(count: number, numel: number): Uint8Array {
  const p = new PickleBuilder().proto(2).emptyDict().mark().str('model');
  p.global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  for (let i = 0; i < count; i++) {
    p.str(`t${i}`);
    if (i > 0) {
      p.get(0).get(1).reduce();
      continue;
    }
    p.global('torch._utils', '_rebuild_tensor_v2').put(0).mark();
    p.mark().str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(numel).tuple().binpersid();
    p.int(0).mark().int(numel).tuple().mark().int(1).tuple().bool(false);
    p.global('collections', 'OrderedDict').emptyTuple().reduce();
    p.tuple().put(1).reduce();
  }
  return p.setitems().setitems().stop().toBytes();
}

/** BINUNICODE of a long string (PickleBuilder.str spreads its bytes into one call, too many for a megabyte). */
function bigString(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const head = Buffer.alloc(5);
  head[0] = 0x58;
  head.writeUInt32LE(body.length, 1);
  return Buffer.concat([head, body]);
}

function architecture(
  check: (input: ArchitectureInput) => number,
  refuseExpandedViews = false,
): CheckpointArchitecture {
  return { name: 'Test', refuseExpandedViews, check: (input) => ({ parameterBytes: check(input) }) };
}

describe('checks before any tensor data is read', () => {
  const oneTensor = statePickle([{ key: 'w', storageKey: '0', numel: 4, size: [2, 2] }]);

  it('hands the architecture cfg, float keys and declared shapes, and reads nothing when it refuses', async () => {
    // the storage fails its CRC, so reading it would say so: the architecture's error must come first
    const spoiled = writeTorchZip([
      { name: 'archive/data.pkl', data: oneTensor },
      { name: 'archive/data/0', data: float32Bytes([1, 2, 3, 4]), crc: 1234 },
    ]);
    const seen: ArchitectureInput[] = [];
    const refusing = architecture((input) => {
      seen.push(input);
      throw new Error('refused by the architecture');
    });
    const file = save(spoiled);
    await expect(readCheckpoint(file, { architecture: refusing })).rejects.toThrow(/^refused by the architecture$/);
    expect(seen[0]!.cfg).toEqual({ embed_dim: 4 });
    expect([...seen[0]!.shapes]).toEqual([['w', [2, 2]]]);
    expect(seen[0]!.layout).toBe('checkpoint');
    await expect(readCheckpoint(file)).rejects.toMatchObject({
      message: expect.stringMatching(/fails its CRC-32/) as unknown,
    });
  });

  it('checks every storage entry size before reading any (no half-read file)', async () => {
    const two = statePickle([
      { key: 'a', storageKey: '0', numel: 4, size: [4] },
      { key: 'b', storageKey: '1', numel: 4, size: [4] },
    ]);
    const file = save(torchZip(two, { '0': float32Bytes([1, 2, 3, 4]), '1': float32Bytes([1, 2, 3]) }));
    const progress: number[] = [];
    await expect(readCheckpoint(file, { onProgress: (done) => progress.push(done) })).rejects.toMatchObject({
      code: 'CORRUPT',
      message: expect.stringMatching(
        /archive\/data\/1 holds 12 bytes but the checkpoint's pickle declares 16/,
      ) as unknown,
    });
    expect(progress).toEqual([]);
  });

  it('reports Python floats in cfg (2.0 reads as 2 but is named as a float)', async () => {
    const p = new PickleBuilder().proto(2).emptyDict().str('cfg').emptyDict();
    p.str('layers').float(2).setitem().str('heads').int(2).setitem().str('drop').float(0.1).setitem().setitem();
    p.str('model').emptyDict().setitem().stop();
    const ck = await readCheckpoint(save(torchZip(p.toBytes(), {})));
    expect(ck.cfg).toEqual({ layers: 2, heads: 2, drop: 0.1 });
    expect(ck.cfgFloatKeys).toEqual(['layers', 'drop']);
  });

  it('refuses stride-0 views when the architecture says no parameter is one; else expands them', async () => {
    const expanded = statePickle([{ key: 'w', storageKey: '0', numel: 1, size: [3, 4], stride: [0, 0] }]);
    const file = save(torchZip(expanded, { '0': float32Bytes([7]) }));
    await expect(readCheckpoint(file, { architecture: architecture(() => 64, true) })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(
        /tensor w \(shape \[3, 4\], stride \[0, 0\]\) repeats one storage element/,
      ) as unknown,
    });
    const ck = await readCheckpoint(file);
    expect(Array.from(ck.tensors.get('w')!.data)).toEqual(new Array(12).fill(7));
  });
});

describe('the tensor memory budget', () => {
  it('counts a copy per view of a shared storage, and says the budget and where it comes from', async () => {
    // 3000 views of one 4 KB storage: 4 KB in the file, 12 MB materialised
    const file = save(torchZip(viewsOfOneStorage(3000, 1024), { '0': new Uint8Array(4096) }));
    const err = await genrepRejection(readCheckpoint(file, { maxTotalBytes: 8 * 2 ** 20 }));
    expect(err.code).toBe('UNSAFE');
    expect(err.message).toMatch(/its tensors would take 11\.7 MiB in memory \(0\.0 MiB of storages, the rest/);
    expect(err.message).toMatch(/above the 8\.0 MiB budget \(set by the caller\); refusing to read them$/);
    const ck = await readCheckpoint(file, { maxTotalBytes: 16 * 2 ** 20 });
    expect(ck.tensors.size).toBe(3000);
    expect(ck.tensors.get('t0')!.data.buffer).not.toBe(ck.tensors.get('t1')!.data.buffer);
  });

  it('sizes the budget from the architecture: 3 × its parameter bytes + 64 MiB', async () => {
    // one float expanded to 2^25 elements (128 MiB) with a 4-byte model: refused without allocating
    const expanded = statePickle([{ key: 'w', storageKey: '0', numel: 1, size: [2 ** 25], stride: [0] }]);
    const file = save(torchZip(expanded, { '0': float32Bytes([1]) }));
    await expect(readCheckpoint(file, { architecture: architecture(() => 4) })).rejects.toMatchObject({
      code: 'UNSAFE',
      message: expect.stringMatching(
        /would take 128\.0 MiB .* above the 64\.0 MiB budget \(3 × the 0\.0 MiB of parameters a Test model with/,
      ) as unknown,
    });
  });

  it('takes the budget from GENREP_CHECKPOINT_MAX_MB, and refuses a value that is not a positive number', async () => {
    const file = save(torchZip(viewsOfOneStorage(300, 1024), { '0': new Uint8Array(4096) }));
    const saved = process.env['GENREP_CHECKPOINT_MAX_MB'];
    try {
      process.env['GENREP_CHECKPOINT_MAX_MB'] = '1';
      await expect(readCheckpoint(file)).rejects.toMatchObject({
        message: expect.stringMatching(/above the 1\.0 MiB budget \(set by GENREP_CHECKPOINT_MAX_MB\)/) as unknown,
      });
      process.env['GENREP_CHECKPOINT_MAX_MB'] = '2';
      await expect(readCheckpoint(file)).resolves.toBeDefined();
      process.env['GENREP_CHECKPOINT_MAX_MB'] = 'lots';
      await expect(readCheckpoint(file)).rejects.toMatchObject({
        code: 'BAD_INPUT',
        message: "GENREP_CHECKPOINT_MAX_MB='lots': expected a positive number of MiB",
      });
    } finally {
      if (saved === undefined) delete process.env['GENREP_CHECKPOINT_MAX_MB'];
      else process.env['GENREP_CHECKPOINT_MAX_MB'] = saved;
    }
  });
});

describe('zip sizes', () => {
  const big: TensorSpec = { key: 'w', storageKey: '0', numel: 2 ** 19, size: [2 ** 19] };

  it('refuses a deflated entry above 100:1 before inflating it, and reads one of real weights', async () => {
    const zeros = writeTorchZip([
      { name: 'archive/data.pkl', data: statePickle([big]) },
      { name: 'archive/data/0', data: new Uint8Array(2 ** 21), method: 'deflate' },
    ]);
    await expect(readCheckpoint(save(zeros))).rejects.toMatchObject({
      code: 'UNSAFE',
      message: expect.stringMatching(
        /zip entry archive\/data\/0 would inflate \d+ bytes to 2097152 \(more than 100:1/,
      ) as unknown,
    });
    const ramp = Float32Array.from({ length: 2 ** 19 }, (_, i) => Math.sin(i));
    const weights = writeTorchZip([
      { name: 'archive/data.pkl', data: statePickle([big]) },
      { name: 'archive/data/0', data: new Uint8Array(ramp.buffer), method: 'deflate' },
    ]);
    const read = (await readCheckpoint(save(weights))).tensors.get('w')!.data;
    expect(Array.from(read.subarray(0, 3))).toEqual(Array.from(ramp.subarray(0, 3)));
  });

  it('refuses an entry whose declared data runs past the end of the file', async () => {
    const lying = writeTorchZip([
      { name: 'archive/data.pkl', data: statePickle([big]) },
      { name: 'archive/data/0', data: float32Bytes([1, 2]), declaredSize: 2 ** 21 },
    ]);
    await expect(readCheckpoint(save(lying))).rejects.toMatchObject({
      code: 'CORRUPT',
      message: expect.stringMatching(
        /truncated or corrupt zip archive \(entry archive\/data\/0 claims 2097152 bytes/,
      ) as unknown,
    });
  });
});

describe('the unpickler object budget', () => {
  const hooks = () => torchUnpickleHooks().hooks;
  const fault = (fn: () => unknown): PickleFault => thrownOf(fn, PickleFault);

  it('refuses a pickle of many one-byte dicts once their estimated memory passes the budget', () => {
    const p = new PickleBuilder().proto(2).emptyList();
    for (let i = 0; i < 10_000; i++) p.emptyDict().append();
    const err = fault(() => unpickle(p.stop().toBytes(), hooks(), { maxObjectBytes: 2 ** 20 }));
    expect(err.code).toBe('UNSAFE');
    expect(err.message).toMatch(/^pickle builds more than 1 MiB of objects by byte \d+/);
    expect(() => unpickle(p.toBytes(), hooks())).not.toThrow();
  });

  it('charges dict keys: one memoised 1 MiB string keying 200 dicts is refused by default', () => {
    const p = new PickleBuilder().put(0).raw(0x30).emptyList();
    for (let i = 0; i < 200; i++) p.emptyDict().get(0).none().setitem().append();
    const bytes = Buffer.concat([Buffer.from([0x80, 2]), bigString('k'.repeat(2 ** 20)), p.stop().toBytes()]);
    const started = Date.now();
    expect(fault(() => unpickle(bytes, hooks())).message).toMatch(/builds more than 128 MiB of objects/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses a tuple key whose memo expansion has 2^30 leaves, quickly', () => {
    const p = new PickleBuilder().proto(2).emptyDict().int(1).put(0);
    for (let k = 1; k <= 30; k++)
      p.get(k - 1)
        .get(k - 1)
        .tuple2()
        .put(k)
        .raw(0x30);
    p.raw(0x30).get(30).none().setitem().stop();
    expect(fault(() => unpickle(p.toBytes(), hooks())).message).toMatch(/dict key has more than 4096 items/);
  });

  it('refuses a protocol-0 integer too long to parse quickly', () => {
    const bytes = Buffer.concat([Buffer.from([0x49]), Buffer.from(`${'9'.repeat(100_000)}\n`), Buffer.from([0x2e])]);
    const err = fault(() => unpickle(bytes, hooks()));
    expect(err.code).toBe('UNSUPPORTED');
    expect(err.message).toMatch(/pickle integer of 100000 digits exceeds the \d+-digit limit/);
  });

  it('boxes floats when asked, and charges them', () => {
    const p = new PickleBuilder().proto(2).float(2).stop();
    expect(unpickle(p.toBytes(), hooks())).toBe(2);
    expect(unpickle(p.toBytes(), hooks(), { boxFloats: true })).toEqual(new PyFloat(2));
  });

  it('cuts a megabyte global name short in its message', async () => {
    const head = new PickleBuilder().proto(4).shortStr('os').toBytes();
    const tail = new PickleBuilder().stackGlobal().stop().toBytes();
    const bytes = Buffer.concat([head, bigString('x'.repeat(2 ** 20)), tail]);
    const err = await genrepRejection(readCheckpoint(save(torchZip(bytes, {}))));
    expect(err.code).toBe('UNSAFE');
    expect(err.message).toMatch(/forbidden pickle global os\.x{197}… \(1048579 characters\): /);
    expect(err.message.length).toBeLessThan(1000);
  });
});
