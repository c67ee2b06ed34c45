import { promises as fsp } from 'node:fs';
import { fileError, GenrepError } from '../errors';
import { writeFileAtomic } from './atomicWrite';

/**
 * NumPy .npy format 1.0 — the CLI's array exchange format, so every result can be checked with NumPy or any other
 * tool. We write little-endian float32 in C order; we read float32, float64 and int32 (converted as documented).
 */
const MAGIC = Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

export interface NpyArray {
  data: Float32Array;
  shape: number[];
}

export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new GenrepError(`npy: shape [${shape.join(', ')}] holds ${count} values but the array has ${data.length}`, 'INTERNAL');
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // The header block (magic + version + length + text + newline) is padded to a multiple of 64 bytes (NEP 1).
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(MAGIC.length + 4 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  out.set(body, 10 + header.length); // the platforms Node runs on are little-endian
  return out;
}

export async function writeNpy(file: string, data: Float32Array, shape: readonly number[]): Promise<void> {
  await writeFileAtomic(file, encodeNpy(data, shape));
}

export function decodeNpy(bytes: Uint8Array, file = '<npy>'): NpyArray {
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) {
    throw fileError(file, 'not a NumPy .npy file (magic \\x93NUMPY missing)', 'BAD_INPUT', { expected: '.npy format' });
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let offset: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    offset = 10;
  } else if (major === 2 || major === 3) {
    headerLen = view.getUint32(8, true);
    offset = 12;
  } else {
    throw fileError(file, `unsupported .npy version ${major}`, 'UNSUPPORTED');
  }
  if (offset + headerLen > bytes.length) throw fileError(file, 'truncated .npy header', 'CORRUPT');
  const header = Buffer.from(bytes.subarray(offset, offset + headerLen)).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw fileError(file, 'malformed .npy header (descr, fortran_order or shape missing)', 'CORRUPT');
  }
  if (fortran === 'True') throw fileError(file, 'Fortran-ordered arrays are not supported; save with C order', 'UNSUPPORTED');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((n) => !Number.isInteger(n) || n < 0)) throw fileError(file, `malformed .npy shape (${shapeText})`, 'CORRUPT');
  const count = shape.reduce((a, b) => a * b, 1);
  const start = offset + headerLen;
  const itemSize: Record<string, number> = { '<f4': 4, '<f8': 8, '<i4': 4, '<i8': 8, '|u1': 1, '|i1': 1 };
  const size = itemSize[descr];
  if (size === undefined) {
    throw fileError(file, `unsupported dtype '${descr}'`, 'UNSUPPORTED', { expected: 'little-endian float32, float64, int32, int64 or (u)int8' });
  }
  if (bytes.length - start < count * size) {
    throw fileError(file, `truncated .npy data: shape [${shape.join(', ')}] needs ${count * size} bytes, the file holds ${bytes.length - start}`, 'CORRUPT');
  }
  const data = new Float32Array(count);
  // A Buffer's slices are views into a shared pool: address the bytes through their own offset.
  const dv = new DataView(bytes.buffer, bytes.byteOffset + start, count * size);
  for (let i = 0; i < count; i++) {
    switch (descr) {
      case '<f4': data[i] = dv.getFloat32(i * 4, true); break;
      case '<f8': data[i] = dv.getFloat64(i * 8, true); break;
      case '<i4': data[i] = dv.getInt32(i * 4, true); break;
      case '<i8': data[i] = Number(dv.getBigInt64(i * 8, true)); break;
      case '|u1': data[i] = dv.getUint8(i); break;
      default: data[i] = dv.getInt8(i);
    }
  }
  return { data, shape };
}

export async function readNpy(file: string): Promise<NpyArray> {
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw fileError(file, 'no such file', 'NOT_FOUND');
    if (code === 'EISDIR') throw fileError(file, 'is a directory, expected a .npy file');
    throw err;
  }
  return decodeNpy(bytes, file);
}
