import { crc32, constants as zlibConstants, deflateRawSync } from 'node:zlib';
import { parseBeatsConfig } from '../../../worker/src/beats/config';
import { randomBeatsWeights } from '../../../worker/src/beats/randomWeights';
import { PickleBuilder, torchZip, writeTorchZip, type ZipEntrySpec } from '../../checkpoint/torchZip';
import type { HostileCase } from '../corpus';

/**
 * Hostile checkpoints for test/hostile (see test/fixtures/hostile/README.md). Most are a "micro" BEATs checkpoint
 * (valid: 2 layers, width 8, ~25 KB) with one thing changed, so the only fault in each file is the one it is about.
 */

/** A cfg value with its Python type: JS numbers cannot say whether `2` was pickled as an int or a float. */
export type CfgValue = number | bigint | boolean | string | { float: number } | { pickled: (p: PickleBuilder) => void };

/** The micro model's cfg, in the reference BEATsConfig's key order. */
export const MICRO_CFG: ReadonlyArray<readonly [string, CfgValue]> = [
  ['input_patch_size', 16],
  ['embed_dim', 4],
  ['conv_bias', false],
  ['encoder_layers', 2],
  ['encoder_embed_dim', 8],
  ['encoder_ffn_embed_dim', 16],
  ['encoder_attention_heads', 2],
  ['activation_fn', 'gelu'],
  ['layer_norm_first', false],
  ['deep_norm', true],
  ['conv_pos', 4],
  ['conv_pos_groups', 2],
  ['relative_position_embedding', true],
  ['num_buckets', 16],
  ['max_distance', 32],
  ['gru_rel_pos', true],
  ['dropout', { float: 0.1 }],
  ['finetuned_model', false],
];

export interface MicroTensor {
  key: string;
  shape: number[];
  data: Float32Array;
  /** Overrides the view written to the pickle (the storage then holds `data`). */
  view?: { size: number[]; stride: number[] };
}

/** The micro model's state dict with seeded weights, in expectedShapes order. */
export function microTensors(): MicroTensor[] {
  const cfg = Object.fromEntries(MICRO_CFG.map(([k, v]) => [k, typeof v === 'object' && 'float' in v ? v.float : v]));
  const { config } = parseBeatsConfig(cfg, 'micro.pt');
  return [...randomBeatsWeights(config, 9)].map(([key, t]) => ({ key, shape: t.shape, data: t.data }));
}

function pushCfgValue(p: PickleBuilder, value: CfgValue): void {
  if (typeof value === 'object' && 'float' in value) p.float(value.float);
  else if (typeof value === 'object') value.pickled(p);
  else if (typeof value === 'bigint') p.long(value);
  else if (typeof value === 'number') p.int(value);
  else if (typeof value === 'boolean') p.bool(value);
  else p.str(value);
}

function contiguous(size: readonly number[]): number[] {
  const stride = new Array<number>(size.length).fill(1);
  for (let d = size.length - 2; d >= 0; d--) stride[d] = stride[d + 1]! * size[d + 1]!;
  return stride;
}

/** {'cfg': cfg, 'model': OrderedDict(tensors)} as torch.save writes it (protocol 2), one storage per tensor. */
export function beatsCheckpoint(
  cfg: ReadonlyArray<readonly [string, CfgValue]>,
  tensors: readonly MicroTensor[],
): Uint8Array {
  const p = new PickleBuilder().proto(2).emptyDict().mark();
  p.str('cfg').emptyDict().mark();
  for (const [key, value] of cfg) pushCfgValue(p.str(key), value);
  p.setitems();
  p.str('model').global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  const storages: Record<string, Uint8Array> = {};
  tensors.forEach((t, i) => {
    const size = t.view?.size ?? t.shape;
    p.str(t.key).global('torch._utils', '_rebuild_tensor_v2').mark();
    p.mark().str('storage').global('torch', 'FloatStorage').str(String(i)).str('cpu').int(t.data.length).tuple();
    p.binpersid();
    p.int(0).mark();
    for (const n of size) p.int(n);
    p.tuple().mark();
    for (const n of t.view?.stride ?? contiguous(size)) p.int(n);
    p.tuple().bool(false).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
    storages[String(i)] = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  });
  p.setitems().setitems().stop();
  return torchZip(p.toBytes(), storages);
}

