import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeNpy, encodeNpy, readNpy, writeNpy } from '../../worker/src/io/npy';

const dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-npy-'));

function npyBytes(descr: string, shape: string, body: Uint8Array): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(body, 10 + header.length);
  return out;
}

describe('npy', () => {
  it('round-trips float32 through a file, with a 64-byte aligned header as NumPy writes it', async () => {
    const data = Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);
    const file = path.join(dir, 'a.npy');
    await writeNpy(file, data, [2, 3, 4]);
    const bytes = readFileSync(file);
    const headerLen = bytes.readUInt16LE(8);
    expect((10 + headerLen) % 64).toBe(0);
    expect(bytes.subarray(10, 10 + headerLen).toString('latin1')).toMatch(
      /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3, 4\), \} *\n$/,
    );
    const back = await readNpy(file);
    expect(back.shape).toEqual([2, 3, 4]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
  });

  it('reads a file whose bytes sit at an odd offset inside a pooled Buffer', () => {
    const inner = encodeNpy(Float32Array.from([1.5, -2, 3.25]), [3]);
    const pooled = Buffer.alloc(inner.length + 7);
    pooled.set(inner, 7);
    expect(Array.from(decodeNpy(pooled.subarray(7), 'x.npy').data)).toEqual([1.5, -2, 3.25]);
  });

  it('converts float64 and int32 arrays, and writes 1-d shapes as (n,)', () => {
    const f64 = new Float64Array([0.1, 2.5]);
    expect(Array.from(decodeNpy(npyBytes('<f8', '(2,)', new Uint8Array(f64.buffer))).data)).toEqual([
      Math.fround(0.1),
      2.5,
    ]);
    const i32 = new Int32Array([-7, 9]);
    expect(Array.from(decodeNpy(npyBytes('<i4', '(2,)', new Uint8Array(i32.buffer))).data)).toEqual([-7, 9]);
    expect(Buffer.from(encodeNpy(new Float32Array(2), [2])).toString('latin1')).toContain("'shape': (2,)");
  });

  it('names the file and the problem for bad input', async () => {
    expect(() => decodeNpy(new Uint8Array(20), 'z.npy')).toThrow(/z\.npy: not a NumPy \.npy file/);
    expect(() => decodeNpy(npyBytes('<f4', '(10,)', new Uint8Array(8)), 't.npy')).toThrow(
      /t\.npy: truncated \.npy data/,
    );
    expect(() => decodeNpy(npyBytes('<c8', '(1,)', new Uint8Array(8)), 'c.npy')).toThrow(
      /c\.npy: unsupported dtype '<c8'/,
    );
    writeFileSync(path.join(dir, 'f.npy'), npyBytes('<f4', '(1,)', new Uint8Array(4)).slice());
    await expect(readNpy(path.join(dir, 'missing.npy'))).rejects.toThrow(/missing\.npy: no such file/);
  });
});

describe('npy reading in chunks, with checks before and while reading', () => {
  it('reads float32 and float64 files larger than one 8 MiB chunk exactly as decodeNpy does', async () => {
    const n = 2_500_001; // 10 MB as float32, 20 MB as float64: both cross chunk boundaries mid-way
    const values = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 1e3);
    for (const [descr, body] of [
      ['<f4', new Uint8Array(Float32Array.from(values).buffer)],
      ['<f8', new Uint8Array(values.buffer)],
    ] as const) {
      const bytes = npyBytes(descr, `(${n},)`, body);
      const file = path.join(dir, `big${descr.slice(1)}.npy`);
      writeFileSync(file, bytes);
      const read = await readNpy(file);
      expect(read.shape).toEqual([n]);
      expect(Buffer.from(read.data.buffer).equals(Buffer.from(decodeNpy(bytes, file).data.buffer))).toBe(true);
      expect(read.data[n - 1]).toBe(Math.fround(values[n - 1]!));
    }
  });

  it('checks the shape before reading the data, and finiteness as it reads, naming the element', async () => {
    const file = path.join(dir, 'm.npy');
    writeFileSync(file, npyBytes('<f4', '(2, 3)', new Uint8Array(Float32Array.of(1, 2, 3, 4, NaN, 6).buffer)));
    await expect(
      readNpy(file, {
        checkShape: () => {
          throw new Error('shape refused');
        },
      }),
    ).rejects.toThrow('shape refused');
    await expect(readNpy(file, { finite: 'features' })).rejects.toThrow(
      /m\.npy: row 1, column 1 is NaN; features must be finite numbers/,
    );
    expect(Number.isNaN((await readNpy(file)).data[4])).toBe(true); // without `finite` the value is returned as is
    const f8 = path.join(dir, 'v.npy');
    writeFileSync(f8, npyBytes('<f8', '(3,)', new Uint8Array(Float64Array.of(0, -1e39, 1).buffer)));
    await expect(readNpy(f8, { finite: 'scores' })).rejects.toThrow(
      /v\.npy: index 1 is -1e\+39, beyond the float32 range/,
    );
  });

  it('refuses before allocating: a header length beyond the file, a shape beyond the file, a directory', async () => {
    const bytes = npyBytes('<f4', '(4,)', new Uint8Array(16));
    const huge = bytes.slice();
    huge[6] = 2; // version 2: a 4-byte header length
    new DataView(huge.buffer).setUint32(8, 0xfffffff0, true);
    expect(() => decodeNpy(huge, 'h.npy')).toThrow(/h\.npy: truncated \.npy header/);
    const claim = npyBytes('<f8', '(100000000000, 3)', new Uint8Array(0));
    writeFileSync(path.join(dir, 'claim.npy'), claim);
    await expect(readNpy(path.join(dir, 'claim.npy'))).rejects.toThrow(
      /claim\.npy: truncated \.npy data: shape \[100000000000, 3\] needs 2400000000000 bytes, the file holds 0/,
    );
    await expect(readNpy(dir)).rejects.toThrow(/is a directory/);
  });
});
