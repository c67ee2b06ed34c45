import { Xoshiro128 } from '../util/xoshiro';

/**
 * Seeded standard-normal generator for dither. torchaudio draws from torch.randn, whose stream cannot be reproduced
 * here; what matters for dither is a repeatable N(0, 1) source, so each fbank call restarts from its seed.
 * The project's xoshiro128** (worker/src/util/xoshiro.ts), seeded through splitmix32.
 */
export class GaussianRandom extends Xoshiro128 {
  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      // splitmix32: spreads one seed over the four state words.
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    super([next(), next(), next(), next()]);
  }
}
