/**
 * Partial selection of the k smallest values (kNN needs K_n ≤ a few, MemMixup K_s up to the whole source bank):
 * never a full sort of a row unless k is the whole row. Ties go to the lower column index, so results are
 * deterministic (torch.topk leaves tie order unspecified; the reference's ties are measure-zero for real features).
 */

/**
 * A bounded, ascending buffer for one query's k smallest values (k ≥ 1). Inserting is O(k) only for values that beat
 * the current k-th, which after the first few hundred candidates is rare. Every index below is < k, the length of
 * `values` and `ids`: k − 1 once the buffer is full, n − 1 and n ≤ count ≤ k while shifting.
 */
export class SmallestK {
  readonly values: Float64Array;
  readonly ids: Int32Array;
  count = 0;

  constructor(readonly k: number) {
    this.values = new Float64Array(k);
    this.ids = new Int32Array(k);
  }

  reset(): void {
    this.count = 0;
  }

  /** The value a candidate must beat to enter (Infinity until the buffer is full). */
  get bound(): number {
    return this.count < this.k ? Infinity : this.values[this.k - 1]!;
  }

  push(value: number, id: number): void {
    const k = this.k;
    let n = this.count;
    if (n === k) {
      if (!(value < this.values[k - 1]!)) return;
      n = k - 1;
    } else {
      this.count = n + 1;
    }
    // Shift larger entries right; equal values stay ahead so the earlier (lower) id wins ties.
    while (n > 0 && this.values[n - 1]! > value) {
      this.values[n] = this.values[n - 1]!;
      this.ids[n] = this.ids[n - 1]!;
      n--;
    }
    this.values[n] = value;
    this.ids[n] = id;
  }
}

/**
 * Sorts positions [lo, hi) of idx by (values[idx], idx) ascending. In the helpers below, idx holds column indices
 * < cols and base + column stays inside the (rows, cols) `values` matrix; positions stay within [lo, hi) ⊆ idx.
 */
function sortIndexRange(idx: Int32Array, values: Float64Array, base: number, lo: number, hi: number): void {
  const part = idx.subarray(lo, hi);
  part.sort((a, b) => {
    const d = values[base + a]! - values[base + b]!;
    return d !== 0 ? d : a - b;
  });
}

function less(values: Float64Array, base: number, a: number, b: number): boolean {
  const va = values[base + a]!;
  const vb = values[base + b]!;
  return va < vb || (va === vb && a < b);
}

/** Rearranges idx[lo, hi) so that its k-th position holds the element a full sort would put there (introselect-lite). */
function quickselect(idx: Int32Array, values: Float64Array, base: number, lo: number, hi: number, kth: number): void {
  let left = lo;
  let right = hi - 1;
  while (right > left) {
    if (right - left < 16) {
      sortIndexRange(idx, values, base, left, right + 1);
      return;
    }
    // Median of three as pivot keeps sorted or constant rows from degrading to O(n²).
    const mid = (left + right) >>> 1;
    const a = idx[left]!;
    const b = idx[mid]!;
    const c = idx[right]!;
    let pivot: number;
    if (less(values, base, a, b)) pivot = less(values, base, b, c) ? b : less(values, base, a, c) ? c : a;
    else pivot = less(values, base, a, c) ? a : less(values, base, b, c) ? c : b;
    let i = left;
    let j = right;
    while (i <= j) {
      while (less(values, base, idx[i]!, pivot)) i++;
      while (less(values, base, pivot, idx[j]!)) j--;
      if (i <= j) {
        const t = idx[i]!;
        idx[i] = idx[j]!;
        idx[j] = t;
        i++;
        j--;
      }
    }
    if (kth <= j) right = j;
    else if (kth >= i) left = i;
    else return;
  }
}

export interface SelectedK {
  /** rows × k column indices, ascending by value within each row. */
  indices: Int32Array;
  /** The matching values. */
  values: Float64Array;
}

/**
 * For each row of a (rows × cols) matrix, the k smallest entries in ascending order. Small k uses the bounded
 * insertion buffer; large k a quickselect followed by sorting only the k selected entries.
 */
export function selectSmallest(values: Float64Array, rows: number, cols: number, k: number): SelectedK {
  if (!Number.isInteger(k) || k < 0 || k > cols) throw new RangeError(`selectSmallest: k = ${k} outside 0..${cols}`);
  const indices = new Int32Array(rows * k);
  const out = new Float64Array(rows * k);
  if (k === 0) return { indices, values: out };
  if (k <= 32) {
    const buf = new SmallestK(k);
    // In bounds: base + c < rows·cols, the matrix's length.
    for (let r = 0; r < rows; r++) {
      buf.reset();
      const base = r * cols;
      for (let c = 0; c < cols; c++) {
        const v = values[base + c]!;
        if (v < buf.bound) buf.push(v, c);
      }
      indices.set(buf.ids, r * k);
      out.set(buf.values, r * k);
    }
    return { indices, values: out };
  }
  const idx = new Int32Array(cols);
  // In bounds: c, idx entries < cols; j < k ≤ cols; base + c < rows·cols.
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) idx[c] = c;
    if (k < cols) quickselect(idx, values, base, 0, cols, k - 1);
    sortIndexRange(idx, values, base, 0, k);
    for (let j = 0; j < k; j++) {
      indices[r * k + j] = idx[j]!;
      out[r * k + j] = values[base + idx[j]!]!;
    }
  }
  return { indices, values: out };
}
