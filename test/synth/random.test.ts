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
    let sum = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      sum += u;
      min = Math.min(min, u);
      max = Math.max(max, u);
    }
    expect(min).toBeGreaterThan(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.005);
    let m1 = 0;
    let m2 = 0;
    let m4 = 0;
    for (let i = 0; i < n; i++) {
      const g = rng.gaussian();
      m1 += g;
      m2 += g * g;
      m4 += g ** 4;
    }
    expect(Math.abs(m1 / n)).toBeLessThan(0.01);
    expect(Math.abs(m2 / n - 1)).toBeLessThan(0.02);
    expect(Math.abs(m4 / n - 3)).toBeLessThan(0.1); // Gaussian kurtosis
  });
});
