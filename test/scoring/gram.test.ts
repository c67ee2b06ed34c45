import { describe, expect, it } from 'vitest';
import { gram, gramInto, gramSymmetric, squaredNorms } from '../../worker/src/scoring';
import { gaussian } from './random';

function naive(A: Float32Array, aRows: number, B: Float32Array, bRows: number, dim: number): Float64Array {
  const out = new Float64Array(aRows * bRows);
  for (let i = 0; i < aRows; i++)
    for (let j = 0; j < bRows; j++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += A[i * dim + k]! * B[j * dim + k]!;
      out[i * bRows + j] = s;
    }
  return out;
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('Gram kernel', () => {
  // Sizes straddle the 4×4 register tile, the 192-row panel and the 512-long K block, so every edge path runs.
  for (const [aRows, bRows, dim] of [
    [1, 1, 1],
    [3, 5, 7],
    [4, 4, 512],
    [9, 197, 515],
    [13, 390, 1030],
  ] as const) {
    it(`matches the naive product for ${aRows}×${dim} · (${bRows}×${dim})ᵀ`, () => {
      const A = gaussian(aRows, dim, 1);
      const B = gaussian(bRows, dim, 2);
      const expected = naive(A, aRows, B, bRows, dim);
      expect(maxAbsDiff(gram(A, aRows, B, bRows, dim), expected)).toBeLessThan(1e-10 * Math.sqrt(dim));
    });
  }

  it('writes a sub-block at an offset and stride, overwriting what was there', () => {
    const dim = 6;
    const A = gaussian(10, dim, 3);
    const B = gaussian(8, dim, 4);
    const out = new Float64Array(20 * 11).fill(7);
    gramInto({ A, aStart: 2, aRows: 5, B, bStart: 1, bRows: 6, dim, out, outOffset: 3 * 11 + 2, outStride: 11 });
    const full = naive(A, 10, B, 8, dim);
    for (let i = 0; i < 5; i++)
      for (let j = 0; j < 6; j++) expect(out[(3 + i) * 11 + 2 + j]).toBeCloseTo(full[(2 + i) * 8 + 1 + j]!, 12);
    expect(out[0]).toBe(7); // outside the block untouched
    expect(out[(3 + 5) * 11 + 2]).toBe(7);
  });

  it('symmetric Gram equals the full product (several 128-row tiles)', () => {
    const n = 300;
    const dim = 9;
    const X = gaussian(n, dim, 5);
    expect(maxAbsDiff(gramSymmetric(X, n, dim), naive(X, n, X, n, dim))).toBeLessThan(1e-12);
  });

  it('accumulates float32 inputs in float64: a 6144-dim distance via the Gram identity keeps 1e-9 relative accuracy', () => {
    const dim = 6144;
    // Large common offset, small differences: the cancellation-prone case of ‖x‖² + ‖y‖² − 2x·y.
    const x = gaussian(1, dim, 6, 10, 0.05);
    const y = gaussian(1, dim, 7, 10, 0.05);
    const d2 = squaredNorms(x, 1, dim)[0]! + squaredNorms(y, 1, dim)[0]! - 2 * gram(x, 1, y, 1, dim)[0]!;
    let direct = 0;
    for (let k = 0; k < dim; k++) direct += (x[k]! - y[k]!) ** 2;
    expect(Math.abs(Math.sqrt(d2) - Math.sqrt(direct)) / Math.sqrt(direct)).toBeLessThan(1e-9);
  });
});
