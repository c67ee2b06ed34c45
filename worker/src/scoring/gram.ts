import type { GramBlock } from '../util/gramBlock';

/**
 * Dot-product (Gram) blocks in JavaScript: ‖x − y‖² = ‖x‖² + ‖y‖² − 2·x·y, so every distance of a query block to a
 * bank comes from one matrix product. Scoring runs these products on ONNX Runtime when it loads (gramBackend.ts);
 * this kernel is the fallback and the reference the ONNX Runtime path is tested against. Inputs stay float32 (no float64 copy: on this kind of VM the
 * first touch of a fresh 50 MB buffer costs more than converting on load); arithmetic is JavaScript's float64, and
 * a product of two float32 values is exact in float64, so sums keep ~1e-16 relative accuracy even over 6144
 * dimensions, which the 1e-5 agreement with the reference's float64 distances needs.
 *
 * The kernel is cache-blocked (a KC-long slice of K-dimension, NC bank rows per panel) with a 4 × 4 register tile:
 * each step loads 8 values for 16 multiply-adds. Sizes were picked by measurement on V8 (bench/score.bench.ts).
 */

const KC = 512;
const NC = 192;

/**
 * Rows `rows[i]` of `data`, (n, dim) row-major float32, copied into a new (rows.length, dim) contiguous matrix.
 * `rows` must hold row indices < n.
 */
export function gatherRows(data: Float32Array, dim: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * dim);
  // In bounds: i < rows.length, and each rows[i] < n starts a row of `data`.
  for (let i = 0; i < rows.length; i++) {
    const src = rows[i]! * dim;
    for (let k = 0; k < dim; k++) out[i * dim + k] = data[src + k]!;
  }
  return out;
}

/** ‖row‖² for each row of `data`, (rows, dim) row-major float32, as (rows,) float64. */
export function squaredNorms(data: Float32Array, rows: number, dim: number): Float64Array {
  const out = new Float64Array(rows);
  // In bounds: base + k < rows·dim, the matrix's length.
  for (let i = 0; i < rows; i++) {
    let s = 0;
    const base = i * dim;
    for (let k = 0; k < dim; k++) {
      const v = data[base + k]!;
      s += v * v;
    }
    out[i] = s;
  }
  return out;
}

/**
 * One Gram block (see GramBlock): out[outOffset + i·outStride + j] = A[aStart + i] · B[bStart + j] for i < aRows,
 * j < bRows. Overwrites the block.
 */
