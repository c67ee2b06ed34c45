/**
 * A tensor in a checkpoint is a view of a storage: offset + size + stride. These helpers check the view fits its
 * storage and copy it out in C order.
 */

export function elementCount(size: readonly number[]): number {
  return size.reduce((a, b) => a * b, 1);
}

/** Number of storage elements the view reaches (last index + 1), 0 for an empty view. */
export function viewExtent(storageOffset: number, size: readonly number[], stride: readonly number[]): number {
  if (size.some((n) => n === 0)) return 0;
  let last = storageOffset;
  // size and stride have the same rank (torchGlobals checks it when it rebuilds the tensor): d < both lengths.
  for (let d = 0; d < size.length; d++) last += (size[d]! - 1) * stride[d]!;
  return last + 1;
}

export function isContiguous(size: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  // d < size.length = stride.length.
  for (let d = size.length - 1; d >= 0; d--) {
    // a dimension of length 1 may carry any stride; torch calls such a view contiguous too
    if (size[d] !== 1 && stride[d] !== expected) return false;
    expected *= size[d]!;
  }
  return true;
}

/** Copies the view out of `storage` into a new C-order array. The caller has checked viewExtent ≤ storage.length. */
export function gatherView(
  storage: Float32Array,
  storageOffset: number,
  size: readonly number[],
  stride: readonly number[],
): Float32Array {
  const count = elementCount(size);
  if (count === 0) return new Float32Array(0);
  if (isContiguous(size, stride)) return storage.slice(storageOffset, storageOffset + count);
  const out = new Float32Array(count);
  // rank ≥ 1 here (a scalar view is contiguous) and stride has the same rank; d < rank = index.length; the odometer
  // keeps o + i < count = out.length and, the extent having been checked, s < storage.length.
  const rank = size.length;
  const inner = size[rank - 1]!;
  const innerStride = stride[rank - 1]!;
  // Walk the outer dimensions with an odometer; copy each innermost row with its stride.
  const index = new Array<number>(rank).fill(0);
  let base = storageOffset;
  for (let o = 0; o < count; o += inner) {
    for (let i = 0, s = base; i < inner; i++, s += innerStride) out[o + i] = storage[s]!;
    for (let d = rank - 2; d >= 0; d--) {
      index[d]!++;
      base += stride[d]!;
      if (index[d]! < size[d]!) break;
      base -= index[d]! * stride[d]!;
      index[d] = 0;
    }
  }
  return out;
}