/** The micro checkpoint with one cfg value replaced. */
function microWithCfg(key: string, value: CfgValue): Uint8Array {
  return beatsCheckpoint(
    MICRO_CFG.map(([k, v]) => [k, k === key ? value : v] as const),
    microTensors(),
  );
}

/** The micro checkpoint with one tensor edited. */
function microWithTensor(key: string, edit: (t: MicroTensor) => MicroTensor): Uint8Array {
  return beatsCheckpoint(
    MICRO_CFG,
    microTensors().map((t) => (t.key === key ? edit(t) : t)),
  );
}

/** The micro checkpoint with one value of tensor `key` (at flat `index`) replaced by `value`. */
function microWithValueAt(key: string, index: number, value: number): Uint8Array {
  return microWithTensor(key, (t) => {
    const data = t.data.slice();
    data[index] = value;
    return { ...t, data };
  });
}

export function microCheckpoint(): Uint8Array {
  return beatsCheckpoint(MICRO_CFG, microTensors());
}

/** The 401-byte file: {'cfg': {'embed_dim': 4}, 'model': {'w': one float viewed as `count` with stride 0}}. */
function strideZeroView(count: number): Uint8Array {
  const p = new PickleBuilder().proto(2).emptyDict().mark();
  p.str('cfg').emptyDict().str('embed_dim').int(4).setitem();
  p.str('model').global('collections', 'OrderedDict').emptyTuple().reduce().mark().str('w');
  p.global('torch._utils', '_rebuild_tensor_v2').mark();
  p.mark().str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(1).tuple().binpersid();
  p.int(0).mark().int(count).tuple().mark().int(0).tuple();
  p.bool(false).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
  p.setitems().setitems().stop();
  return torchZip(p.toBytes(), { '0': new Uint8Array(4) });
}

/**
 * A raw deflate stream of `bytes` zeros, built from one fully flushed 1 MiB block repeated (a full flush resets the
 * window, so the copies are independent) and a final empty block: a 1 GiB stream in ~1 MiB without deflating 1 GiB.
 */
export function deflatedZeros(bytes: number): { data: Buffer; crc: number } {
  const block = 1 << 20;
  if (bytes % block !== 0) throw new Error('deflatedZeros: a whole number of MiB');
  const chunk = deflateRawSync(Buffer.alloc(block), { level: 9, finishFlush: zlibConstants.Z_FULL_FLUSH });
  const zeros = Buffer.alloc(block);
  let crc = 0;
  const parts: Buffer[] = [];
  for (let done = 0; done < bytes; done += block) {
    parts.push(chunk);
    crc = crc32(zeros, crc);
  }
  parts.push(Buffer.from([0x03, 0x00])); // BFINAL, fixed Huffman, end of block
  return { data: Buffer.concat(parts), crc: crc >>> 0 };
}

/**
 * `storages` deflated all-zero float storages of `bytesEach`, each the whole of one tensor, in an otherwise plain
 * checkpoint (cfg {'embed_dim': 4}): the "1 MiB zip entry of deflated zeros" costs 1 GiB to inflate.
 */
export function deflatedZerosCheckpoint(storages: number, bytesEach: number): Buffer {
  const p = new PickleBuilder().proto(2).emptyDict().mark();
  p.str('cfg').emptyDict().str('embed_dim').int(4).setitem();
  p.str('model').global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  const numel = bytesEach / 4;
  for (let i = 0; i < storages; i++) {
    p.str(`w${i}`).global('torch._utils', '_rebuild_tensor_v2').mark();
    p.mark().str('storage').global('torch', 'FloatStorage').str(String(i)).str('cpu').int(numel).tuple().binpersid();
    p.int(0).mark().int(numel).tuple().mark().int(1).tuple();
    p.bool(false).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
  }
  p.setitems().setitems().stop();
  const { data, crc } = deflatedZeros(bytesEach);
  const entries: ZipEntrySpec[] = [{ name: 'archive/data.pkl', data: p.toBytes() }];
  for (let i = 0; i < storages; i++) {
    entries.push({ name: `archive/data/${i}`, data, method: 'precompressed', declaredSize: bytesEach, crc });
  }
  entries.push({ name: 'archive/version', data: Buffer.from('3\n') });
  return writeTorchZip(entries);
}

