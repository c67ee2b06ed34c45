import { GenrepError } from '../errors';

/**
 * Decision threshold for the DCASE decision files, set without test labels (docs/scoring.md, "Decision threshold"):
 * the `quantile` (default 0.9) of the training clips' leave-one-out anomaly scores, computed under the same DN mode
 * and statistics as the test scores. A clip is decided anomalous when its score is strictly above the threshold,
 * as the DCASE baselines do. 0.9 matches the baselines' `decision_threshold` (there applied to a gamma fit).
 */
export const DEFAULT_THRESHOLD_QUANTILE = 0.9;

/** NumPy's default percentile (method 'linear'): interpolate between the order statistics at (n − 1)·q. */
export function quantileLinear(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) throw new GenrepError('quantile of an empty set of scores', 'BAD_INPUT', { field: 'scores' });
  if (!(q >= 0 && q <= 1))
    throw new GenrepError(`quantile must lie in [0, 1], got ${q}`, 'BAD_INPUT', { field: 'quantile' });
  const sorted = Float64Array.from(values).sort();
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  const t = h - lo;
  // In bounds: 0 ≤ lo ≤ hi ≤ n − 1, as 0 ≤ q ≤ 1 (checked).
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  // NumPy's _lerp: the formula that is exact at the nearer end.
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

/** The threshold from the training clips' leave-one-out scores. */
export function decisionThreshold(trainScores: ArrayLike<number>, quantile = DEFAULT_THRESHOLD_QUANTILE): number {
  return quantileLinear(trainScores, quantile);
}

/** 1 = anomaly (score > threshold), 0 = normal. */
export function decide(scores: ArrayLike<number>, threshold: number): Uint8Array {
  const out = new Uint8Array(scores.length);
  // In bounds: i < scores.length.
  for (let i = 0; i < scores.length; i++) out[i] = scores[i]! > threshold ? 1 : 0;
  return out;
}
