import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../worker/src/checkpoint';
import { float32Bytes, PickleBuilder, pushTensor, torchZip } from './torchZip';

/**
 * Hand-written malicious pickles inside otherwise valid archives. Each must be refused with code UNSAFE and a
 * message naming what it tried to use — and nothing may happen (the marker file a real unpickler would create).
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-ckpt-unsafe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function save(pickle: Uint8Array, storages: Record<string, Uint8Array> = {}): string {
  const file = path.join(dir, `case${counter++}.pt`);
  writeFileSync(file, torchZip(pickle, storages));
  return file;
}

const marker = path.join(dir, 'pwned');

/** {'cfg': {}, 'model': <call module.name(arg)>} — the call sits where torch would put the state dict. */
function callingPickle(module: string, name: string, arg: string): Uint8Array {
  return new PickleBuilder()
    .proto(2)
    .emptyDict()
    .str('cfg')
    .emptyDict()
    .setitem()
    .str('model')
    .global(module, name)
    .str(arg)
    .tuple1()
    .reduce()
    .setitem()
    .stop()
    .toBytes();
}

async function expectUnsafe(file: string, pattern: RegExp): Promise<void> {
  await expect(readCheckpoint(file)).rejects.toMatchObject({
    name: 'GenrepError',
    code: 'UNSAFE',
    message: expect.stringMatching(pattern) as unknown,
  });
  expect(existsSync(marker)).toBe(false);
}

describe('restricted unpickler', () => {
  it('refuses os.system, naming it', async () => {
    await expectUnsafe(save(callingPickle('os', 'system', `touch ${marker}`)), /forbidden pickle global os\.system/);
  });

  it('refuses posix.system, builtins.eval, builtins.exec, subprocess.Popen, __builtin__.eval', async () => {
    await expectUnsafe(
      save(callingPickle('posix', 'system', `touch ${marker}`)),
      /forbidden pickle global posix\.system/,
    );
    await expectUnsafe(
      save(callingPickle('builtins', 'eval', `open(${JSON.stringify(marker)}, 'w')`)),
      /forbidden pickle global builtins\.eval/,
    );
    await expectUnsafe(save(callingPickle('builtins', 'exec', 'import os')), /forbidden pickle global builtins\.exec/);
    await expectUnsafe(
      save(callingPickle('subprocess', 'Popen', 'touch')),
      /forbidden pickle global subprocess\.Popen/,
    );
    await expectUnsafe(save(callingPickle('__builtin__', 'eval', '1')), /forbidden pickle global __builtin__\.eval/);
  });

  it('refuses a forbidden global reached through STACK_GLOBAL (protocol 4) and INST (protocol 0)', async () => {
    const stackGlobal = new PickleBuilder()
      .proto(4)
      .shortStr('os')
      .memoize()
      .shortStr('system')
      .memoize()
      .stackGlobal()
      .shortStr('id')
      .tuple1()
      .reduce()
      .stop();
    await expectUnsafe(save(stackGlobal.toBytes()), /forbidden pickle global os\.system/);
    const inst = new PickleBuilder().mark().str('id').inst('os', 'system').stop();
    await expectUnsafe(save(inst.toBytes()), /forbidden pickle global os\.system/);
  });

  it('refuses torch globals outside the allowlist', async () => {
    await expectUnsafe(save(callingPickle('torch', 'load', 'x.pt')), /forbidden pickle global torch\.load/);
    await expectUnsafe(
      save(callingPickle('torch._utils', '_rebuild_device_tensor_from_numpy', 'x')),
      /forbidden pickle global torch\._utils\._rebuild_device_tensor_from_numpy/,
    );
    await expectUnsafe(
      save(callingPickle('torch.serialization', '_get_layout', 'x')),
      /forbidden pickle global torch\.serialization\._get_layout/,
    );
    // names that exist on every JS object must not slip through the allowlist lookup
    await expectUnsafe(save(callingPickle('torch', 'constructor', 'x')), /forbidden pickle global torch\.constructor/);
    await expectUnsafe(save(callingPickle('torch', '__proto__', 'x')), /forbidden pickle global torch\.__proto__/);
  });

  it('refuses REDUCE on an object that is not an allowed function', async () => {
    // calling a storage type (an allowed global, but never called by a state dict)
    await expectUnsafe(
      save(callingPickle('torch', 'FloatStorage', 'x')),
      /calls torch\.FloatStorage \(a type\), which is not an allowed function/,
    );
    // calling a string: the __reduce__ shape with a callable that is not a callable
    const onString = new PickleBuilder().proto(2).str('os.system').str('id').tuple1().reduce().stop();
    await expectUnsafe(save(onString.toBytes()), /calls a str, which is not an allowed function/);
    // calling the result of an allowed call (an OrderedDict)
    const onDict = new PickleBuilder()
      .proto(2)
      .global('collections', 'OrderedDict')
      .emptyTuple()
      .reduce()
      .emptyTuple()
      .reduce()
      .stop();
    await expectUnsafe(save(onDict.toBytes()), /calls a collections\.OrderedDict, which is not an allowed function/);
  });

  it('refuses BUILD (setstate) on anything but an OrderedDict', async () => {
    const p = pushTensor(new PickleBuilder().proto(2), { key: 'x', storageKey: '0', numel: 2, size: [2] });
    p.emptyDict().build().stop();
    await expectUnsafe(save(p.toBytes(), { '0': float32Bytes([1, 2]) }), /BUILD \(setstate\) on a torch\.Tensor/);
    const onDict = new PickleBuilder().proto(2).emptyDict().emptyDict().build().stop();
    await expectUnsafe(save(onDict.toBytes()), /BUILD \(setstate\) on a dict/);
  });

  it('refuses persistent ids other than storage tuples, and storage keys that look like paths', async () => {
    const notStorage = new PickleBuilder().proto(2).mark().str('module').str('os').tuple().binpersid().stop();
    await expectUnsafe(save(notStorage.toBytes()), /only \('storage', type, key, location, numel\) is allowed/);
    const pathKey = new PickleBuilder()
      .proto(2)
      .mark()
      .str('storage')
      .global('torch', 'FloatStorage')
      .str('../../etc/passwd')
      .str('cpu')
      .int(1)
      .tuple()
      .binpersid()
      .stop();
    await expectUnsafe(save(pathKey.toBytes()), /storage key str '\.\.\/\.\.\/etc\/passwd' is not a plain name/);
  });

  it('refuses copyreg extension codes', async () => {
    const ext = new PickleBuilder().proto(2).raw(0x82, 1).stop();
    await expectUnsafe(save(ext.toBytes()), /extension code 1/);
  });

  it('names the entry and the file in the error', async () => {
    const file = save(callingPickle('os', 'system', 'id'));
    await expect(readCheckpoint(file)).rejects.toMatchObject({
      message: expect.stringContaining(`${file}: archive/data.pkl: forbidden pickle global os.system`) as unknown,
      data: { file, field: 'archive/data.pkl' },
    });
  });
});
