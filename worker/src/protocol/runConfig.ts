import type { DnMode, Domain, IndexChoice, Label, LayerSelectionMode, MemMixup, Pooling } from './vocabulary';

/** One clip of an explicit file list (dataset layout "files"). */
export interface DatasetFileEntry {
  path: string;
  machineType: string;
  split: 'train' | 'test';
  domain?: Domain;
  label?: Label;
  section?: string;
}

export interface DatasetConfig {
  root?: string;
  layout: 'auto' | 'dcase2023' | 'dcase2020' | 'generic' | 'files';
  machineTypes?: string[];
  sections?: string[];
  groundTruthDir?: string;
  skipUnrecognised: boolean;
  skipUnreadable: boolean;
  files?: DatasetFileEntry[];
}

export type EmbedderConfig =
  | string
  | { kind: 'fbank-stats' }
  | { kind: 'beats'; checkpoint: string }
  | { kind: 'onnx'; path: string; input: 'waveform' | 'fbank'; output?: string }
  /** Any pre-trained encoder an encoder descriptor (`*.encoder.json`) describes. */
  | { kind: 'encoder'; descriptor: string };

/**
 * The run configuration as the worker uses it: schemas/run-config.schema.json after defaults are filled in
 * (test/config/schemaDrift.test.ts keeps the two in step).
 */
export interface RunConfig {
  /** The schema's path or URL, for editors; the worker ignores it. */
  $schema?: string;
  name: string;
  dataset: DatasetConfig;
  /**
   * One embedder, or several whose layer sweeps the results compare: layer selection, the submission files and the
   * headline are the first one's (results.json `embedder`); the others add their sweeps (`embedders`, `perEmbedder`).
   */
  embedder: EmbedderConfig | EmbedderConfig[];
  layers: number[] | 'all';
  pooling: Pooling;
  K_n: number;
  mixup: MemMixup;
  dn: DnMode | DnMode[];
  ablation: boolean;
  index: IndexChoice;
  layerSelection: LayerSelectionMode | { mode: LayerSelectionMode; layer?: number };
  lowShot?: { k?: number; fraction?: number; seeds: number[] };
  /**
   * CPU threads the run uses: feature extraction's, then as many threads scoring grid cells in parallel (the two
   * stages never overlap, so one number is the cores the run takes). Undefined: the editor's setting, else all cores (scoring: at most 8).
   */
  threads?: number;
  batchSize: number;
  channel: number | 'mean';
  output: string;
  cacheDir?: string;
  modelDir?: string;
}
