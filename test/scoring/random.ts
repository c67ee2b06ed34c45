import { mulberry32 } from '../../worker/src/util/mulberry32';

/** Seeded pseudo-random data for tests (mulberry32), so every run sees the same features. */
export const rng = mulberry32;

/** rows × dim standard-normal float32 values (Box–Muller), optionally shifted by `offset`. */
export function gaussian(rows: number, dim: number, seed: number, offset = 0, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(rows * dim);
  for (let i = 0; i < out.length; i++) {
    const u = Math.max(r(), 1e-12);
    out[i] = offset + scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  }
  return out;
}

/** Euclidean distance between two rows, computed directly (the reference's definition, no Gram trick). */
export function directDistance(
  a: ArrayLike<number>,
  aOff: number,
  b: ArrayLike<number>,
  bOff: number,
  dim: number,
): number {
  let s = 0;
  for (let k = 0; k < dim; k++) {
    const d = a[aOff + k]! - b[bOff + k]!;
    s += d * d;
  }
  return Math.sqrt(s);
}

/** Mean of the kn smallest values (a plain full sort: the independent reference for the selection code). */
export function meanSmallest(values: number[], kn: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  let s = 0;
  for (let i = 0; i < kn; i++) s += sorted[i]!;
  return s / kn;
}