export function gramInto(block: GramBlock): void {
  const { A, aStart, aRows, B, bStart, bRows, dim, out, outOffset, outStride } = block;
  // In bounds: every read is A[(aStart + i)·dim + k] or B[(bStart + j)·dim + k] with i < aRows, j < bRows, k < dim,
  // inside the operands GramBlock describes; every write is inside its output block.
  for (let i = 0; i < aRows; i++) out.fill(0, outOffset + i * outStride, outOffset + i * outStride + bRows);
  for (let k0 = 0; k0 < dim; k0 += KC) {
    const k1 = Math.min(dim, k0 + KC);
    for (let j0 = 0; j0 < bRows; j0 += NC) {
      const j1 = Math.min(bRows, j0 + NC);
      let i = 0;
      for (; i + 4 <= aRows; i += 4) {
        const a0 = (aStart + i) * dim;
        const a1 = a0 + dim;
        const a2 = a1 + dim;
        const a3 = a2 + dim;
        const o0 = outOffset + i * outStride;
        const o1 = o0 + outStride;
        const o2 = o1 + outStride;
        const o3 = o2 + outStride;
        let j = j0;
        for (; j + 4 <= j1; j += 4) {
          const b0 = (bStart + j) * dim;
          const b1 = b0 + dim;
          const b2 = b1 + dim;
          const b3 = b2 + dim;
          let s00 = 0,
            s01 = 0,
            s02 = 0,
            s03 = 0;
          let s10 = 0,
            s11 = 0,
            s12 = 0,
            s13 = 0;
          let s20 = 0,
            s21 = 0,
            s22 = 0,
            s23 = 0;
          let s30 = 0,
            s31 = 0,
            s32 = 0,
            s33 = 0;
          for (let k = k0; k < k1; k++) {
            const x0 = A[a0 + k]!;
            const x1 = A[a1 + k]!;
            const x2 = A[a2 + k]!;
            const x3 = A[a3 + k]!;
            const y0 = B[b0 + k]!;
            const y1 = B[b1 + k]!;
            const y2 = B[b2 + k]!;
            const y3 = B[b3 + k]!;
            s00 += x0 * y0;
            s01 += x0 * y1;
            s02 += x0 * y2;
            s03 += x0 * y3;
            s10 += x1 * y0;
            s11 += x1 * y1;
            s12 += x1 * y2;
            s13 += x1 * y3;
            s20 += x2 * y0;
            s21 += x2 * y1;
            s22 += x2 * y2;
            s23 += x2 * y3;
            s30 += x3 * y0;
            s31 += x3 * y1;
            s32 += x3 * y2;
            s33 += x3 * y3;
          }
          out[o0 + j]! += s00;
          out[o0 + j + 1]! += s01;
          out[o0 + j + 2]! += s02;
          out[o0 + j + 3]! += s03;
          out[o1 + j]! += s10;
          out[o1 + j + 1]! += s11;
          out[o1 + j + 2]! += s12;
          out[o1 + j + 3]! += s13;
          out[o2 + j]! += s20;
          out[o2 + j + 1]! += s21;
          out[o2 + j + 2]! += s22;
          out[o2 + j + 3]! += s23;
          out[o3 + j]! += s30;
          out[o3 + j + 1]! += s31;
          out[o3 + j + 2]! += s32;
          out[o3 + j + 3]! += s33;
        }
        for (; j < j1; j++) {
          const b0 = (bStart + j) * dim;
          let s0 = 0,
            s1 = 0,
            s2 = 0,
            s3 = 0;
          for (let k = k0; k < k1; k++) {
            const y = B[b0 + k]!;
            s0 += A[a0 + k]! * y;
            s1 += A[a1 + k]! * y;
            s2 += A[a2 + k]! * y;
            s3 += A[a3 + k]! * y;
          }
          out[o0 + j]! += s0;
          out[o1 + j]! += s1;
          out[o2 + j]! += s2;
          out[o3 + j]! += s3;
        }
      }
      for (; i < aRows; i++) {
        const a0 = (aStart + i) * dim;
        const o0 = outOffset + i * outStride;
        let j = j0;
        for (; j + 4 <= j1; j += 4) {
          const b0 = (bStart + j) * dim;
          const b1 = b0 + dim;
          const b2 = b1 + dim;
          const b3 = b2 + dim;
          let s0 = 0,
            s1 = 0,
            s2 = 0,
            s3 = 0;
          for (let k = k0; k < k1; k++) {
            const x = A[a0 + k]!;
            s0 += x * B[b0 + k]!;
            s1 += x * B[b1 + k]!;
            s2 += x * B[b2 + k]!;
            s3 += x * B[b3 + k]!;
          }
          out[o0 + j]! += s0;
          out[o0 + j + 1]! += s1;
          out[o0 + j + 2]! += s2;
          out[o0 + j + 3]! += s3;
        }
        for (; j < j1; j++) {
          const b0 = (bStart + j) * dim;
          let s = 0;
          for (let k = k0; k < k1; k++) s += A[a0 + k]! * B[b0 + k]!;
          out[o0 + j]! += s;
        }
      }
    }
  }
}

/**
 * A·Bᵀ as a new (aRows, bRows) row-major float64 matrix, of A: (aRows, dim) and B: (bRows, dim) row-major float32.
 */
export function gram(A: Float32Array, aRows: number, B: Float32Array, bRows: number, dim: number): Float64Array {
  const out = new Float64Array(aRows * bRows);
  gramInto({ A, aStart: 0, aRows, B, bStart: 0, bRows, dim, out, outOffset: 0, outStride: bRows });
  return out;
}

/** X·Xᵀ, (n, n) float64, of X: (n, dim) row-major float32: only tiles on or above the diagonal are multiplied. */
export function gramSymmetric(X: Float32Array, n: number, dim: number): Float64Array {
  const out = new Float64Array(n * n);
  gramSymmetricInto(X, n, dim, out);
  return out;
}

/** gramSymmetric into `out`, (n, n) row-major float64, overwritten. */
export function gramSymmetricInto(X: Float32Array, n: number, dim: number, out: Float64Array): void {
  const T = 128;
  for (let i0 = 0; i0 < n; i0 += T) {
    const ni = Math.min(T, n - i0);
    for (let j0 = i0; j0 < n; j0 += T) {
      const nj = Math.min(T, n - j0);
      gramInto({
        A: X,
        aStart: i0,
        aRows: ni,
        B: X,
        bStart: j0,
        bRows: nj,
        dim,
        out,
        outOffset: i0 * n + j0,
        outStride: n,
      });
    }
  }
  // In bounds: i, j < n index the (n, n) matrix.
  for (let i = 0; i < n; i++) {
    const blockStart = Math.floor(i / T) * T;
    // Entries left of the diagonal tile were never computed for row i: copy them from column i.
    for (let j = 0; j < blockStart; j++) out[i * n + j] = out[j * n + i]!;
  }
}
