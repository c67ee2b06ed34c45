import type { BankKind, DnStats, HnswOptions, IndexKind } from './vocabulary';

/**
 * The JSON header of a `.grbank` file (format 1; docs/scoring.md), as the worker writes it and `genrep/listBanks`
 * returns it.
 */
export interface BankFileHeader {
  format: 'genrep-bank';
  embedder: string | null;
  layer: number | null;
  pooling: string | null;
  /**
   * The machine type whose training clips the bank holds, when it was built from a dataset (absent in banks written
   * before it was recorded and in banks of bare features): scoring refuses clips of another type unless told.
   */
  machineType?: string;
  /** The section of those clips when they all come from one (absent when the bank mixes sections). */
  section?: string;
  dim: number;
  dtype: 'float32';
  kind: BankKind;
  /** Bank names in group order: ['source', 'target'], the section IDs, or ['all']. */
  groups: string[];
  /** Row → group as runs [groupIndex, count] in row order. */
  rowGroups: [number, number][];
  /** rows, rows per bank name, augmented (MemMixup) rows. */
  counts: Record<string, number>;
  kn: number;
  /** MemMixup as format 1 stores it: `ks` is K_s (see BankFileMixup). */
  mixup: BankFileMixup | null;
  index: IndexKind;
  hnsw: HnswOptions;
  /** Inductive DN statistics computed before saving, per K_n (so loading does not need the leave-one-out pass). */
  inductiveStats?: { kn: number; banks: Record<string, DnStats> }[];
  /**
   * Banks built from a dataset: each training row's clip as a path relative to the dataset root, in row order
   * (absent in banks of bare features and in banks written before it was recorded). Names the nearest normal clips
   * of an explained score (docs/explain.md).
   */
  rowNames?: string[];
  /**
   * With `rowNames` and MemMixup: each augmented row's provenance [target row, source row] (training row indices),
   * in the augmented rows' order (target-major, K_s per target); λ is `mixup.lambda`. Recomputed on load from the
   * rows, so it is a record for readers of the header, never trusted over the rows.
   */
  mixupRows?: [number, number][];
}

/**
 * MemMixup as bank files store it. Format 1 spells K_s `ks`; the on-disk spelling is kept so that existing banks
 * stay readable and new ones byte-identical, and bankFile.ts maps it to MemMixup's K_s on both sides.
 */
export interface BankFileMixup {
  ks: number;
  lambda: number;
}
