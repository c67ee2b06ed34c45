import { describe, expect, it } from 'vitest';
import { Random, hashKey } from '../../worker/src/synth';

describe('Random (xoshiro128** seeded from a string key)', () => {
  it('repeats its stream for the same key and differs for another', () => {
    const a = new Random('genrep/1/fan');
    const b = new Random('genrep/1/fan');
    const c = new Random('genrep/1/fam');
    const first = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(first);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(first);
    expect(hashKey('x')).not.toEqual(hashKey('y'));
  });

  it('draws uniforms in (0, 1) and standard normals with the right moments', () => {
    const rng = new Random('moments');
    const n = 200_000;
    /** The mean of f(x) over the draws. */
    const meanOf = (draws: Float64Array, f: (x: number) => number = (x) => x): number =>
      draws.reduce((sum, x) => sum + f(x), 0) / draws.length;
    const u = Float64Array.from({ length: n }, () => rng.uniform());
    expect(u.reduce((min, x) => Math.min(min, x), 1)).toBeGreaterThan(0);
    expect(u.reduce((max, x) => Math.max(max, x), 0)).toBeLessThan(1);
    expect(Math.abs(meanOf(u) - 0.5)).toBeLessThan(0.005);
    const g = Float64Array.from({ length: n }, () => rng.gaussian());
    expect(Math.abs(meanOf(g))).toBeLessThan(0.01);
    expect(Math.abs(meanOf(g, (x) => x * x) - 1)).toBeLessThan(0.02);
    expect(Math.abs(meanOf(g, (x) => x ** 4) - 3)).toBeLessThan(0.1); // Gaussian kurtosis
  });
});
