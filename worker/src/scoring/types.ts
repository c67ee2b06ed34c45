/**
 * Types of the scoring stage that are not the paper's vocabulary (docs/scoring.md): where a bank's rows came from,
 * and the names that inputs carry into error messages. The vocabulary itself (Domain, DnMode, MemMixup, …) lives in
 * protocol/vocabulary.ts.
 */

// Kept for importers outside the scoring stage that still take the vocabulary from here (cli/commands/scoreFeatures,
// experiments/banks, experiments/scoreMachineLayer); scoring itself imports protocol/vocabulary directly.
export type { DnMode, Domain, IndexChoice } from '../protocol/vocabulary';
export { DN_MODES } from '../protocol/vocabulary';

/** Where the bank's rows came from; written into bank files and checked on load. */
export interface BankMeta {
  embedder?: string | null;
  layer?: number | null;
  pooling?: string | null;
  /** Recorded in bank files (BankFileHeader.machineType), never compared by checkExpected. */
  machineType?: string | null;
  section?: string | null;
  /**
   * Each training row's clip, as a path relative to the dataset root, in row order (banks built from a dataset;
   * BankFileHeader.rowNames): names the nearest normal clips when a score is explained.
   */
  rowNames?: string[];
}

/** Names the inputs in error messages (file paths in the CLI). */
export interface InputNames {
  train?: string;
  trainLabels?: string;
  test?: string;
  bank?: string;
}
