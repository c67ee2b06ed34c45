import type { MemMixup } from '../protocol/vocabulary';
import { gatherRows, gram } from './gram';
import type { GramBackend } from './gramBackend';
import { selectSmallest } from './topk';

/**
 * MemMixup (the paper's Section 3, docs/scoring.md "MemMixup"): for each target row t_i, its K_s nearest source rows
 * s_(i,1..K_s) in ascending distance, and the augmented rows a_ij = λ·t_i + (1 − λ)·s_(i,j), appended i-major after
 * the originals.
 *
 * The rows themselves are never built for exact search. Everything a distance to a_ij needs is
 *   ‖a_ij‖² = λ²‖t_i‖² + (1 − λ)²‖s_j‖² + 2λ(1 − λ)·t_i·s_j    (kept here, one number per row)
 *   y·a_ij  = λ·y·t_i + (1 − λ)·y·s_j                          (two entries of the query's Gram row)
 * so d²(y, a_ij) = ‖y‖² + ‖a_ij‖² − 2·y·a_ij costs a few flops instead of `dim` (K_s × N_target × dim floats saved).
 */
export interface MixupTable extends MemMixup {
  /** (N_t,) feature row of each target t_i, in row order. */
  targets: Int32Array;
  /** (N_t, K_s) row-major: feature rows of the mixed-in sources, ascending distance to t_i. */
  sources: Int32Array;
  /** (N_t, K_s) row-major float64: ‖a_ij‖², same layout as `sources`. */
  augNorms: Float64Array;
}

/** What a MemMixup table is built from. */
export interface MixupSides {
  /** All training rows, (n, dim) row-major float32. */
  features: Float32Array;
  /** (n,) ‖row‖² of every training row, float64. */
  norms: Float64Array;
  dim: number;
  /** (N_t,) the target bank's rows (indices into `features`). */
  targetRows: Int32Array;
  /** (N_s,) the source bank's rows (indices into `features`). */
  sourceRows: Int32Array;
  mixup: MemMixup;
}

/**
 * Builds the table with the JavaScript Gram kernel, synchronously (for callers outside an async scoring call, e.g.
 * HNSW on a bank nobody prepared); `buildMixupTableAsync` is the same on any backend.
 */
export function buildMixupTable(sides: MixupSides): MixupTable {
  const { features, norms, dim, targetRows } = sides;
  const all = gram(gatherRows(features, dim, targetRows), targetRows.length, features, norms.length, dim);
  return mixupTableFromGram(all, sides);
}

/** buildMixupTable with the Gram product on `backend` (ONNX Runtime or the JavaScript kernel). */
export async function buildMixupTableAsync(backend: GramBackend, sides: MixupSides): Promise<MixupTable> {
  const { features, norms, dim, targetRows } = sides;
  const all = await backend.gram(gatherRows(features, dim, targetRows), targetRows.length, features, norms.length, dim);
  return mixupTableFromGram(all, sides);
}

/**
 * The table from `all`, the targets' Gram rows against all training rows, (N_t, n) row-major float64 (no copy of
 * the source rows is made; the source columns are picked here).
 */
function mixupTableFromGram(all: Float64Array, sides: MixupSides): MixupTable {
  const { norms, targetRows, sourceRows } = sides;
  const { K_s, lambda } = sides.mixup;
  const nt = targetRows.length;
  const ns = sourceRows.length;
  const n = norms.length;
  const dots = new Float64Array(nt * ns);
  const d2 = new Float64Array(nt * ns);
  // In bounds: i < nt, j < ns index targetRows / sourceRows; their entries are rows < n, which index norms and,
  // with i, the (nt, n) matrix `all`.
  for (let i = 0; i < nt; i++) {
    const tn = norms[targetRows[i]!]!;
    for (let j = 0; j < ns; j++) {
      const s = sourceRows[j]!;
      const dot = all[i * n + s]!;
      dots[i * ns + j] = dot;
      const v = tn + norms[s]! - 2 * dot;
      d2[i * ns + j] = v > 0 ? v : 0;
    }
  }
  const nearest = selectSmallest(d2, nt, ns, K_s);
  const sources = new Int32Array(nt * K_s);
  const augNorms = new Float64Array(nt * K_s);
  const mu = 1 - lambda;
  // In bounds as above; nearest.indices is (nt, K_s) and holds columns < ns.
  for (let i = 0; i < nt; i++) {
    const tn = norms[targetRows[i]!]!;
    for (let j = 0; j < K_s; j++) {
      const col = nearest.indices[i * K_s + j]!;
      const s = sourceRows[col]!;
      sources[i * K_s + j] = s;
      augNorms[i * K_s + j] = lambda * lambda * tn + mu * mu * norms[s]! + 2 * lambda * mu * dots[i * ns + col]!;
    }
  }
  return { K_s, lambda, targets: targetRows.slice(), sources, augNorms };
}
