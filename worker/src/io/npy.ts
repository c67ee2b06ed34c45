import { fileError, GenrepError } from '../errors';
import { writeFileAtomic } from './atomicWrite';
import { openRegularFile, READ_CHUNK_BYTES, readFully, type OpenFile } from './regularFile';

/**
 * NumPy .npy format 1.0 — the CLI's array exchange format, so every result can be checked with NumPy or any other
 * tool. We write little-endian float32 in C order; we read float32, float64 and int32 (converted as documented).
 */
const MAGIC = Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/**
 * NumPy itself refuses headers over 10 000 bytes unless told otherwise (`max_header_size`); this bound only keeps
 * a hostile length field from allocating gigabytes before the header is even parsed.
 */
const MAX_HEADER_BYTES = 1024 * 1024;

const ITEM_SIZE: Readonly<Record<string, number>> = { '<f4': 4, '<f8': 8, '<i4': 4, '<i8': 8, '|u1': 1, '|i1': 1 };

export interface NpyArray {
  data: Float32Array;
  shape: number[];
}

/** What the header says: element type, shape, and where the data starts. */
export interface NpyHeader {
  descr: string;
  shape: number[];
  /** Number of elements (product of the shape). */
  count: number;
  itemSize: number;
  dataOffset: number;
}

export interface NpyReadOptions {
  /** Called with the shape before any data is allocated or read, so a wrong shape fails at once. */
  checkShape?: (shape: readonly number[]) => void;
  /**
   * Refuse NaN, ±Infinity and float64 values beyond the float32 range, naming the element; the word is what the
   * values are called in the message ("features must be finite numbers").
   */
  finite?: string;
}

export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new GenrepError(
      `npy: shape [${shape.join(', ')}] holds ${count} values but the array has ${data.length}`,
      'INTERNAL',
    );
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

/** Magic and version (the first 12 bytes, or fewer for a short file): where the header text lies. */
function preamble(bytes: Uint8Array, fileSize: number, file: string): { offset: number; headerLen: number } {
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
    if (bytes.length < 12) throw fileError(file, 'truncated .npy header', 'CORRUPT');
    headerLen = view.getUint32(8, true);
    offset = 12;
  } else {
    throw fileError(file, `unsupported .npy version ${major}`, 'UNSUPPORTED');
  }
  if (offset + headerLen > fileSize) throw fileError(file, 'truncated .npy header', 'CORRUPT');
  if (headerLen > MAX_HEADER_BYTES) {
    throw fileError(
      file,
      `.npy header of ${headerLen} bytes is implausibly long (NumPy writes under 10 KB)`,
      'CORRUPT',
      { field: 'header' },
    );
  }
  return { offset, headerLen };
}

/** Parses the header dictionary and checks that the file holds the data it announces. */
function parseHeader(text: string, dataOffset: number, fileSize: number, file: string): NpyHeader {
  const descr = /'descr':\s*'([^']+)'/.exec(text)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw fileError(file, 'malformed .npy header (descr, fortran_order or shape missing)', 'CORRUPT');
  }
  if (fortran === 'True') {
    throw fileError(file, 'Fortran-ordered arrays are not supported; save with C order', 'UNSUPPORTED');
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((n) => !Number.isSafeInteger(n) || n < 0)) {
    throw fileError(file, `malformed .npy shape (${shapeText})`, 'CORRUPT');
  }
  const itemSize = ITEM_SIZE[descr];
  if (itemSize === undefined) {
    throw fileError(file, `unsupported dtype '${descr}'`, 'UNSUPPORTED', {
      expected: 'little-endian float32, float64, int32, int64 or (u)int8',
    });
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const available = fileSize - dataOffset;
  // A product beyond 2^53 is inexact but then also far beyond any file, so the comparison still refuses it.
  if (!Number.isSafeInteger(count * itemSize) || available < count * itemSize) {
    throw fileError(
      file,
      `truncated .npy data: shape [${shape.join(', ')}] needs ${count * itemSize} bytes, the file holds ${available}`,
      'CORRUPT',
    );
  }
  return { descr, shape, count, itemSize, dataOffset };
}

function allocate(header: NpyHeader, file: string): Float32Array {
  try {
    return new Float32Array(header.count);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    const gb = ((header.count * 4) / 1e9).toFixed(1);
    const problem = `shape [${header.shape.join(', ')}] needs ${gb} GB as float32, more than this process can allocate`;
    throw fileError(file, problem, 'BAD_INPUT', { field: 'shape' });
  }
}

/** "row 3, column 1" for matrices, "index 7" for vectors, "element [1, 2, 3]" otherwise. */
function elementName(shape: readonly number[], i: number): string {
  const [, columns] = shape;
  if (shape.length === 1) return `index ${i}`;
  if (shape.length === 2 && columns !== undefined) return `row ${Math.floor(i / columns)}, column ${i % columns}`;
  const at: number[] = [];
  for (const size of [...shape].reverse()) {
    at.unshift(i % size);
    i = Math.floor(i / size);
  }
  return `element [${at.join(', ')}]`;
}

