import { describe, expect, it } from 'vitest';
import { selectSmallest, SmallestK } from '../../worker/src/scoring';
import { rng } from './random';

function reference(row: number[], k: number): number[] {
  return row
    .map((v, i) => [v, i] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i);
}

describe('partial top-k selection', () => {
  const r = rng(11);
  const rows = 7;
  const cols = 990;
  // Values on a coarse grid, so ties are common and the tie rule (lower index first) is exercised.
  const values = Float64Array.from({ length: rows * cols }, () => Math.floor(r() * 200));

  for (const k of [1, 3, 32, 33, 100, 989, 990]) {
    it(`k = ${k}: the k smallest per row, ascending, ties to the lower index`, () => {
      const sel = selectSmallest(values, rows, cols, k);
      for (let row = 0; row < rows; row++) {
        const expected = reference(Array.from(values.subarray(row * cols, (row + 1) * cols)), k);
        expect(Array.from(sel.indices.subarray(row * k, (row + 1) * k))).toEqual(expected);
        expect(Array.from(sel.values.subarray(row * k, (row + 1) * k))).toEqual(
          expected.map((i) => values[row * cols + i]),
        );
      }
    });
  }

  it('handles constant and sorted rows (quickselect pivot worst cases)', () => {
    const n = 500;
    const constant = new Float64Array(n).fill(1);
    expect(Array.from(selectSmallest(constant, 1, n, 100).indices)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const descending = Float64Array.from({ length: n }, (_, i) => n - i);
    expect(Array.from(selectSmallest(descending, 1, n, 50).indices)).toEqual(
      Array.from({ length: 50 }, (_, i) => n - 1 - i),
    );
  });

  it('rejects k outside 0..cols', () => {
    expect(() => selectSmallest(new Float64Array(4), 1, 4, 5)).toThrow(RangeError);
  });

  it('SmallestK keeps the k smallest pushed values in order', () => {
    const buf = new SmallestK(3);
    for (const [v, id] of [
      [5, 0],
      [1, 1],
      [4, 2],
      [1, 3],
      [0, 4],
      [9, 5],
    ] as const)
      buf.push(v, id);
    expect(Array.from(buf.values)).toEqual([0, 1, 1]);
    expect(Array.from(buf.ids)).toEqual([4, 1, 3]);
    expect(buf.bound).toBe(1);
  });
});