/** `count` tensors, each the whole of one storage of `storageBytes` deflated zeros; every view shares the memo. */
function manyViewsOfOneStorage(count: number, storageBytes: number): Uint8Array {
  const numel = storageBytes / 4;
  // memo: 0 = _rebuild_tensor_v2, 1 = the argument tuple (storage, 0, (numel,), (1,), False, OrderedDict())
  const p = new PickleBuilder().proto(2).emptyDict().mark();
  p.str('cfg').emptyDict().str('embed_dim').int(4).setitem();
  p.str('model').global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  for (let i = 0; i < count; i++) {
    p.str(`t${String(i).padStart(4, '0')}`);
    if (i === 0) {
      p.global('torch._utils', '_rebuild_tensor_v2').put(0).mark();
      p.mark().str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(numel).tuple().binpersid();
      p.int(0).mark().int(numel).tuple().mark().int(1).tuple();
      p.bool(false).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().put(1).reduce();
    } else {
      p.get(0).get(1).reduce();
    }
  }
  p.setitems().setitems().stop();
  const { data, crc } = deflatedZeros(storageBytes);
  return writeTorchZip([
    { name: 'archive/data.pkl', data: p.toBytes() },
    { name: 'archive/data/0', data, method: 'precompressed', declaredSize: storageBytes, crc },
    { name: 'archive/version', data: Buffer.from('3\n') },
  ]);
}

/** A pickle that names a global through STACK_GLOBAL with a newline and terminal escape sequences in it. */
function escapingGlobalName(): Uint8Array {
  const p = new PickleBuilder().proto(4);
  p.shortStr('os\ngenrep: all checks passed\n\u001b[2J').shortStr('system\u001b]0;pwned\u0007\u001b[31m').stackGlobal();
  p.shortStr('id').tuple1().reduce().stop();
  return torchZip(p.toBytes(), {});
}

const bigLayers: Array<[string, CfgValue, string]> = [
  ['cfg-encoder-layers-1e6.pt', 1_000_000, '10^6'],
  ['cfg-encoder-layers-1e8.pt', 100_000_000, '10^8'],
  ['cfg-encoder-layers-2e9.pt', 2_000_000_000, '2·10^9'],
  ['cfg-encoder-layers-2p64.pt', 2n ** 64n, '2^64'],
];

/** numpy.dtype(code) with numpy's setstate, as NumPy pickles a scalar's dtype. */
function numpyDtype(p: PickleBuilder, code: string): PickleBuilder {
  p.global('numpy', 'dtype').mark().str(code).bool(false).bool(true).tuple().reduce();
  return p.mark().int(3).str('<').none().none().none().int(-1).int(-1).int(0).tuple().build();
}

/** numpy.core.multiarray.scalar(dtype(code), _codecs.encode(bytes, 'latin1')), protocol 2's way of writing it. */
function numpyScalar(code: string, data: readonly number[]): CfgValue {
  return {
    pickled: (p) => {
      numpyDtype(p.global('numpy.core.multiarray', 'scalar'), code);
      p.global('_codecs', 'encode')
        .mark()
        .str(String.fromCharCode(...data))
        .str('latin1')
        .tuple()
        .reduce();
      p.tuple2().reduce();
    },
  };
}

/** numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b'): how NumPy pickles an array. */
const numpyArray: CfgValue = {
  pickled: (p) => {
    p.global('numpy.core.multiarray', '_reconstruct').mark().global('numpy', 'ndarray').mark().int(0).tuple();
    p.global('_codecs', 'encode').mark().str('b').str('latin1').tuple().reduce().tuple().reduce();
  },
};

