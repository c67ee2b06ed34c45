import { describe, expect, it } from 'vitest';
import { applyLength, cutWindows, windowStarts } from '../../worker/src/encoders/windows';

const ramp = (frames: number, bins = 1) => ({
  data: Float32Array.from({ length: frames * bins }, (_, i) => i + 1),
  frames,
  bins,
});

describe('length', () => {
  it('crops, pads with padValue, or both', () => {
    expect(applyLength(ramp(5, 2), { frames: 3, mode: 'crop' })).toEqual(ramp(3, 2));
    expect(applyLength(ramp(2), { frames: 3, mode: 'crop' })).toEqual(ramp(2));
    const padded = applyLength(ramp(2, 2), { frames: 4, mode: 'pad', padValue: -1 });
    expect(padded.frames).toBe(4);
    expect(Array.from(padded.data)).toEqual([1, 2, 3, 4, -1, -1, -1, -1]);
    expect(applyLength(ramp(6), { frames: 4, mode: 'pad' }).frames).toBe(6);
    expect(Array.from(applyLength(ramp(2), { frames: 3, mode: 'exact' }).data)).toEqual([1, 2, 0]);
    expect(applyLength(ramp(5), { frames: 3, mode: 'exact' }).frames).toBe(3);
  });
});

describe('length with fill: repeat (ClapFeatureExtractor "repeatpad")', () => {
  it('repeats a short clip whole int(target / frames) times, then pads the rest', () => {
    // np.tile(x, int(8 / 3)) then np.pad to 8 with zeros, as transformers' _get_input_mel "repeatpad".
    const out = applyLength(ramp(3), { frames: 8, mode: 'exact', fill: 'repeat' });
    expect(Array.from(out.data)).toEqual([1, 2, 3, 1, 2, 3, 0, 0]);
    expect(Array.from(applyLength(ramp(2), { frames: 6, mode: 'pad', fill: 'repeat' }).data)).toEqual([
      1, 2, 1, 2, 1, 2,
    ]);
    // Whole frames are repeated (bins stay together) and the remainder holds padValue.
    const grid = applyLength(ramp(2, 2), { frames: 5, mode: 'exact', fill: 'repeat', padValue: -1 });
    expect(Array.from(grid.data)).toEqual([1, 2, 3, 4, 1, 2, 3, 4, -1, -1]);
  });

  it('keeps a long clip’s first frames (no random offset), and pads an empty clip', () => {
    expect(applyLength(ramp(7), { frames: 4, mode: 'exact', fill: 'repeat' })).toEqual(ramp(4));
    expect(applyLength(ramp(3), { frames: 4, mode: 'crop', fill: 'repeat' })).toEqual(ramp(3));
    const empty = applyLength(
      { data: new Float32Array(0), frames: 0, bins: 1 },
      { frames: 3, mode: 'exact', fill: 'repeat' },
    );
    expect(Array.from(empty.data)).toEqual([0, 0, 0]);
  });

  it("'zeros' is the default", () => {
    expect(applyLength(ramp(3), { frames: 8, mode: 'exact', fill: 'zeros' })).toEqual(
      applyLength(ramp(3), { frames: 8, mode: 'exact' }),
    );
  });
});

describe('windows', () => {
  it('steps by hop; a last partial window is padded or dropped', () => {
    expect(windowStarts(10, { frames: 4, hop: 4 })).toEqual([0, 4, 8]);
    expect(windowStarts(10, { frames: 4, hop: 4, last: 'drop' })).toEqual([0, 4]);
    expect(windowStarts(8, { frames: 4, hop: 4, last: 'drop' })).toEqual([0, 4]);
    expect(windowStarts(10, { frames: 4, hop: 2 })).toEqual([0, 2, 4, 6]);
    expect(windowStarts(11, { frames: 4, hop: 2, last: 'drop' })).toEqual([0, 2, 4, 6]);
    expect(windowStarts(11, { frames: 4, hop: 2 })).toEqual([0, 2, 4, 6, 8]);
  });

  it('pads a clip shorter than one window, even with last: drop', () => {
    expect(windowStarts(3, { frames: 4, hop: 4, last: 'drop' })).toEqual([0]);
    const [only, ...rest] = cutWindows(ramp(3, 2), { frames: 4, hop: 4, last: 'drop' });
    expect(rest).toEqual([]);
    expect(Array.from(only!.data)).toEqual([1, 2, 3, 4, 5, 6, 0, 0]);
  });

  it('cuts windows with their frames and zero-pads the last', () => {
    const windows = cutWindows(ramp(5, 2), { frames: 2, hop: 2 });
    expect(windows.map((w) => Array.from(w.data))).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 0, 0],
    ]);
  });
});
