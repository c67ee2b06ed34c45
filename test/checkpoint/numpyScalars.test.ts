import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertBeatsToBytes } from '../../worker/src/beats/convert';
import { type Checkpoint, readCheckpoint } from '../../worker/src/checkpoint';
import { TINY_CHECKPOINT } from '../beats/helpers';
import { PickleBuilder, readZipEntries, torchZip, writeTorchZip } from './torchZip';

/**
 * Checkpoints whose cfg holds NumPy scalars and dtypes (issue 12, item 4), saved by torch itself
 * (make_numpy_cfg_fixtures.py), and hand-made hostile variants that must stay refused.
 */
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'checkpoint');
const dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-ckpt-numpy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const expected = (JSON.parse(readFileSync(path.join(FIXTURES, 'numpy-cfg.json'), 'utf8')) as { cfg: unknown }).cfg;

describe('NumPy scalars in a cfg, as torch.save writes them', () => {
  it.each(['numpy-cfg.pt', 'numpy-cfg-p4.pt'])('%s: every scalar reads as the number torch.load gives', async (f) => {
    const ck = await readCheckpoint(path.join(FIXTURES, f));
    // Exact equality: float16/32 values widen to the same double Python prints; ints and bools are exact.
    expect(ck.cfg).toEqual(expected);
    expect(ck.cfg['u64']).toBe(2 ** 53 - 1);
    expect(ck.cfg['f64_big_endian']).toBe(-2.5e-7);
    expect(ck.cfgFloatKeys.sort()).toEqual(['f16', 'f32', 'f64', 'f64_big_endian']);
    expect(ck.tensors.get('w')?.data).toEqual(new Float32Array([1, 2, 3, 4]));
  });
});

describe('tiny BEATs with a NumPy cfg', () => {
  let plain: Checkpoint;
  let numpy: Checkpoint;
  beforeAll(async () => {
    // The golden tiny checkpoint's storages plus the pickle re-saved with NumPy cfg values (same storage keys).
    const entries = await readZipEntries(readFileSync(TINY_CHECKPOINT));
    const pkl = readFileSync(path.join(FIXTURES, 'beats-tiny-numpy-cfg.data.pkl'));
    const swapped = entries.map((e) => (e.name.endsWith('/data.pkl') ? { name: e.name, data: pkl } : e));
    expect(swapped.filter((e) => e.data === pkl)).toHaveLength(1);
    const file = path.join(dir, 'beats-tiny-numpy-cfg.pt');
    writeFileSync(file, writeTorchZip(swapped));
    [plain, numpy] = await Promise.all([readCheckpoint(TINY_CHECKPOINT), readCheckpoint(file)]);
  });

  it('reads the same cfg, the same float keys and the same tensors as the plain checkpoint', () => {
    expect(numpy.cfg).toEqual(plain.cfg);
    expect(numpy.cfgFloatKeys).toEqual(plain.cfgFloatKeys);
    expect([...numpy.tensors.keys()]).toEqual([...plain.tensors.keys()]);
  });

  it('converts to the byte-identical ONNX graph, so its features are the plain checkpoint’s', () => {
    const options = { layers: [0, 1, 2], output: 'hidden' as const };
    const a = convertBeatsToBytes(plain, options);
    const b = convertBeatsToBytes(numpy, options);
    expect(b.length).toBe(a.length);
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
  });
});

/** {'cfg': {'x': <value>}, 'model': {}} with the value's opcodes written by `value`. */
function cfgPickle(value: (p: PickleBuilder) => PickleBuilder): Uint8Array {
  const p = new PickleBuilder().proto(2).emptyDict().str('cfg').emptyDict().str('x');
  return value(p).setitem().setitem().str('model').emptyDict().setitem().stop().toBytes();
}

const dtype = (p: PickleBuilder, code: string, order = '<'): PickleBuilder =>
  p
    .global('numpy', 'dtype')
    .mark()
    .str(code)
    .bool(false)
    .bool(true)
    .tuple()
    .reduce()
    .mark()
    .int(3)
    .str(order)
    .none()
    .none()
    .none()
    .int(-1)
    .int(-1)
    .int(0)
    .tuple()
    .build();

const bytes = (p: PickleBuilder, data: number[]): PickleBuilder =>
  p
    .global('_codecs', 'encode')
    .str(String.fromCharCode(...data))
    .str('latin1')
    .tuple2()
    .reduce();

