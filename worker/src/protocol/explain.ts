import type { DnMode, Pooling } from './vocabulary';

/**
 * Why a clip scored as it did (`genrep explain`, `genrep/explainClip`, the panel's explain view, report.html's top
 * anomalies; docs/explain.md). With temporal mean pooling a clip's feature is m = (1/T) Σ_t x_t and its distance to a
 * bank row n is d = ‖m − n‖ = (1/T) Σ_t ⟨x_t − n, u⟩ with u = (m − n)/‖m − n‖: the distance splits exactly into
 * per-time contributions, and, because the pooled vector keeps the frequency bands (f·C + c), into a time × band grid
 * whose sum is d. K_n > 1: the mean of the K_n neighbours' grids (the kNN distance is their mean). Domain
 * normalisation is affine per bank: under DN the grid is divided by σ of the bank that won the min, and
 * score = Σ grid − μ/σ.
 */
export interface ExplainGrid {
  /** Time steps (BEATs: time patches; fbank-stats: frames) and frequency bands (BEATs: 8 patch rows; mel bins). */
  times: number;
  bands: number;
  /** Row-major [times × bands]. Σ values = `distance` (no DN) or `distance / dn.std` (DN). */
  values: number[];
  /** Centre of each time step, seconds from the clip's start. */
  timeSeconds: number[];
  /** Each band's [low, high] frequency in Hz. */
  bandHz: [number, number][];
  /**
   * 'exact': the grid sums to the distance (temporal pooling of a linear mean). 'linearised': a first-order
   * decomposition (fbank-stats' std half is not linear in the frames); `residual` = distance − Σ values then.
   */
  decomposition: 'exact' | 'linearised';
  residual: number;
}

/** A bank row the clip is near: a training clip, or a MemMixup row named as the mix it is. */
export interface ExplainNeighbour {
  row: number;
  /** The bank the row belongs to ('source', 'target', a section, 'all'). */
  bank: string;
  /** The training clip's file name, or for a mix `mix(<target clip>, <source clip>, λ=0.9)`. */
  name: string;
  /** The training clip's path where the bank or run knows it (the panel plays it). */
  path?: string;
  mix?: { target: string; source: string; lambda: number };
  distance: number;
}

export interface ExplainResult {
  clip: string;
  embedder: string;
  layer: number;
  pooling: Pooling;
  K_n: number;
  dn: DnMode;
  /** The clip's anomaly score under `dn` (as the run / scoring reports it). */
  score: number;
  /** The kNN distance (mean over the K_n nearest rows) to the bank that won the min. */
  distance: number;
  /** The bank that won the min, and its DN statistics (null without DN). */
  bank: string;
  dnStats: { mean: number; std: number } | null;
  grid: ExplainGrid;
  /** Σ over bands per time step, Σ over time per band (the heat map's margins). */
  perTime: number[];
  perBand: number[];
  /** Nearest rows of the winning bank, nearest first (K_n of them, at least 1). */
  neighbours: ExplainNeighbour[];
  /** Where it came from: a bank file, or a run's results.json and the variant. */
  source: { bankFile: string } | { resultsFile: string; variant: string; machineType: string };
}