export const cases: HostileCase[] = [
  {
    file: 'checkpoints/stride0-2p29.pt',
    note: 'one 4-byte FloatStorage viewed as 2^29 elements with stride 0; peaked at 2.16 GB before its cfg error',
    bytes: () => strideZeroView(2 ** 29),
  },
  {
    file: 'checkpoints/stride0-2p30m1.pt',
    note: 'one 4-byte FloatStorage viewed as 2^30 - 1 elements with stride 0; killed at 3 GB',
    bytes: () => strideZeroView(2 ** 30 - 1),
  },
  {
    file: 'checkpoints/micro-stride0-view.pt',
    note: 'a valid micro BEATs checkpoint except that fc1.bias is one float expanded to 16 by stride 0',
    bytes: () =>
      microWithTensor('encoder.layers.0.fc1.bias', (t) => ({
        ...t,
        data: t.data.slice(0, 1),
        view: { size: t.shape, stride: [0] },
      })),
  },
  {
    file: 'checkpoints/deflated-zeros-32mib.pt',
    note: 'a 32 KB deflated entry that inflates to 32 MiB of zeros (stands in for the 1 GiB one its test generates)',
    bytes: () => deflatedZerosCheckpoint(1, 32 * 2 ** 20),
  },
  {
    file: 'checkpoints/views-3000-on-4mib.pt',
    note: '3,000 tensors viewing one 4 MiB (deflated zeros) storage in a 45 KB file; each view was copied: killed',
    bytes: () => manyViewsOfOneStorage(3000, 4 * 2 ** 20),
  },
  ...bigLayers.map(([file, value, shown]): HostileCase => ({
    file: `checkpoints/${file}`,
    note: `the micro BEATs checkpoint with cfg encoder_layers = ${shown}; its expected-key list exhausted the V8 heap`,
    bytes: () => microWithCfg('encoder_layers', value),
  })),
  {
    file: 'checkpoints/cfg-encoder-layers-float.pt',
    note: 'the micro BEATs checkpoint with cfg encoder_layers = 2.0 (a Python float); was accepted as 2',
    bytes: () => microWithCfg('encoder_layers', { float: 2 }),
  },
  {
    file: 'checkpoints/global-name-escapes.pt',
    note: 'a pickle global whose module and name hold newlines and terminal escape sequences, echoed into the error',
    bytes: escapingGlobalName,
  },
  {
    file: 'checkpoints/numpy-scalar-wrong-bytes.pt',
    note: 'the micro BEATs checkpoint with cfg encoder_layers a NumPy int64 scalar of 4 bytes instead of 8',
    bytes: () => microWithCfg('encoder_layers', numpyScalar('i8', [2, 0, 0, 0])),
  },
  {
    file: 'checkpoints/numpy-object-dtype.pt',
    note: 'the micro BEATs checkpoint with cfg dropout a NumPy scalar of object dtype (a pickled Python object)',
    bytes: () => microWithCfg('dropout', numpyScalar('O8', [0, 0, 0, 0, 0, 0, 0, 0])),
  },
  {
    file: 'checkpoints/numpy-ndarray.pt',
    note: 'the micro BEATs checkpoint with cfg dropout a NumPy array (_reconstruct of numpy.ndarray)',
    bytes: () => microWithCfg('dropout', numpyArray),
  },
  {
    file: 'checkpoints/nan-weights.pt',
    note: 'the micro BEATs checkpoint with NaN in encoder.layers.0.fc1.weight; converted and embedded to NaN features',
    bytes: () => microWithValueAt('encoder.layers.0.fc1.weight', 5, NaN),
  },
  {
    file: 'checkpoints/inf-weights.pt',
    note: 'the micro BEATs checkpoint with +Infinity in encoder.pos_conv.0.weight_g',
    bytes: () => microWithValueAt('encoder.pos_conv.0.weight_g', 0, Infinity),
  },
];
