import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../worker/src/checkpoint';
import { FIXTURES } from '../helpers/golden';
import { float32Bytes, readZipEntries, statePickle, torchZip, writeTorchZip, type ZipEntrySpec } from './torchZip';

const dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-ckpt-archive-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const goldenFile = path.join(FIXTURES, 'golden-beats-tiny', 'checkpoint.pt');
const goldenBytes = readFileSync(goldenFile);

let counter = 0;
function save(bytes: Uint8Array): string {
  const file = path.join(dir, `case${counter++}.pt`);
  writeFileSync(file, bytes);
  return file;
}

async function expectError(file: string, code: string, pattern: RegExp): Promise<void> {
  await expect(readCheckpoint(file)).rejects.toMatchObject({
    name: 'GenrepError',
    code,
    message: expect.stringMatching(pattern) as unknown,
    data: { file },
  });
}

const oneTensor = statePickle([{ key: 'w', storageKey: '0', numel: 4, size: [2, 2] }]);
const fourFloats = float32Bytes([1, 2, 3, 4]);

describe('archive handling', () => {
  let goldenEntries: { name: string; data: Buffer }[];
  beforeAll(async () => {
    goldenEntries = await readZipEntries(goldenBytes);
  });

  it('reads a hand-built checkpoint (and the cfg it holds)', async () => {
    const ck = await readCheckpoint(save(torchZip(oneTensor, { '0': fourFloats })));
    expect(ck.cfg).toEqual({ embed_dim: 4 });
    expect(ck.tensors.get('w')).toEqual({ shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) });
  });

  it('reads deflate-compressed entries to the same tensors as stored ones', async () => {
    const deflated = writeTorchZip(
      goldenEntries.map((e): ZipEntrySpec => ({ name: e.name, data: e.data, method: 'deflate' })),
    );
    expect(deflated.length).toBeLessThan(goldenBytes.length);
    const a = await readCheckpoint(goldenFile);
    const b = await readCheckpoint(save(deflated));
    expect([...b.tensors.keys()]).toEqual([...a.tensors.keys()]);
    for (const [key, t] of a.tensors) expect(b.tensors.get(key), key).toEqual(t);
    expect(b.cfg).toEqual(a.cfg);
  });

  it('reads big-endian storages when the byteorder record says so', async () => {
    const be = Buffer.alloc(16);
    [1.5, -2, 3.25, 1e-3].forEach((v, i) => be.writeFloatBE(v, i * 4));
    const ck = await readCheckpoint(
      save(torchZip(oneTensor, { '0': be }, [{ name: 'archive/byteorder', data: Buffer.from('big') }])),
    );
    expect(Array.from(ck.tensors.get('w')!.data)).toEqual(Array.from(Float32Array.from([1.5, -2, 3.25, 1e-3])));
  });

  it('refuses entry names with .. components, absolute paths or backslashes', async () => {
    for (const name of ['archive/../../evil', '../archive/data/1', '/etc/passwd', 'C:/evil', 'archive\\data\\1']) {
      await expectError(
        save(torchZip(oneTensor, { '0': fourFloats }, [{ name, data: Buffer.from('x') }])),
        'UNSAFE',
        /zip entry name .* (contains a '\.\.' component|is an absolute path|contains a backslash)/,
      );
    }
  });

  it('refuses an entry whose declared size is above the bound', async () => {
    const pickle = statePickle([{ key: 'w', storageKey: '0', numel: 1000, size: [1000] }]);
    expect(pickle.length).toBeLessThan(3000);
    const file = save(torchZip(pickle, { '0': new Uint8Array(4000) }));
    await expect(readCheckpoint(file, { maxEntryBytes: 3000 })).rejects.toMatchObject({
      code: 'UNSAFE',
      message: expect.stringMatching(
        /zip entry archive\/data\/0 declares 4000 bytes, above the 3000-byte limit/,
      ) as unknown,
    });
    await expect(readCheckpoint(file, { maxEntryBytes: 4000 })).resolves.toBeDefined();
  });

  it('refuses a storage whose size does not match the pickle', async () => {
    await expectError(
      save(torchZip(oneTensor, { '0': float32Bytes([1, 2, 3]) })),
      'CORRUPT',
      /archive\/data\/0 holds 12 bytes but the checkpoint's pickle declares 16/,
    );
  });

  it('refuses a deflated entry that inflates past its declared size (a bomb)', async () => {
    const big = new Uint8Array(1 << 20); // compresses to ~1 KB
    const file = save(
      writeTorchZip([
        { name: 'archive/data.pkl', data: oneTensor },
        { name: 'archive/data/0', data: big, method: 'deflate', declaredSize: 16 },
      ]),
    );
    await expectError(file, 'CORRUPT', /too many bytes/);
  });

  it('detects a corrupted byte through the CRC', async () => {
    const spoiled = Buffer.from(torchZip(oneTensor, { '0': fourFloats }));
    const at = spoiled.indexOf(Buffer.from(fourFloats));
    spoiled[at + 5]! ^= 0x40;
    await expectError(save(spoiled), 'CORRUPT', /archive\/data\/0 fails its CRC-32 check/);
  });

  it('refuses a view that needs more of the storage than it holds', async () => {
    const tooBig = statePickle([{ key: 'w', storageKey: '0', numel: 4, size: [2, 3] }]);
    await expectError(
      save(torchZip(tooBig, { '0': fourFloats })),
      'CORRUPT',
      /tensor w \(shape \[2, 3\], storage offset 0, stride \[3, 1\]\) needs 6 elements of storage 0, which holds only 4/,
    );
    const offset = statePickle([{ key: 'w', storageKey: '0', numel: 4, offset: 2, size: [3] }]);
    await expectError(save(torchZip(offset, { '0': fourFloats })), 'CORRUPT', /needs 5 elements of storage 0/);
  });

  it('refuses a storage entry that is missing', async () => {
    await expectError(save(torchZip(oneTensor, {})), 'CORRUPT', /storage archive\/data\/0 of tensor w is missing/);
  });

  it('refuses storage dtypes it cannot convert, naming them', async () => {
    const complex = statePickle([
      { key: 'z', storageType: 'ComplexFloatStorage', storageKey: '0', numel: 2, size: [2] },
    ]);
    await expectError(
      save(torchZip(complex, { '0': fourFloats })),
      'UNSUPPORTED',
      /tensor z is stored as complex64 \(torch\.ComplexFloatStorage\)/,
    );
    const unknown = statePickle([{ key: 'z', storageType: 'Float7Storage', storageKey: '0', numel: 2, size: [2] }]);
    await expectError(
      save(torchZip(unknown, { '0': fourFloats })),
      'UNSAFE',
      /forbidden pickle global torch\.Float7Storage/,
    );
  });

  it('says a truncated file is truncated, wherever it is cut', async () => {
    for (const fraction of [0.1, 0.5, 0.99]) {
      const cut = goldenBytes.subarray(0, Math.floor(goldenBytes.length * fraction));
      await expectError(save(cut), 'CORRUPT', /truncated or corrupt zip archive .*fetch or save the checkpoint again/);
    }
  });

  it('says a truncated pickle is truncated', async () => {
    await expectError(
      save(torchZip(oneTensor.subarray(0, 60), {})),
      'CORRUPT',
      /archive\/data\.pkl: pickle is truncated|pickle ends without STOP/,
    );
  });

  it('explains files that are not checkpoints', async () => {
    await expectError(
      save(Buffer.from('hello, this is not a checkpoint at all')),
      'BAD_INPUT',
      /is not a PyTorch checkpoint/,
    );
    await expectError(save(Buffer.alloc(0)), 'CORRUPT', /is empty/);
    await expectError(
      save(writeTorchZip([{ name: 'readme.txt', data: Buffer.from('hi') }])),
      'BAD_INPUT',
      /without a <name>\/data\.pkl record/,
    );
    const torchScript = writeTorchZip([
      { name: 'model/data.pkl', data: oneTensor },
      { name: 'model/constants.pkl', data: Buffer.from([0x80, 2, 0x29, 0x2e]) },
      { name: 'model/code/__torch__.py', data: Buffer.from('') },
    ]);
    await expectError(save(torchScript), 'UNSUPPORTED', /TorchScript archive/);
    await expect(readCheckpoint(path.join(dir, 'does-not-exist.pt'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(readCheckpoint(dir)).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/is a directory/) as unknown,
    });
  });

  it('refuses a top level that is neither a checkpoint dict nor a state dict', async () => {
    const list = Uint8Array.from([0x80, 2, 0x5d, 0x2e]); // []
    await expectError(save(torchZip(list, {})), 'BAD_INPUT', /holds a list at the top level/);
    const dict = Uint8Array.from([0x80, 2, 0x7d, 0x58, 1, 0, 0, 0, 0x61, 0x4b, 1, 0x73, 0x2e]); // {'a': 1}
    await expectError(save(torchZip(dict, {})), 'BAD_INPUT', /top-level dict has keys \[a\]/);
  });
});
