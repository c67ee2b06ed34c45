import { crc32, deflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';

/**
 * Test-only writers for hand-made checkpoints: a minimal zip writer (stored or deflated entries, with the option to
 * lie in the headers) and a pickle byte builder, so malicious or broken files can be crafted without torch.
 */

export interface ZipEntrySpec {
  name: string;
  data: Uint8Array;
  /** 'precompressed': `data` is already a raw deflate stream (give declaredSize and crc of what it inflates to). */
  method?: 'stored' | 'deflate' | 'precompressed';
  /** Size written into the headers instead of the real one. */
  declaredSize?: number;
  /** CRC-32 written into the headers instead of the real one. */
  crc?: number;
}

export function writeTorchZip(entries: readonly ZipEntrySpec[]): Buffer {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const method = e.method === 'deflate' || e.method === 'precompressed' ? 8 : 0;
    const body = e.method === 'deflate' ? deflateRawSync(e.data) : Buffer.from(e.data);
    const crc = e.crc ?? crc32(e.data);
    const size = e.declaredSize ?? e.data.length;
    const compressedSize = method === 8 ? body.length : (e.declaredSize ?? body.length);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(compressedSize, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0x800, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt16LE(0, 12);
    cd.writeUInt16LE(0x21, 14);
    cd.writeUInt32LE(crc >>> 0, 16);
    cd.writeUInt32LE(compressedSize, 20);
    cd.writeUInt32LE(size, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(offset, 42);
    central.push(cd, name);
    chunks.push(local, name, body);
    offset += local.length + name.length + body.length;
  }
  const cdBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...chunks, cdBytes, end]);
}

/** All entries of a zip held in memory, in archive order. */
export async function readZipEntries(zip: Buffer): Promise<{ name: string; data: Buffer }[]> {
  const file = await yauzl.fromBufferPromise(zip, { lazyEntries: true });
  const out: { name: string; data: Buffer }[] = [];
  await new Promise<void>((resolve, reject) => {
    file.on('error', reject);
    file.on('end', resolve);
    file.on('entry', (entry: yauzl.Entry) => {
      file.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        const parts: Buffer[] = [];
        stream.on('data', (c: Buffer) => parts.push(c));
        stream.on('end', () => {
          out.push({ name: entry.fileName, data: Buffer.concat(parts) });
          file.readEntry();
        });
        stream.on('error', reject);
      });
    });
    file.readEntry();
  });
  return out;
}

/** Builds pickle bytes opcode by opcode. */
export class PickleBuilder {
  private readonly bytes: number[] = [];

