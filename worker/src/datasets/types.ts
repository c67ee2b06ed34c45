/** How a dataset's files are organised; 'auto' asks discoverDataset to recognise it from the file names. */
export type Layout = 'dcase2023' | 'dcase2020' | 'generic' | 'files' | 'auto';
export type DatasetLayout = Exclude<Layout, 'auto'>;
export type Split = 'train' | 'test';
export type Domain = 'source' | 'target';
export type Label = 'normal' | 'anomaly';

/** One audio file with everything its name, folder or the ground truth says about it. */
export interface Clip {
  /** Absolute path. */
  path: string;
  machineType: string;
  /** DCASE section ("00"), the DCASE 2020 machine ID ("02"), or "00" for layouts without sections. */
  section: string;
  split: Split;
  /** undefined where the layout carries no domain (DCASE 2020, generic without source/ and target/). */
  domain: Domain | undefined;
  /** undefined only for unlabelled test clips in a scoring-only run. */
  label: Label | undefined;
  /** `key_value` pairs from the name, attributes_XX.csv or the ground truth's renamed name. */
  attributes: Record<string, string>;
  /** File name without folders. */
  name: string;
  /** For eval clips labelled from ground truth: the name the evaluator gives the clip (with domain/label/attributes). */
  originalName?: string;
}

export interface MachineSet {
  machineType: string;
  /** Sorted: source clips first, then target, each by name (the reference's 990 + 10 row order). */
  train: Clip[];
  test: Clip[];
  /** Sections present in train or test, sorted. */
  sections: string[];
}

export interface SkippedFile {
  path: string;
  reason: string;
}

export interface Dataset {
  /** The root as resolved (symbolic links followed). */
  root: string;
  layout: DatasetLayout;
  machines: MachineSet[];
  /** Files that fit no rule and were skipped because the options allowed it. */
  skipped: SkippedFile[];
}

/** One entry of an explicit file list; fields left out are taken from a DCASE-style name where it has them. */
export interface ListedFile {
  /** Relative to the root, or absolute inside it. */
  path: string;
  machineType: string;
  split: Split;
  domain?: Domain;
  label?: Label;
  section?: string;
  attributes?: Record<string, string>;
}

export interface DiscoverOptions {
  root: string;
  layout?: Layout;
  /** Keep only these machine types (each must exist). */
  machineTypes?: string[];
  /** Keep only these sections (each must exist in at least one kept machine type). */
  sections?: string[];
  /** Evaluator ground truth for eval test files (folder with ground_truth_data/…, or an eval_data_list CSV). */
  groundTruthDir?: string;
  /** Skip (and list in `skipped`) files that fit no rule instead of failing. */
  skipUnrecognised?: boolean;
  /** Allow unlabelled or one-class test sets: the run only scores, it computes no metric. */
  scoringOnly?: boolean;
  /** An explicit file list instead of walking the root (layout 'files', as run configs spell it). */
  files?: ListedFile[];
}

/** Ground truth per machine type → section → eval file name. */
export interface GroundTruthEntry {
  label: 0 | 1;
  domain?: 0 | 1;
  /** The evaluator's name for the clip, without extension, e.g. section_00_target_test_normal_0000_vel_12. */
  renamed?: string;
}
export type GroundTruth = Map<string, Map<string, Map<string, GroundTruthEntry>>>;
