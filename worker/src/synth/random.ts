import { Xoshiro128 } from '../util/xoshiro';

/**
 * The generator's only source of randomness: xoshiro128** seeded from a string key. Each file gets its own stream
 * from (seed, machine, split, domain, label, index), so a file's bytes never depend on which files were generated
 * before it, in what order, or how many were asked for.
 */
export class Random extends Xoshiro128 {
  constructor(key: string) {
    super(hashKey(key));
  }

  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** A gain factor whose decibel value is N(0, sigmaDb²). */
  gainDb(sigmaDb: number): number {
    return 10 ** ((sigmaDb * this.gaussian()) / 20);
  }

  phase(): number {
    return 2 * Math.PI * this.uniform();
  }

  /** Fills `out` with white Gaussian noise of standard deviation `sigma`. */
  fillGaussian(out: Float32Array, sigma: number): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = sigma * this.gaussian();
    return out;
  }
}

/** cyrb128: a string to four well-mixed 32-bit words (not cryptographic; only needs to separate keys). */
export function hashKey(key: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < key.length; i++) {
    const k = key.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}