  raw(...values: number[]): this {
    this.bytes.push(...values);
    return this;
  }
  private u32(n: number): this {
    return this.raw(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }
  private text(s: string): this {
    return this.raw(...Buffer.from(s, 'utf8'));
  }
  proto(n = 2): this {
    return this.raw(0x80, n);
  }
  /** FRAME with a placeholder length; framing does not change meaning. */
  frame(length: number): this {
    this.raw(0x95);
    return this.u32(length).u32(0);
  }
  global(module: string, name: string): this {
    return this.raw(0x63).text(`${module}\n${name}\n`);
  }
  stackGlobal(): this {
    return this.raw(0x93);
  }
  inst(module: string, name: string): this {
    return this.raw(0x69).text(`${module}\n${name}\n`);
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.raw(0x58)
      .u32(b.length)
      .raw(...b);
  }
  shortStr(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.raw(0x8c, b.length, ...b);
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw(0x4b, n);
    if (n >= 0 && n < 65536) return this.raw(0x4d, n & 0xff, n >> 8);
    if (n >= -(2 ** 31) && n < 2 ** 31) return this.raw(0x4a).u32(n);
    return this.long(BigInt(n));
  }
  long(n: bigint): this {
    const out: number[] = [];
    let v = n;
    do {
      out.push(Number(v & 0xffn));
      v >>= 8n;
    } while (!(v === 0n && (out[out.length - 1]! & 0x80) === 0) && !(v === -1n && (out[out.length - 1]! & 0x80) !== 0));
    return this.raw(0x8a, out.length, ...out);
  }
  float(x: number): this {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(x);
    return this.raw(0x47, ...b);
  }
  none(): this {
    return this.raw(0x4e);
  }
  bool(b: boolean): this {
    return this.raw(b ? 0x88 : 0x89);
  }
  mark(): this {
    return this.raw(0x28);
  }
  tuple(): this {
    return this.raw(0x74);
  }
  tuple1(): this {
    return this.raw(0x85);
  }
  tuple2(): this {
    return this.raw(0x86);
  }
  emptyTuple(): this {
    return this.raw(0x29);
  }
  emptyDict(): this {
    return this.raw(0x7d);
  }
  emptyList(): this {
    return this.raw(0x5d);
  }
  append(): this {
    return this.raw(0x61);
  }
  setitem(): this {
    return this.raw(0x73);
  }
  setitems(): this {
    return this.raw(0x75);
  }
  reduce(): this {
    return this.raw(0x52);
  }
  build(): this {
    return this.raw(0x62);
  }
  binpersid(): this {
    return this.raw(0x51);
  }
  put(i: number): this {
    return i < 256 ? this.raw(0x71, i) : this.raw(0x72).u32(i);
  }
  get(i: number): this {
    return i < 256 ? this.raw(0x68, i) : this.raw(0x6a).u32(i);
  }
  memoize(): this {
    return this.raw(0x94);
  }
  stop(): this {
    return this.raw(0x2e);
  }
  toBytes(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

export interface TensorSpec {
  key: string;
  storageType?: string; // e.g. 'FloatStorage'
  storageKey: string;
  numel: number;
  offset?: number;
  size: number[];
  stride?: number[];
}

function contiguousStride(size: readonly number[]): number[] {
  const stride = new Array<number>(size.length).fill(1);
  for (let d = size.length - 2; d >= 0; d--) stride[d] = stride[d + 1]! * size[d + 1]!;
  return stride;
}

/** Pushes `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())` as torch.save writes it. */
export function pushTensor(p: PickleBuilder, t: TensorSpec): PickleBuilder {
  p.global('torch._utils', '_rebuild_tensor_v2');
  p.mark();
  p.mark()
    .str('storage')
    .global('torch', t.storageType ?? 'FloatStorage')
    .str(t.storageKey)
    .str('cpu')
    .int(t.numel)
    .tuple()
    .binpersid();
  p.int(t.offset ?? 0);
  p.mark();
  for (const n of t.size) p.int(n);
  p.tuple();
  p.mark();
  for (const n of t.stride ?? contiguousStride(t.size)) p.int(n);
  p.tuple();
  p.bool(false);
  p.global('collections', 'OrderedDict').emptyTuple().reduce();
  p.tuple().reduce();
  return p;
}

/** data.pkl for {'cfg': {'embed_dim': 4}, 'model': OrderedDict(tensors)}, protocol 2. */
export function statePickle(tensors: readonly TensorSpec[]): Uint8Array {
  const p = new PickleBuilder().proto(2).emptyDict().mark();
  p.str('cfg').emptyDict().str('embed_dim').int(4).setitem();
  p.str('model').global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  for (const t of tensors) pushTensor(p.str(t.key), t);
  p.setitems().setitems().stop();
  return p.toBytes();
}

export function float32Bytes(values: readonly number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** A complete checkpoint: `archive/data.pkl`, `archive/data/<key>` for each storage, `archive/version`. */
export function torchZip(pickle: Uint8Array, storages: Record<string, Uint8Array>, extra: ZipEntrySpec[] = []): Buffer {
  return writeTorchZip([
    { name: 'archive/data.pkl', data: pickle },
    ...Object.entries(storages).map(([key, data]) => ({ name: `archive/data/${key}`, data })),
    { name: 'archive/version', data: Buffer.from('3\n') },
    ...extra,
  ]);
}
