import type { RunConfig } from './runConfig';
import type { DnMode, Domain, Label, LayerSelectionMode, MemMixup, SummaryStyle } from './vocabulary';

/**
 * The shape of results.json — what `genrep run` writes and what the editor's results panel reads. Versioned: a
 * reader refuses a schemaVersion it does not know rather than misreading it.
 */
export const RESULTS_SCHEMA_VERSION = 1;

export interface Metrics {
  auc: number;
  pauc: number;
  /** null where the test set carries no domains. */
  auc_source: number | null;
  auc_target: number | null;
  /** Harmonic mean of auc_source, auc_target and pauc (DCASE 2023); null without domains. */
  official: number | null;
}

export interface RocPoints {
  fpr: number[];
  tpr: number[];
}

export interface FileScore {
  name: string;
  path: string;
  section: string;
  domain: Domain | null;
  label: Label | null;
  score: number;
  d_source: number | null;
  d_target: number | null;
  /** 1 = anomaly by the decision threshold (a rule that uses no test labels; docs/scoring.md). */
  decision: 0 | 1;
}

export interface LayerMetrics {
  layer: number;
  /** null in a scoring-only run (unlabelled test clips). */
  metrics: Metrics | null;
}

export interface MachineResult {
  machineType: string;
  sections: string[];
  /** Metrics of every scored layer (the layer sweep). */
  layers: LayerMetrics[];
  /** The layer reported for this machine type, and how it was chosen. */
  chosenLayer: number;
  metrics: Metrics | null;
  threshold: number;
  /** Per test clip at the chosen layer, in dataset order. */
  files: FileScore[];
  /** null in a scoring-only run. */
  roc: { all: RocPoints; source: RocPoints | null; target: RocPoints | null } | null;
}

export interface VariantResult {
  /** e.g. "dn=transductive mixup=K_s990" — unique within the run. */
  id: string;
  dn: DnMode;
  mixup: MemMixup | null;
  K_n: number;
  /** 'oracle' results used test labels to pick the layer and must always be labelled as such. */
  layerSelection: LayerSelectionMode;
  machines: MachineResult[];
  /** Low-shot runs: the seeds whose metrics are averaged (files, ROC and threshold are from the first seed). */
  seeds: number[] | null;
  /** Over machine types at their chosen layers: harmonic means (DCASE 2023) or arithmetic means (DCASE 2020). */
  overall: Metrics | null;
  /** The same summary with every machine type at one layer (the paper's Fig. 1). */
  perLayer: LayerMetrics[];
  summaryStyle: SummaryStyle;
  /**
   * Runs with several embedders (config `embedder` a list of more than one): `perLayer` of each, in config order, the
   * first being this variant's `perLayer`. Absent with one embedder.
   */
  perEmbedder?: EmbedderLayers[];
}

/** One embedder's layer sweep (RunResults `embedders` has its details under the same id). */
export interface EmbedderLayers {
  embedder: string;
  perLayer: LayerMetrics[];
}

export interface RunResults {
  schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  name: string;
  config: RunConfig;
  configFile: string | null;
  versions: { genrep: string; node: string; onnxruntime: string | null };
  startedAt: string;
  finishedAt: string;
  embedder: { id: string; provider: string; numLayers: number; dim: number; pooling: string };
  /**
   * Runs with several embedders: each one, in config order. The first is `embedder`, whose layers are selected and
   * reported (machine results, submission files, headline); the others only add their sweeps (`perEmbedder`).
   */
  embedders?: { id: string; provider: string; numLayers: number; dim: number; pooling: string }[];
  dataset: { root: string | null; layout: string; machineTypes: string[]; skipped: { path: string; reason: string }[] };
  /** Feature cache counters, in clips: a re-run that only changes scoring options has extracted = 0. */
  cache: { hits: number; extracted: number };
  timings: { discoverSec: number; extractSec: number; scoreSec: number; writeSec: number; totalSec: number };
  /** The main variant first (the config's DN mode and MemMixup), then the ablation's other cells if asked. */
  variants: VariantResult[];
  /** Files written into the output folder, relative to it. */
  outputs: string[];
}
