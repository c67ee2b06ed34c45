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
    expect(bytes.subarray(10, 10 + headerLen).toString('latin1')).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3, 4\), \} *\n$/);
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
    expect(Array.from(decodeNpy(npyBytes('<f8', '(2,)', new Uint8Array(f64.buffer))).data)).toEqual([Math.fround(0.1), 2.5]);
    const i32 = new Int32Array([-7, 9]);
    expect(Array.from(decodeNpy(npyBytes('<i4', '(2,)', new Uint8Array(i32.buffer))).data)).toEqual([-7, 9]);
    expect(Buffer.from(encodeNpy(new Float32Array(2), [2])).toString('latin1')).toContain("'shape': (2,)");
  });

  it('names the file and the problem for bad input', async () => {
    expect(() => decodeNpy(new Uint8Array(20), 'z.npy')).toThrow(/z\.npy: not a NumPy \.npy file/);
    expect(() => decodeNpy(npyBytes('<f4', '(10,)', new Uint8Array(8)), 't.npy')).toThrow(/t\.npy: truncated \.npy data/);
    expect(() => decodeNpy(npyBytes('<c8', '(1,)', new Uint8Array(8)), 'c.npy')).toThrow(/c\.npy: unsupported dtype '<c8'/);
    writeFileSync(path.join(dir, 'f.npy'), npyBytes('<f4', '(1,)', new Uint8Array(4)).slice());
    await expect(readNpy(path.join(dir, 'missing.npy'))).rejects.toThrow(/missing\.npy: no such file/);
  });
});
