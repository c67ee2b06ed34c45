/**
 * Shared vocabulary of the scoring stage (spec §4): memory banks per machine type and layer, kNN distances to them,
 * MemMixup augmentation of the target bank and domain normalisation of the distances.
 */

// The paper's vocabulary is declared in protocol/vocabulary.ts; scoring uses it under the same names.
export type { BankKind, DnMode, DnStats, Domain, HnswOptions, IndexChoice, IndexKind } from '../protocol/vocabulary';
export { DN_MODES } from '../protocol/vocabulary';

export interface MixupOptions {
  /** K_s: number of nearest source rows mixed with each target row (`--n_mix_support`). */
  ks: number;
  /** λ: weight of the target row in λ·t + (1 − λ)·s (`--alpha`, 0.9 in the paper). */
  lambda: number;
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

