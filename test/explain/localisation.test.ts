import { describe, expect, it } from 'vitest';
import { localise, summariseLocalisation } from '../../worker/src/synth/localisation';
import type { LocalisedFault } from '../../worker/src/synth';

/** 10 steps of 1 s (centres 0.5 … 9.5), 4 bands of 1 kHz. */
function explanation(perTime: number[], perBand: number[]): Parameters<typeof localise>[0] {
  return {
    perTime,
    perBand,
    grid: {
      times: perTime.length,
      bands: perBand.length,
      values: [],
      timeSeconds: perTime.map((_, i) => i + 0.5),
      bandHz: perBand.map((_, b) => [1000 * b, 1000 * (b + 1)] as [number, number]),
      decomposition: 'exact',
      residual: 0,
    },
  };
}
const fault: LocalisedFault = { kind: 'rub', t0: 4.2, t1: 6.1, f0: 2100, f1: 2900, severity: 1 };

describe('localisation rule', () => {
  it('takes the k-step window with the largest sum (k = the span in steps) and the largest band', () => {
    // Span 1.9 s → k = 2. The best pair is steps 5–6 ([5, 7] s): it overlaps [4.2, 6.1]. Band 2 = [2000, 3000] Hz.
    const hit = localise(explanation([0, 1, 0, 0, 2, 3, 3, 0, 0, 5], [0.1, 0.2, 0.9, 0.3]), fault);
    expect(hit.timeRegion).toEqual([5, 7]);
    expect(hit.band).toEqual([2000, 3000]);
    expect(hit.timeHit).toBe(true);
    expect(hit.bandHit).toBe(true);
    // A single large step outside the span does not win against a pair inside it, but a larger pair outside does.
    const miss = localise(explanation([0, 1, 0, 0, 2, 3, 3, 0, 4, 5], [0.9, 0.2, 0.1, 0.3]), fault);
    expect(miss.timeRegion).toEqual([8, 10]);
    expect(miss.timeHit).toBe(false);
    expect(miss.bandHit).toBe(false);
    // Chance, exactly: windows starting at steps 3, 4, 5, 6 of the 9 overlap [4.2, 6.1]; 1 band of 4 overlaps.
    expect(hit.timeChance).toBeCloseTo(4 / 9, 12);
    expect(hit.bandChance).toBe(0.25);
    // Touching is not overlapping.
    const edge = localise(explanation([0, 0, 0, 9, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0]), { ...fault, t0: 4, t1: 5 });
    expect(edge.timeRegion).toEqual([3, 4]);
    expect(edge.timeHit).toBe(false);
  });

  it('summarises hit rates and chance over clips', () => {
    const a = localise(explanation([0, 0, 0, 0, 0, 9, 0, 0, 0, 0], [0, 0, 1, 0]), fault);
    const b = localise(explanation([9, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 1, 0]), fault);
    expect(summariseLocalisation([a, b])).toEqual({
      clips: 2,
      timeRate: 0.5,
      bandRate: 1,
      timeChance: 4 / 9,
      bandChance: 0.25,
    });
  });

  it('refuses an inconsistent grid', () => {
    const bad = explanation([1, 2], [1]);
    bad.grid.timeSeconds = [0.5];
    expect(() => localise(bad, fault)).toThrow(/2 perTime values, 1 timeSeconds/);
  });
});