function notFinite(file: string, shape: readonly number[], i: number, value: number, what: string): GenrepError {
  const where = elementName(shape, i);
  const problem =
    value - value === 0
      ? `${where} is ${value}, beyond the float32 range (±3.4e38) ${what} are read in`
      : `${where} is ${value}; ${what} must be finite numbers`;
  return fileError(file, problem, 'BAD_INPUT', { field: where, expected: 'finite values' });
}

/**
 * Converts `n` elements from `src` (raw little-endian bytes of the header's dtype) into data[at..at+n), checking
 * finiteness on the way when asked. float32 data is copied by the caller and only checked here.
 */
function convert(
  header: NpyHeader,
  src: Uint8Array,
  data: Float32Array,
  at: number,
  n: number,
  file: string,
  finite?: string,
): void {
  const dv = new DataView(src.buffer, src.byteOffset, n * header.itemSize);
  switch (header.descr) {
    case '<f4':
      break;
    case '<f8':
      for (let i = 0; i < n; i++) {
        const x = dv.getFloat64(i * 8, true);
        const v = Math.fround(x);
        if (finite !== undefined && v - v !== 0) throw notFinite(file, header.shape, at + i, x, finite);
        data[at + i] = v;
      }
      return;
    case '<i4':
      for (let i = 0; i < n; i++) data[at + i] = dv.getInt32(i * 4, true);
      return;
    case '<i8':
      for (let i = 0; i < n; i++) data[at + i] = Number(dv.getBigInt64(i * 8, true));
      return;
    case '|u1':
      for (let i = 0; i < n; i++) data[at + i] = dv.getUint8(i);
      return;
    default:
      for (let i = 0; i < n; i++) data[at + i] = dv.getInt8(i);
      return;
  }
  if (finite === undefined) return;
  // In bounds: [at, at + n) is the piece just decoded into `data`.
  for (let i = at; i < at + n; i++) {
    const v = data[i]!;
    if (v - v !== 0) throw notFinite(file, header.shape, i, v, finite);
  }
}

export function decodeNpy(bytes: Uint8Array, file = '<npy>', options: NpyReadOptions = {}): NpyArray {
  const { offset, headerLen } = preamble(bytes, bytes.length, file);
  const header = parseHeader(
    Buffer.from(bytes.subarray(offset, offset + headerLen)).toString('latin1'),
    offset + headerLen,
    bytes.length,
    file,
  );
  options.checkShape?.(header.shape);
  const data = allocate(header, file);
  const body = bytes.subarray(header.dataOffset, header.dataOffset + header.count * header.itemSize);
  // The body may sit at any offset of a pooled Buffer: copy float32 bytes rather than view them unaligned.
  if (header.descr === '<f4') new Uint8Array(data.buffer).set(body);
  convert(header, body, data, 0, header.count, file, options.finite);
  return { data, shape: header.shape };
}

/**
 * Reads a .npy file in chunks: no 2 GiB limit (readFile's), nothing allocated before the header has been checked
 * against the file's size, and with `finite` a bad value stops the read in the chunk that holds it.
 */
export async function readNpy(file: string, options: NpyReadOptions = {}): Promise<NpyArray> {
  const open = await openRegularFile(file, 'a .npy file');
  try {
    return await readOpenNpy(open, file, options);
  } finally {
    await open.handle.close().catch(() => undefined);
  }
}

async function readOpenNpy(open: OpenFile, file: string, options: NpyReadOptions): Promise<NpyArray> {
  const first = new Uint8Array(Math.min(12, open.size));
  await readFully(open, first, 0, file);
  const { offset, headerLen } = preamble(first, open.size, file);
  const text = new Uint8Array(headerLen);
  await readFully(open, text, offset, file);
  const header = parseHeader(Buffer.from(text).toString('latin1'), offset + headerLen, open.size, file);
  options.checkShape?.(header.shape);
  const data = allocate(header, file);
  const perChunk = Math.floor(READ_CHUNK_BYTES / header.itemSize);
  const scratch = header.descr === '<f4' ? null : new Uint8Array(Math.min(header.count, perChunk) * header.itemSize);
  for (let at = 0; at < header.count; at += perChunk) {
    const n = Math.min(perChunk, header.count - at);
    // float32 goes straight into the result; other types through a scratch chunk that is converted.
    const into = scratch ? scratch.subarray(0, n * header.itemSize) : new Uint8Array(data.buffer, at * 4, n * 4);
    await readFully(open, into, header.dataOffset + at * header.itemSize, file);
    convert(header, into, data, at, n, file, options.finite);
  }
  return { data, shape: header.shape };
}
