import type { HostileCase } from '../corpus';

/**
 * Hostile arrays for test/hostile (see test/fixtures/hostile/README.md): small .npy files written byte by byte
 * (format 1.0, as np.save writes them) whose only fault is one non-finite or out-of-range value.
 */

/** A .npy file of little-endian float32 ('<f4') or float64 ('<f8') values in C order. */
export function npyBytes(descr: '<f4' | '<f8', shape: readonly number[], values: ArrayLike<number>): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const body = descr === '<f4' ? new Float32Array(Array.from(values)) : new Float64Array(Array.from(values));
  const out = new Uint8Array(10 + header.length + body.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(body.buffer), 10 + header.length);
  return out;
}

/** rows × 4 features in [-2, 2) from a fixed integer sequence, with one value replaced. */
function features(rows: number, at: [number, number] | null, value: number, descr: '<f4' | '<f8'): Uint8Array {
  const v = new Float64Array(rows * 4);
  let s = 12345;
  for (let i = 0; i < v.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = Math.fround(((s >>> 8) / (1 << 24)) * 4 - 2);
  }
  if (at) v[at[0] * 4 + at[1]] = value;
  return npyBytes(descr, [rows, 4], v);
}

export const cases: HostileCase[] = [
  {
    file: 'arrays/scores-nan.npy',
    note: 'Eight float32 scores, index 5 NaN: `genrep metrics` reported "AUC: score 5 is NaN" without naming the file.',
    bytes: () => npyBytes('<f4', [8], [0.1, 0.9, 0.2, 0.8, 0.3, NaN, 0.4, 0.6]),
  },
  {
    file: 'arrays/features-nan.npy',
    note: 'Five 4-dimensional float32 feature rows, row 3 column 1 NaN.',
    bytes: () => features(5, [3, 1], NaN, '<f4'),
  },
  {
    file: 'arrays/features-inf-f8.npy',
    note: 'Five float64 feature rows, row 2 column 0 +Infinity.',
    bytes: () => features(5, [2, 0], Infinity, '<f8'),
  },
  {
    file: 'arrays/features-f8-overflow.npy',
    note: 'Five float64 feature rows, row 4 column 3 = 1e39: finite in the file, +Infinity once converted to float32.',
    bytes: () => features(5, [4, 3], 1e39, '<f8'),
  },
];
