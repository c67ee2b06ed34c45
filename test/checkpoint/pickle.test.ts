import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../worker/src/checkpoint';
import { PickleFault, unpickle } from '../../worker/src/checkpoint/pickle';
import type { PySet } from '../../worker/src/checkpoint/pythonValues';
import { PyDict, PyTuple, type PyValue } from '../../worker/src/checkpoint/pythonValues';
import { TensorRef, torchUnpickleHooks } from '../../worker/src/checkpoint/torchGlobals';
import { FIXTURES } from '../helpers/golden';
import { float32Bytes, PickleBuilder, pushTensor, torchZip } from './torchZip';

const dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-ckpt-pickle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(p: PickleBuilder | Uint8Array): PyValue {
  return unpickle(p instanceof PickleBuilder ? p.toBytes() : p, torchUnpickleHooks().hooks);
}

function fails(p: PickleBuilder, code: string, pattern: RegExp): void {
  let caught: unknown;
  try {
    load(p);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(PickleFault);
  expect((caught as PickleFault).code).toBe(code);
  expect((caught as PickleFault).message).toMatch(pattern);
}

describe('unpickler opcodes', () => {
  it('decodes scalars: ints of every width, LONG1 (negative and beyond 2^53), BINFLOAT, bools, None, strings, bytes', () => {
    const p = new PickleBuilder().proto(2).mark();
    p.int(7)
      .int(300)
      .int(-5)
      .int(70000)
      .long(-(2n ** 40n))
      .long(2n ** 70n)
      .float(-0.1)
      .bool(true)
      .bool(false)
      .none();
    p.str('héllo').shortStr('ok');
    p.raw(0x55, 2, 0x61, 0x62); // SHORT_BINSTRING 'ab'
    p.raw(0x43, 3, 1, 2, 3); // SHORT_BINBYTES
    p.raw(0x8d, 1, 0, 0, 0, 0, 0, 0, 0, 0x7a); // BINUNICODE8 'z'
    p.tuple().stop();
    const out = load(p) as PyTuple;
    expect(out.items).toEqual([
      7,
      300,
      -5,
      70000,
      -(2 ** 40),
      2n ** 70n,
      -0.1,
      true,
      false,
      null,
      'héllo',
      'ok',
      'ab',
      Uint8Array.from([1, 2, 3]),
      'z',
    ]);
  });

  it('builds lists, dicts, sets, memo references; DUP, POP and POP_MARK behave', () => {
    const p = new PickleBuilder().proto(4).frame(0);
    p.emptyDict().memoize(); // memo 0
    p.shortStr('list').emptyList().memoize().mark().int(1).int(2).raw(0x65).setitem(); // APPENDS
    p.shortStr('again').get(1).setitem(); // the same list via memo 1
    p.shortStr('set').raw(0x8f).mark().int(3).int(3).raw(0x90).setitem(); // EMPTY_SET + ADDITEMS
    p.shortStr('frozen').mark().int(4).raw(0x91).setitem(); // FROZENSET
    p.shortStr('dup').int(9).raw(0x32).raw(0x30).setitem(); // DUP then POP: one 9 left
    p.mark().int(1).int(2).raw(0x31); // POP_MARK discards
    p.shortStr('dict').mark().shortStr('k').int(5).raw(0x64).setitem(); // DICT
    p.stop();
    const out = load(p) as PyDict;
    const list = out.get('list');
    expect(list).toEqual([1, 2]);
    expect(out.get('again')).toBe(list);
    expect((out.get('set') as PySet).items).toEqual([3, 3]);
    expect((out.get('frozen') as PySet).pyType).toBe('frozenset');
    expect(out.get('dup')).toBe(9);
    expect((out.get('dict') as PyDict).get('k')).toBe(5);
  });

  it('treats keys as Python does: 1, 1.0 and True are one key, tuples hash by value', () => {
    const p = new PickleBuilder().proto(2).emptyDict();
    p.int(1).str('int').setitem().float(1.0).str('float').setitem().bool(true).str('bool').setitem();
    p.int(1).int(2).tuple2().str('pair').setitem().stop();
    const out = load(p) as PyDict;
    expect(out.size).toBe(2);
    expect(out.get(1)).toBe('bool');
    expect(out.get(new PyTuple([1, 2]))).toBe('pair');
    fails(
      new PickleBuilder().proto(2).emptyDict().emptyList().int(1).setitem().stop(),
      'CORRUPT',
      /unhashable dict key of type list/,
    );
    const deepKey = new PickleBuilder().proto(2).emptyDict().int(0);
    for (let i = 0; i < 100; i++) deepKey.tuple1();
    fails(deepKey.int(1).setitem().stop(), 'CORRUPT', /nested more than 32 tuples deep/);
  });

  it("lets BUILD set an OrderedDict's _metadata, as state dicts carry", () => {
    const p = new PickleBuilder().proto(2).global('collections', 'OrderedDict').emptyTuple().reduce();
    p.emptyDict().str('_metadata').global('collections', 'OrderedDict').emptyTuple().reduce().setitem().build().stop();
    const out = load(p) as PyDict;
    expect(out.pyType).toBe('collections.OrderedDict');
    expect(out.attributes.get('_metadata')).toBeInstanceOf(PyDict);
  });

  it('rebuilds parameters and tensors as descriptions of storage views', () => {
    const p = new PickleBuilder().proto(2).global('torch._utils', '_rebuild_parameter');
    pushTensor(p, {
      key: 'w',
      storageType: 'HalfStorage',
      storageKey: '7',
      numel: 6,
      offset: 1,
      size: [2, 2],
      stride: [1, 2],
    });
    p.bool(true).global('collections', 'OrderedDict').emptyTuple().reduce().raw(0x87).reduce().stop(); // TUPLE3
    const t = load(p) as TensorRef;
    expect(t).toBeInstanceOf(TensorRef);
    expect(t.storage.key).toBe('7');
    expect(t.storage.type.dtype).toBe('float16');
    expect([t.storageOffset, t.size, t.stride]).toEqual([1, [2, 2], [1, 2]]);
  });

  it('reports truncation, stack underflow, unknown opcodes and wrong argument shapes', () => {
    fails(new PickleBuilder().proto(2).emptyDict(), 'CORRUPT', /ends without STOP/);
    fails(new PickleBuilder().proto(2).raw(0x58, 10, 0, 0, 0, 0x61), 'CORRUPT', /truncated/);
    fails(new PickleBuilder().proto(2).tuple2(), 'CORRUPT', /stack underflow/);
    fails(new PickleBuilder().proto(2).raw(0xff), 'CORRUPT', /unknown pickle opcode 0xff/);
    fails(new PickleBuilder().proto(2).get(3), 'CORRUPT', /memo entry 3 is missing/);
    fails(new PickleBuilder().proto(9), 'UNSUPPORTED', /protocol 9/);
    const badArity = new PickleBuilder()
      .proto(2)
      .global('torch._utils', '_rebuild_tensor_v2')
      .int(1)
      .tuple1()
      .reduce()
      .stop();
    fails(badArity, 'CORRUPT', /_rebuild_tensor_v2 called with 1 arguments, expected 6 or 7/);
    const negativeSize = new PickleBuilder().proto(2);
    pushTensor(negativeSize, { key: 'w', storageKey: '0', numel: 4, size: [-1], stride: [1] }).stop();
    fails(negativeSize, 'CORRUPT', /size\[0\] is int -1, expected a non-negative integer/);
  });
});

describe('protocol 4 checkpoint written by torch (pickle_protocol=4)', () => {
  it('reads it like the protocol 2 ones', async () => {
    const references = JSON.parse(readFileSync(path.join(FIXTURES, 'checkpoint', 'reference.json'), 'utf8')) as Record<
      string,
      {
        cfg: Record<string, unknown>;
        label_dict: Record<string, unknown>;
        tensors: Record<string, { shape: number[]; values: number[] }>;
      }
    >;
    const reference = references['protocol4.pt']!;
    const ck = await readCheckpoint(path.join(FIXTURES, 'checkpoint', 'protocol4.pt'));
    expect(ck.cfg).toEqual(reference.cfg);
    expect(ck.labelDict).toEqual(reference.label_dict);
    expect([...ck.tensors.keys()]).toEqual(Object.keys(reference.tensors));
    for (const [key, ref] of Object.entries(reference.tensors)) {
      expect(ck.tensors.get(key)!.shape).toEqual(ref.shape);
      expect(Array.from(ck.tensors.get(key)!.data)).toEqual(ref.values);
    }
  });
});

describe('interpreting the unpickled checkpoint', () => {
  function saveDict(build: (p: PickleBuilder) => void, storages: Record<string, Uint8Array> = {}): string {
    const p = new PickleBuilder().proto(2).emptyDict();
    build(p);
    const file = path.join(dir, `d${Math.random().toString(36).slice(2)}.pt`);
    writeFileSync(file, torchZip(p.stop().toBytes(), storages));
    return file;
  }

  it('refuses a tensor inside cfg, naming where', async () => {
    const file = saveDict(
      (p) => {
        p.str('cfg').emptyDict().str('w');
        pushTensor(p, { key: 'w', storageKey: '0', numel: 1, size: [1] });
        p.setitem().setitem();
        p.str('model').emptyDict().setitem();
      },
      { '0': float32Bytes([1]) },
    );
    await expect(readCheckpoint(file)).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/cfg\.w holds a tensor/) as unknown,
    });
  });

  it('refuses a non-tensor state-dict entry and a cfg that contains itself', async () => {
    const notTensor = saveDict((p) => p.str('model').emptyDict().str('w').int(3).setitem().setitem());
    await expect(readCheckpoint(notTensor)).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/state dict entry model\.w is a int, not a tensor/) as unknown,
    });
    // cfg = {'l': l} where l = [l]
    const selfRef = saveDict((p) =>
      p
        .str('cfg')
        .emptyDict()
        .str('l')
        .emptyList()
        .put(5)
        .get(5)
        .append()
        .setitem()
        .setitem()
        .str('model')
        .emptyDict()
        .setitem(),
    );
    await expect(readCheckpoint(selfRef)).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/nested more than 64 levels deep \(or contains itself\)/) as unknown,
    });
  });

  it('refuses a cfg that memo references blow up into a huge tree', async () => {
    // l0 = [1]; l(k+1) = [lk, lk]: 40 levels is 2^40 leaves from a few hundred bytes
    const file = saveDict((p) => {
      p.str('cfg').emptyDict().str('l').emptyList().int(1).append().put(0).raw(0x30); // POP: the list lives on in the memo
      for (let k = 1; k <= 40; k++)
        p.emptyList()
          .get(k - 1)
          .append()
          .get(k - 1)
          .append()
          .put(k)
          .raw(0x30);
      p.get(40).setitem().setitem().str('model').emptyDict().setitem();
    });
    await expect(readCheckpoint(file)).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/more than 1000000 values/) as unknown,
    });
  });

  it('keeps a cfg key named __proto__ as plain data', async () => {
    const file = saveDict((p) =>
      p.str('cfg').emptyDict().str('__proto__').int(1).setitem().setitem().str('model').emptyDict().setitem(),
    );
    const ck = await readCheckpoint(file);
    expect(Object.keys(ck.cfg)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(ck.cfg)).toBe(Object.prototype);
  });

  it('reads only the storages the state dict uses', async () => {
    // an extra top-level key refers to a storage that is not in the archive: it must not be needed
    const file = saveDict(
      (p) => {
        p.str('optimizer');
        pushTensor(p, { key: 'm', storageKey: '9', numel: 1, size: [1] });
        p.setitem().str('model').emptyDict().str('w');
        pushTensor(p, { key: 'w', storageKey: '0', numel: 1, size: [1] });
        p.setitem().setitem();
      },
      { '0': float32Bytes([2]) },
    );
    const ck = await readCheckpoint(file);
    expect(ck.extraKeys).toEqual(['optimizer']);
    expect(Array.from(ck.tensors.get('w')!.data)).toEqual([2]);
  });
});
