import { gatherRows, gram } from './gram';
import type { GramBackend } from './gramBackend';
import { selectSmallest } from './topk';

/**
 * MemMixup (spec §4.3): for each target row t_i, its K_s nearest source rows s_(i,1..K_s) in ascending distance, and
 * the augmented rows a_ij = λ·t_i + (1 − λ)·s_(i,j), appended i-major after the originals.
 *
 * The rows themselves are never built for exact search. Everything a distance to a_ij needs is
 *   ‖a_ij‖² = λ²‖t_i‖² + (1 − λ)²‖s_j‖² + 2λ(1 − λ)·t_i·s_j    (kept here, one number per row)
 *   y·a_ij  = λ·y·t_i + (1 − λ)·y·s_j                          (two entries of the query's Gram row)
 * so d²(y, a_ij) = ‖y‖² + ‖a_ij‖² − 2·y·a_ij costs a few flops instead of `dim` (K_s × N_target × dim floats saved).
 */
export interface MixupTable {
  ks: number;
  lambda: number;
  /** Feature row of each target t_i, in row order. */
  targets: Int32Array;
  /** targets.length × ks feature rows of the mixed-in sources, ascending distance to t_i. */
  sources: Int32Array;
  /** ‖a_ij‖², same layout as `sources`. */
  augNorms: Float64Array;
}

/**
 * Builds the table with the JavaScript Gram kernel, synchronously (for callers outside an async scoring call, e.g.
 * HNSW on a bank nobody prepared); `buildMixupTableWith` is the same on any backend.
 */
export function buildMixupTable(
  features: Float32Array,
  norms: Float64Array,
  dim: number,
  targetRows: Int32Array,
  sourceRows: Int32Array,
  ks: number,
  lambda: number,
): MixupTable {
  const T = gatherRows(features, dim, targetRows);
  const all = gram(T, targetRows.length, features, norms.length, dim);
  return mixupTableFromGram(all, norms, targetRows, sourceRows, ks, lambda);
}

export async function buildMixupTableWith(
  backend: GramBackend,
  features: Float32Array,
  norms: Float64Array,
  dim: number,
  targetRows: Int32Array,
  sourceRows: Int32Array,
  ks: number,
  lambda: number,
): Promise<MixupTable> {
  const T = gatherRows(features, dim, targetRows);
  const all = await backend.gram(T, targetRows.length, features, norms.length, dim);
  return mixupTableFromGram(all, norms, targetRows, sourceRows, ks, lambda);
}

/**
 * `all`: the targets' Gram rows against all training rows (no copy of the source rows is made; the source columns
 * are picked here).
 */
function mixupTableFromGram(
  all: Float64Array,
  norms: Float64Array,
  targetRows: Int32Array,
  sourceRows: Int32Array,
  ks: number,
  lambda: number,
): MixupTable {
  const nt = targetRows.length;
  const ns = sourceRows.length;
  const n = norms.length;
  const dots = new Float64Array(nt * ns);
  const d2 = new Float64Array(nt * ns);
  for (let i = 0; i < nt; i++) {
    const tn = norms[targetRows[i]];
    for (let j = 0; j < ns; j++) {
      const dot = all[i * n + sourceRows[j]];
      dots[i * ns + j] = dot;
      const v = tn + norms[sourceRows[j]] - 2 * dot;
      d2[i * ns + j] = v > 0 ? v : 0;
    }
  }
  const nearest = selectSmallest(d2, nt, ns, ks);
  const sources = new Int32Array(nt * ks);
  const augNorms = new Float64Array(nt * ks);
  const mu = 1 - lambda;
  for (let i = 0; i < nt; i++) {
    const tn = norms[targetRows[i]];
    for (let j = 0; j < ks; j++) {
      const col = nearest.indices[i * ks + j];
      const s = sourceRows[col];
      sources[i * ks + j] = s;
      augNorms[i * ks + j] = lambda * lambda * tn + mu * mu * norms[s] + 2 * lambda * mu * dots[i * ns + col];
    }
  }
  return { ks, lambda, targets: targetRows.slice(), sources, augNorms };
}
