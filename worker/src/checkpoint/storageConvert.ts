import { ITEM_SIZE, type StorageDtype } from './torchGlobals';

/**
 * Storage bytes → float32. A little-endian float32 storage becomes a view of the bytes themselves (no copy), so a
 * 345 MiB checkpoint is held once; other dtypes are converted into a new array and the bytes can be dropped.
 */

let halfTable: Float32Array | undefined;

/** All 65536 half-precision values, so conversion is one lookup per element (exact, including subnormals, ±inf, NaN). */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) table[h] = sign * mantissa * 2 ** -24;
    else if (exponent === 31) table[h] = mantissa === 0 ? sign * Infinity : NaN;
    else table[h] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  halfTable = table;
  return table;
}

function byteSwap(bytes: Uint8Array, itemSize: number): void {
  for (let i = 0; i < bytes.length; i += itemSize) bytes.subarray(i, i + itemSize).reverse();
}

/**
 * `bytes` must start on an 8-byte boundary of its ArrayBuffer (the archive reader allocates it so) and hold exactly
 * numel × itemsize bytes. Big-endian storages (torch's `byteorder` record says 'big') are swapped in place first.
 */
export function storageToFloat32(bytes: Uint8Array, dtype: StorageDtype, bigEndian: boolean): Float32Array {
  const itemSize = ITEM_SIZE[dtype];
  const numel = bytes.byteLength / itemSize;
  if (bigEndian && itemSize > 1) byteSwap(bytes, itemSize);
  const { buffer, byteOffset } = bytes;
  // In the loops below i < numel, the length of both the typed view read and the array written; a uint16 indexes
  // the 65536-entry half-float table.
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, byteOffset, numel);
    case 'float64':
      return Float32Array.from(new Float64Array(buffer, byteOffset, numel));
    case 'float16': {
      const table = halfToFloatTable();
      const halves = new Uint16Array(buffer, byteOffset, numel);
      const out = new Float32Array(numel);
      for (let i = 0; i < numel; i++) out[i] = table[halves[i]!]!;
      return out;
    }
    case 'bfloat16': {
      // bfloat16 is the top half of a float32: shifting the bits up is exact
      const halves = new Uint16Array(buffer, byteOffset, numel);
      const out = new Float32Array(numel);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < numel; i++) bits[i] = halves[i]! << 16;
      return out;
    }
    case 'int64': {
      const longs = new BigInt64Array(buffer, byteOffset, numel);
      const out = new Float32Array(numel);
      for (let i = 0; i < numel; i++) out[i] = Number(longs[i]!);
      return out;
    }
    case 'int32':
      return Float32Array.from(new Int32Array(buffer, byteOffset, numel));
    case 'int16':
      return Float32Array.from(new Int16Array(buffer, byteOffset, numel));
    case 'int8':
      return Float32Array.from(new Int8Array(buffer, byteOffset, numel));
    case 'uint8':
      return Float32Array.from(new Uint8Array(buffer, byteOffset, numel));
    case 'bool': {
      const out = new Float32Array(numel);
      for (let i = 0; i < numel; i++) out[i] = bytes[i] !== 0 ? 1 : 0;
      return out;
    }
  }
}