const scalar = (p: PickleBuilder, code: string, data: number[], order = '<'): PickleBuilder =>
  bytes(dtype(p.global('numpy.core.multiarray', 'scalar'), code, order), data)
    .tuple2()
    .reduce();

let counter = 0;
function save(pickle: Uint8Array): string {
  const file = path.join(dir, `case${counter++}.pt`);
  writeFileSync(file, torchZip(pickle, {}));
  return file;
}

async function expectRefused(pickle: Uint8Array, code: string, pattern: RegExp): Promise<void> {
  const err = await readCheckpoint(save(pickle)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ name: 'GenrepError', code, message: expect.stringMatching(pattern) as unknown });
  expect((err as Error).message).not.toContain('\n');
}

describe('hand-made NumPy pickles', () => {
  it('reads a big-endian int32 and a NumPy 2 module name (numpy._core)', async () => {
    const be = await readCheckpoint(save(cfgPickle((p) => scalar(p, 'i4', [0xff, 0xff, 0xff, 0xfe], '>'))));
    expect(be.cfg['x']).toBe(-2);
    const np2 = cfgPickle((p) =>
      bytes(dtype(p.global('numpy._core.multiarray', 'scalar'), 'i2'), [0x10, 0x00])
        .tuple2()
        .reduce(),
    );
    expect((await readCheckpoint(save(np2))).cfg['x']).toBe(16);
  });

  it('refuses a scalar with the wrong byte count, naming dtype and sizes', async () => {
    await expectRefused(
      cfgPickle((p) => scalar(p, 'f8', [0, 0, 0, 0])),
      'CORRUPT',
      /float64 scalar holds 4 bytes, expected 8/,
    );
  });

  it('refuses int64 beyond 2^53 rather than round it', async () => {
    const big = [0, 0, 0, 0, 0, 0, 0x20, 0]; // 2^53 + 0 … little-endian 0x0020000000000000 = 2^53
    await expectRefused(
      cfgPickle((p) => scalar(p, 'i8', [1, ...big.slice(1)])),
      'CORRUPT',
      /beyond ±2\^53/,
    );
  });

  it('refuses an object dtype, a bool byte other than 0/1 and an unknown byte order', async () => {
    await expectRefused(
      cfgPickle((p) => dtype(p, 'O8')),
      'UNSAFE',
      /numpy\.dtype 'O8' \(Python objects/,
    );
    await expectRefused(
      cfgPickle((p) => scalar(p, 'b1', [2])),
      'CORRUPT',
      /bool scalar holds byte 2/,
    );
    await expectRefused(
      cfgPickle((p) => dtype(p, 'f4', '?')),
      'CORRUPT',
      /byte order is '\?'/,
    );
  });

  it('refuses numpy arrays (_reconstruct, ndarray) with the forbidden-global message', async () => {
    const reconstruct = cfgPickle((p) =>
      p.global('numpy.core.multiarray', '_reconstruct').global('numpy', 'ndarray').tuple1().reduce(),
    );
    await expectRefused(reconstruct, 'UNSAFE', /forbidden pickle global numpy\.core\.multiarray\._reconstruct/);
    const ndarray = cfgPickle((p) => p.global('numpy', 'ndarray').emptyTuple().reduce());
    await expectRefused(ndarray, 'UNSAFE', /forbidden pickle global numpy\.ndarray/);
  });

  it('never calls a dtype, and admits nothing but a dtype as the scalar’s first argument', async () => {
    await expectRefused(
      cfgPickle((p) => dtype(p, 'f8').emptyTuple().reduce()),
      'UNSAFE',
      /numpy\.dtype.*not an allowed function/,
    );
    const notDtype = cfgPickle((p) =>
      bytes(p.global('numpy.core.multiarray', 'scalar').str('f8'), [0, 0, 0, 0, 0, 0, 0, 0]).tuple2().reduce(),
    );
    await expectRefused(notDtype, 'UNSAFE', /first argument is a str, expected a numpy\.dtype/);
    const codec = cfgPickle((p) => p.global('_codecs', 'encode').str('x').str('rot13').tuple2().reduce());
    await expectRefused(codec, 'UNSAFE', /_codecs\.encode is only read as encode\(str, 'latin1'\)/);
  });
});
