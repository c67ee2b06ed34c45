import { describe, expect, it } from 'vitest';
import { ComplexFft, RealFftPower } from '../../worker/src/fbank';

function naiveDft(input: Float64Array, size: number): Float64Array {
  const out = new Float64Array(2 * size);
  for (let k = 0; k < size; k++) {
    let re = 0;
    let im = 0;
    for (let j = 0; j < size; j++) {
      const angle = (-2 * Math.PI * ((j * k) % size)) / size;
      re += input[2 * j]! * Math.cos(angle) - input[2 * j + 1]! * Math.sin(angle);
      im += input[2 * j]! * Math.sin(angle) + input[2 * j + 1]! * Math.cos(angle);
    }
    out[2 * k] = re;
    out[2 * k + 1] = im;
  }
  return out;
}

function pseudoRandom(length: number, seed: number): Float64Array {
  let s = seed;
  return Float64Array.from({ length }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 1073741824 - 1;
  });
}

describe('ComplexFft (Stockham, mixed radix)', () => {
  for (const size of [1, 2, 3, 4, 5, 7, 8, 12, 16, 18, 64, 100, 101, 128, 200, 216, 256, 512]) {
    it(`matches a direct DFT for size ${size}`, () => {
      const input = pseudoRandom(2 * size, size);
      const copy = input.slice();
      const got = new ComplexFft(size).forward(input);
      const want = naiveDft(input, size);
      let worst = 0;
      for (let i = 0; i < 2 * size; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      expect(worst).toBeLessThan(1e-11 * size);
      expect(input).toEqual(copy); // input untouched
    });
  }
});

describe('RealFftPower (packed real FFT)', () => {
  for (const size of [2, 4, 8, 10, 400, 432, 512, 1024]) {
    it(`gives |DFT|² for bins 0..N/2 of a real frame of ${size}`, () => {
      const frame = pseudoRandom(size, 7 + size);
      const complex = new Float64Array(2 * size);
      frame.forEach((x, i) => (complex[2 * i] = x));
      const want = naiveDft(complex, size);
      const power = new Float64Array(size / 2 + 1);
      new RealFftPower(size).power(frame, power);
      for (let k = 0; k <= size / 2; k++) {
        const p = want[2 * k]! ** 2 + want[2 * k + 1]! ** 2;
        expect(Math.abs(power[k]! - p)).toBeLessThan(1e-10 * size * size);
      }
    });
  }
});
