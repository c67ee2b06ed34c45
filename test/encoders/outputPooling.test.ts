import { describe, expect, it } from 'vitest';
import { pooledDim, poolingMisfit, poolTokens, stackTime, type Tokens } from '../../worker/src/encoders/outputPooling';

/** Deterministic, irregular values: no pooling bug can hide behind symmetry. */
function tokens(T: number, F: number, D: number, seed = 1): Tokens {
  let s = seed;
  const data = Float32Array.from({ length: T * F * D }, () => {
    s = (s * 16807) % 2147483647;
    return (s / 2147483647) * 4 - 2;
  });
  return { data, T, F, D };
}

const at = (x: Tokens, t: number, f: number, d: number) => x.data[(t * x.F + f) * x.D + d]!;

/** Mean and population std of a list, in float64. */
function stats(values: number[]): [number, number] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return [mean, Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length)];
}

describe('output pooling', () => {
  const grid = tokens(5, 3, 4);

  it('temporal: mean over T per (f, d), frequency-major f·D + d', () => {
    const pooled = poolTokens(grid, 'temporal');
    expect(pooled.length).toBe(3 * 4);
    for (let f = 0; f < 3; f++)
      for (let d = 0; d < 4; d++)
        expect(pooled[f * 4 + d]).toBeCloseTo(stats([0, 1, 2, 3, 4].map((t) => at(grid, t, f, d)))[0], 6);
  });

  it('spectral: mean over F per (t, d); spatial: mean over all tokens', () => {
    const spectral = poolTokens(grid, 'spectral');
    expect(spectral.length).toBe(5 * 4);
    expect(spectral[2 * 4 + 1]).toBeCloseTo(stats([0, 1, 2].map((f) => at(grid, 2, f, 1)))[0], 6);
    const spatial = poolTokens(grid, 'spatial');
    const all: number[] = [];
    for (let t = 0; t < 5; t++) for (let f = 0; f < 3; f++) all.push(at(grid, t, f, 3));
    expect(spatial.length).toBe(4);
    expect(spatial[3]).toBeCloseTo(stats(all)[0], 6);
  });

  it('mean+std appends the population std of the same tokens', () => {
    const seq = tokens(7, 1, 3, 5);
    const pooled = poolTokens(seq, 'temporal', 'mean+std');
    expect(pooled.length).toBe(6);
    for (let d = 0; d < 3; d++) {
      const [mean, std] = stats([0, 1, 2, 3, 4, 5, 6].map((t) => at(seq, t, 0, d)));
      expect(pooled[d]).toBeCloseTo(mean, 6);
      expect(pooled[3 + d]).toBeCloseTo(std, 6);
    }
    expect(pooledDim({ F: 1, D: 3, grid: false, fixedT: undefined }, 'temporal', 'mean+std')).toBe(6);
  });

  it('stacks window outputs along time before pooling', () => {
    const a = tokens(2, 1, 2, 7);
    const b = tokens(3, 1, 2, 9);
    const stacked = stackTime([a, b]);
    expect(stacked.T).toBe(5);
    expect(Array.from(stacked.data)).toEqual([...a.data, ...b.data]);
    // A vector per window (T = 1) pools to the mean of the windows' vectors.
    const v = poolTokens(stackTime([tokens(1, 1, 2, 3), tokens(1, 1, 2, 4)]), 'temporal');
    expect(v[0]).toBeCloseTo((tokens(1, 1, 2, 3).data[0]! + tokens(1, 1, 2, 4).data[0]!) / 2, 6);
  });

  it('refuses spectral pooling without a grid or a fixed length', () => {
    expect(poolingMisfit({ F: 1, D: 8, grid: false, fixedT: 10 }, 'spectral')).toMatch(/no frequency axis/);
    expect(poolingMisfit({ F: 8, D: 8, grid: true, fixedT: undefined }, 'spectral')).toMatch(/length mode 'exact'/);
    expect(poolingMisfit({ F: 8, D: 8, grid: true, fixedT: 10 }, 'spectral')).toBeUndefined();
    expect(pooledDim({ F: 8, D: 4, grid: true, fixedT: 10 }, 'spectral')).toBe(40);
    expect(pooledDim({ F: 8, D: 4, grid: true, fixedT: 10 }, 'temporal')).toBe(32);
    expect(() => pooledDim({ F: 1, D: 4, grid: false, fixedT: 10 }, 'spectral')).toThrow(/does not apply/);
  });
});
