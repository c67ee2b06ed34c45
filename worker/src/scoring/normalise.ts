import { GenrepError } from '../errors';
import type { DnStats } from '../protocol/vocabulary';

/**
 * Domain normalisation arithmetic (docs/scoring.md, "Domain normalisation (DN)"): z = (d − μ)/σ per bank with σ the
 * population standard deviation (np.std, ddof = 0), score = min over banks.
 */

/**
 * Mean and population std of (n,) `values`, two-pass as NumPy computes them; (n,) `weights` (summing to 1) for
 * weighted statistics.
 */
export function populationStats(values: ArrayLike<number>, weights?: ArrayLike<number>): DnStats {
  const n = values.length;
  if (n === 0) throw new GenrepError('statistics of an empty set of distances', 'INTERNAL');
  if (weights && weights.length !== n) {
    throw new GenrepError(`${weights.length} weights for ${n} distances`, 'INTERNAL');
  }
  // In bounds: i < n, the length of values and of weights (checked above).
  let mean = 0;
  if (weights) {
    for (let i = 0; i < n; i++) mean += weights[i]! * values[i]!;
  } else {
    for (let i = 0; i < n; i++) mean += values[i]!;
    mean /= n;
  }
  let v = 0;
  if (weights) {
    for (let i = 0; i < n; i++) v += weights[i]! * (values[i]! - mean) ** 2;
  } else {
    for (let i = 0; i < n; i++) v += (values[i]! - mean) ** 2;
    v /= n;
  }
  return { mean, std: Math.sqrt(v) };
}

export function checkSpread(stats: DnStats, bank: string, over: string): void {
  if (!(stats.std > 0)) {
    throw new GenrepError(
      `domain normalisation: the distances to the ${bank} bank have zero spread over ${over}, so z-scores are undefined; use DN 'none'`,
      'BAD_INPUT',
      { field: 'dn' },
    );
  }
}

/** (d − μ)/σ for each of the (n,) distances. */
export function zScores(distances: Float64Array, stats: DnStats): Float64Array {
  const out = new Float64Array(distances.length);
  // In bounds: i < distances.length.
  for (let i = 0; i < distances.length; i++) out[i] = (distances[i]! - stats.mean) / stats.std;
  return out;
}

/** Element-wise minimum over banks of (n,) arrays of equal length. */
export function minOver(arrays: readonly Float64Array[]): Float64Array {
  const [first, ...rest] = arrays;
  if (!first) throw new GenrepError('no bank to score against', 'INTERNAL');
  const out = Float64Array.from(first);
  for (const x of rest) {
    if (x.length !== out.length) throw new GenrepError(`${x.length} scores beside ${out.length}`, 'INTERNAL');
    // In bounds: i < out.length = x.length.
    for (let i = 0; i < out.length; i++) if (x[i]! < out[i]!) out[i] = x[i]!;
  }
  return out;
}

/**
 * Weights that give each group (domain or section) of the training clips the same total weight, so the inductive
 * statistics describe a balanced mix of domains — like the DCASE test sets (equal source and target clips) — rather
 * than the 99:1 source-heavy training split. `rowGroup`: (rows,) group index < groupCount of each training row.
 */
export function groupBalancedWeights(rowGroup: Int32Array, groupCount: number): Float64Array {
  const sizes = new Float64Array(groupCount);
  // In bounds: rowGroup's entries are group indices < groupCount = sizes.length.
  for (const g of rowGroup) sizes[g]!++;
  let present = 0;
  for (const size of sizes) if (size > 0) present++;
  const w = new Float64Array(rowGroup.length);
  rowGroup.forEach((g, i) => (w[i] = 1 / (present * sizes[g]!)));
  return w;
}
