/**
 * One block of a Gram (dot-product) matrix, the unit of work of exact kNN (docs/scoring.md, "Exact search"):
 *
 *   out[outOffset + i·outStride + j] = A[aStart + i] · B[bStart + j]   for i < aRows, j < bRows,
 *
 * where X[r] is row r of a row-major matrix with rows of length `dim`. The block is overwritten; the rest of `out`
 * is left alone. The JavaScript kernel (scoring/gram.ts) and ONNX Runtime (onnx/matmul.ts) take the same block, so
 * the Gram backend (scoring/gramBackend.ts) can hand it to either.
 */
export interface GramBlock {
  /** Left operand, (≥ aStart + aRows, dim) row-major float32. */
  A: Float32Array;
  /** First row of A in the block. */
  aStart: number;
  aRows: number;
  /** Right operand, (≥ bStart + bRows, dim) row-major float32. May be A itself. */
  B: Float32Array;
  /** First row of B in the block. */
  bStart: number;
  bRows: number;
  /** Row length of A and B (the feature dimension). */
  dim: number;
  /** Output, float64, rows `outStride` apart; the (aRows, bRows) block starting at `outOffset` is overwritten. */
  out: Float64Array;
  outOffset: number;
  outStride: number;
}
