import { GenrepError } from '../errors';
import type { ExplainResult } from '../protocol/explain';
import type { LocalisedFault } from './localised';

/**
 * Whether an explanation points at a known localised fault (docs/explain.md, "Localisation"). Time: the run of k
 * consecutive time steps with the largest Σ perTime, k = the fault span's length in steps (at least 1), as the
 * interval [first step's centre − Δ/2, last step's centre + Δ/2] (Δ the step spacing); a hit when it overlaps
 * [t0, t1] by more than zero. Band: the band with the largest perBand; a hit when its [low, high] overlaps [f0, f1]
 * by more than zero. Chance is the same rule applied to a region drawn uniformly: a window start among the T − k + 1
 * positions, a band among the B bands — computed exactly per clip (the same band chance holds for the in-region
 * band rule).
 */
export interface LocalisationOutcome {
  timeHit: boolean;
  bandHit: boolean;
  /** The top time region and band, for the report. */
  timeRegion: [number, number];
  band: [number, number];
  /** The probability that a uniformly drawn region of the same size hits, for this clip. */
  timeChance: number;
  bandChance: number;
  /**
   * The band rule on the grid's columns summed over the top time region only (the heat map's hot spot) rather than
   * over the whole clip: a stationary difference (a domain shift) accumulates over all T steps in perBand and can
   * outweigh an event that lasts a tenth of the clip.
   */
  regionBandHit: boolean;
  regionBand: [number, number];
}

export function localise(
  result: Pick<ExplainResult, 'perTime' | 'perBand' | 'grid'>,
  fault: LocalisedFault,
): LocalisationOutcome {
  const { perTime, perBand } = result;
  const centres = result.grid.timeSeconds;
  const steps = perTime.length;
  if (steps === 0 || perBand.length === 0 || centres.length !== steps || result.grid.bandHz.length !== perBand.length)
    throw new GenrepError(
      `explanation grid is inconsistent: ${steps} perTime values, ${centres.length} timeSeconds, ${perBand.length} perBand values, ${result.grid.bandHz.length} bandHz`,
      'BAD_INPUT',
    );
  const step = steps > 1 ? (centres[steps - 1]! - centres[0]!) / (steps - 1) : 2 * centres[0]!;
  const k = Math.min(steps, Math.max(1, Math.round((fault.t1 - fault.t0) / step)));
  const interval = (start: number): [number, number] => [
    centres[start]! - step / 2,
    centres[start + k - 1]! + step / 2,
  ];
  let best = 0;
  let bestSum = -Infinity;
  let sum = 0;
  let timeHits = 0;
  // In bounds: i < steps = perTime.length; i − k ≥ 0 when subtracted; start = i − k + 1 ∈ [0, steps − k].
  for (let i = 0; i < steps; i++) {
    sum += perTime[i]!;
    if (i >= k) sum -= perTime[i - k]!;
    if (i < k - 1) continue;
    const start = i - k + 1;
    if (sum > bestSum) {
      bestSum = sum;
      best = start;
    }
    if (overlaps(interval(start), [fault.t0, fault.t1])) timeHits++;
  }
  let top = 0;
  let bandHits = 0;
  // In bounds: b < perBand.length = bandHz.length (checked above).
  for (let b = 0; b < perBand.length; b++) {
    if (perBand[b]! > perBand[top]!) top = b;
    if (overlaps(result.grid.bandHz[b]!, [fault.f0, fault.f1])) bandHits++;
  }
  const bands = perBand.length;
  const values = result.grid.values;
  if (values.length !== steps * bands)
    throw new GenrepError(`explanation grid holds ${values.length} values, expected ${steps} × ${bands}`, 'BAD_INPUT');
  const inRegion = new Float64Array(bands);
  // In bounds: t < best + k ≤ steps and b < bands, so t·bands + b < values.length (checked above).
  for (let t = best; t < best + k; t++) for (let b = 0; b < bands; b++) inRegion[b]! += values[t * bands + b]!;
  let regionTop = 0;
  // In bounds: b < bands = inRegion.length.
  for (let b = 1; b < bands; b++) if (inRegion[b]! > inRegion[regionTop]!) regionTop = b;
  const regionBand = result.grid.bandHz[regionTop]!;
  const timeRegion = interval(best);
  const band = result.grid.bandHz[top]!;
  return {
    regionBandHit: overlaps(regionBand, [fault.f0, fault.f1]),
    regionBand: [regionBand[0], regionBand[1]],
    timeHit: overlaps(timeRegion, [fault.t0, fault.t1]),
    bandHit: overlaps(band, [fault.f0, fault.f1]),
    timeRegion,
    band: [band[0], band[1]],
    timeChance: timeHits / (steps - k + 1),
    bandChance: bandHits / perBand.length,
  };
}

export interface LocalisationSummary {
  clips: number;
  timeRate: number;
  bandRate: number;
  regionBandRate: number;
  timeChance: number;
  bandChance: number;
}

export function summariseLocalisation(outcomes: readonly LocalisationOutcome[]): LocalisationSummary {
  const n = outcomes.length;
  const mean = (f: (o: LocalisationOutcome) => number): number =>
    n === 0 ? Number.NaN : outcomes.reduce((s, o) => s + f(o), 0) / n;
  return {
    clips: n,
    timeRate: mean((o) => (o.timeHit ? 1 : 0)),
    bandRate: mean((o) => (o.bandHit ? 1 : 0)),
    regionBandRate: mean((o) => (o.regionBandHit ? 1 : 0)),
    timeChance: mean((o) => o.timeChance),
    bandChance: mean((o) => o.bandChance),
  };
}

function overlaps(a: readonly [number, number], b: readonly [number, number]): boolean {
  return Math.min(a[1], b[1]) > Math.max(a[0], b[0]);
}
