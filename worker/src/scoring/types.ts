/**
 * Shared vocabulary of the scoring stage (spec §4): memory banks per machine type and layer, kNN distances to them,
 * MemMixup augmentation of the target bank and domain normalisation of the distances.
 */

/** Domain of a DCASE 2023 training clip; the source bank holds `source` rows, the target bank `target` rows. */
export type Domain = 'source' | 'target';

/**
 * How the per-bank distances become one anomaly score.
 * - `transductive`: z-score each bank's distances with the mean / population std over the scored test clips (the
 *   paper's code); score = min of the z-scores.
 * - `inductive`: the same z-scores with statistics from the training clips' leave-one-out distances (no test
 *   statistics; see docs/scoring.md for the exact definition).
 * - `none`: score = min of the raw distances.
 */
export type DnMode = 'transductive' | 'inductive' | 'none';
export const DN_MODES: readonly DnMode[] = ['transductive', 'inductive', 'none'];

/** Nearest-neighbour search: exact (Gram matrices), HNSW (hnswlib-node), or chosen by bank size. */
export type IndexChoice = 'exact' | 'hnsw' | 'auto';
export type IndexKind = 'exact' | 'hnsw';

/**
 * How the training rows are split into banks.
 * - `domain`: DCASE 2023 — a source bank and a target bank (MemMixup may augment the target bank);
 * - `section`: DCASE 2020 section-label normalisation — one bank per section / machine ID;
 * - `pooled`: DCASE 2020 label-free — one bank of all training clips.
 */
export type BankKind = 'domain' | 'section' | 'pooled';

export interface MixupOptions {
  /** K_s: number of nearest source rows mixed with each target row (`--n_mix_support`). */
  ks: number;
  /** λ: weight of the target row in λ·t + (1 − λ)·s (`--alpha`, 0.9 in the paper). */
  lambda: number;
}

export interface HnswOptions {
  /** Graph degree (hnswlib `M`). */
  m: number;
  efConstruction: number;
  /** Search beam width; raised to at least K_n (plus the rows a leave-one-out query must skip). */
  efSearch: number;
  randomSeed: number;
}

/** Where the bank's rows came from; written into bank files and checked on load. */
export interface BankMeta {
  embedder?: string | null;
  layer?: number | null;
  pooling?: string | null;
}

/** Names the inputs in error messages (file paths in the CLI). */
export interface InputNames {
  train?: string;
  trainLabels?: string;
  test?: string;
  bank?: string;
}

/** Mean and population standard deviation (ddof = 0) of one bank's distances. */
export interface DnStats {
  mean: number;
  std: number;
}
