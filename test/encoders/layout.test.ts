import { describe, expect, it } from 'vitest';
import { parseLayout, transpose } from '../../worker/src/encoders/layout';

/** A [B, T, F] tensor whose value encodes its index: b·100 + t·10 + f. */
function indexed(B: number, T: number, F: number): Float32Array {
  const out = new Float32Array(B * T * F);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) out[(b * T + t) * F + f] = b * 100 + t * 10 + f;
  return out;
}

describe('layouts', () => {
  it('parses axis letters and refuses unknown or repeated ones', () => {
    expect(parseLayout('B, 1 ,F,T', 'input.layout')).toEqual(['B', '1', 'F', 'T']);
    expect(parseLayout('B,1,1,D', 'x')).toEqual(['B', '1', '1', 'D']);
    expect(() => parseLayout('B,X', 'input.layout')).toThrow(/input.layout: layout 'B,X' has axis 'X'/);
    expect(() => parseLayout('B,T,T', 'outputs[0].layout')).toThrow(/names axis 'T' twice/);
    expect(() => parseLayout('B,S,T', 'x')).toThrow(/both S and T/);
  });

  it('moves [B, T, F] into B,1,F,T and back', () => {
    const data = indexed(2, 3, 4);
    const model = transpose(data, ['B', 'T', 'F'], [2, 3, 4], ['B', '1', 'F', 'T']);
    expect(model.dims).toEqual([2, 1, 4, 3]);
    // [b, 0, f, t] = b·100 + t·10 + f
    expect(model.data[((1 * 1 + 0) * 4 + 2) * 3 + 1]).toBe(112);
    const back = transpose(model.data, ['B', '1', 'F', 'T'], model.dims, ['B', 'T', 'F']);
    expect(back.dims).toEqual([2, 3, 4]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
  });

  it('treats S as T, adds missing axes at size 1 and drops unit ones', () => {
    const wave = indexed(2, 5, 1);
    const model = transpose(wave, ['B', 'T', 'F'], [2, 5, 1], ['B', 'S']);
    expect(model.dims).toEqual([2, 5]);
    expect(Array.from(model.data)).toEqual(Array.from(wave));
    const canon = transpose(
      new Float32Array([1, 2, 3, 4, 5, 6]),
      ['B', 'D', 'T'],
      [1, 2, 3],
      ['L', 'B', 'T', 'F', 'D'],
    );
    expect(canon.dims).toEqual([1, 1, 3, 1, 2]);
    expect(Array.from(canon.data)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(() => transpose(new Float32Array(6), ['B', 'T', 'F'], [1, 3, 2], ['B', 'T'])).toThrow(
      /size 2; it can only be dropped at size 1/,
    );
  });

  it('brings L,B,T,D and B,L,T,D hidden states to the same canonical tensor', () => {
    // The same values written B,L,T (transposed) read back as L,B,T.
    const bl = transpose(indexed(3, 2, 4), ['L', 'B', 'T'], [3, 2, 4], ['B', 'L', 'T']);
    const again = transpose(bl.data, ['B', 'L', 'T'], bl.dims, ['L', 'B', 'T']);
    expect(Array.from(again.data)).toEqual(Array.from(indexed(3, 2, 4)));
  });
});
