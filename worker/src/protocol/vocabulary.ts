/**
 * The paper's vocabulary, declared once (Saengthong & Shinozaki, "Deep Generic Representations for
 * Domain-Generalized Anomalous Sound Detection"; docs/scoring.md). Every layer — scoring, configs, results, the
 * worker protocol, the editor and the panel — imports these names from here, spelled as the paper spells them:
 * K_n, K_s, lambda (λ).
 */

/** Domain of a DCASE 2023 clip; the source bank holds `source` rows, the target bank `target` rows. */
export type Domain = 'source' | 'target';

/** A test clip's ground truth where it is known. */
export type Label = 'normal' | 'anomaly';

/**
 * How the per-bank kNN distances become one anomaly score (domain normalisation, DN).
 * - `transductive`: z-score each bank's distances with the mean / population std over the scored test clips (the
 *   paper's code); score = min of the z-scores.
 * - `inductive`: the same z-scores with statistics from the training clips' leave-one-out distances (no test
 *   statistics; docs/scoring.md gives the exact definition).
 * - `none`: score = min of the raw distances.
 */
export type DnMode = 'transductive' | 'inductive' | 'none';
export const DN_MODES: readonly DnMode[] = ['transductive', 'inductive', 'none'];

/**
 * How a layer's token grid (time patches × frequency patches × channels) becomes one vector per clip:
 * temporal = mean over time, frequency-major flattening f·C + c (the paper's choice); spectral = mean over
 * frequency, t·C + c; spatial = mean over all tokens.
 */
export type Pooling = 'temporal' | 'spectral' | 'spatial';
export const POOLINGS: readonly Pooling[] = ['temporal', 'spectral', 'spatial'];

/** How the reported layer is chosen: fixed, oracle (test labels; always labelled so), validation (other types). */
export type LayerSelectionMode = 'fixed' | 'oracle' | 'validation';

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

/** MemMixup: each target row is mixed with its K_s nearest source rows as λ·t + (1 − λ)·s. */
export interface MemMixup {
  /** K_s: nearest source rows mixed with each target row (the reference's `--n_mix_support`). */
  K_s: number;
  /** λ: weight of the target row (the reference's `--alpha`). */
  lambda: number;
}

/** HNSW graph parameters (hnswlib's names). */
export interface HnswOptions {
  /** Graph degree (hnswlib `M`). */
  m: number;
  efConstruction: number;
  /** Search beam width; raised to at least K_n (plus the rows a leave-one-out query must skip). */
  efSearch: number;
  randomSeed: number;
}

/** Mean and population standard deviation (ddof = 0) of one bank's distances. */
export interface DnStats {
  mean: number;
  std: number;
}

/** How DCASE summaries average over machine types: harmonic (2023 onwards) or arithmetic (2020). */
export type SummaryStyle = 'dcase2023' | 'dcase2020';

/** The shape of PAPER_DEFAULTS, for where the values travel: the worker sends them in `initialize`. */
export interface PaperDefaults {
  K_n: number;
  mixup: MemMixup;
  dn: DnMode;
  pooling: Pooling;
  /** The paper's layer for its fine-tuned checkpoint. */
  beatsLayer: number;
  /** fbank-stats has one "layer". */
  fbankStatsLayer: number;
}

/**
 * The paper's settings (its best configuration on DCASE 2023: BEATs fine-tuned checkpoint "cpt1" at layer 4,
 * K_n = 1, MemMixup with K_s = 990 and λ = 0.9, transductive DN). Defaults everywhere come from here; the editor,
 * which takes the protocol as types only, gets them from the worker (InitializeResult's `genrep.paperDefaults`).
 */
export const PAPER_DEFAULTS = {
  K_n: 1,
  mixup: { K_s: 990, lambda: 0.9 } satisfies MemMixup,
  dn: 'transductive',
  pooling: 'temporal',
  /** The paper's layer for its fine-tuned checkpoint. */
  beatsLayer: 4,
  /** fbank-stats has one "layer". */
  fbankStatsLayer: 1,
} as const satisfies PaperDefaults;
