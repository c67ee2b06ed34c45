import type { Metrics, RocPoints } from './results';
import type { Domain, Label } from './vocabulary';

/**
 * What `genrep compare` and the panel's comparison view show: two or more results.json, the first (A) against each
 * other one (B). Metrics are fractions (as in results.json); deltas are B − A; displays show percent
 * (chartSpecs.formatPercent).
 */
export interface CompareResult {
  /** Every run compared, in the order given: runs[0] is A. */
  runs: CompareRun[];
  /** runs[0] against runs[i + 1], for each other run. */
  pairs: ComparePair[];
}

export interface CompareRun {
  /** The results.json read. */
  file: string;
  name: string;
  /** What tables, legends and the panel's title call the run: its name, with its folder where two runs share one. */
  label: string;
  finishedAt: string;
  /** Every embedder id of the run, the first being the one whose layers are reported. */
  embedders: string[];
}

/** A metric of both runs and its change (B − A); null where either run has no value. */
export interface MetricDeltas {
  auc: number | null;
  pauc: number | null;
  auc_source: number | null;
  auc_target: number | null;
  official: number | null;
}

export interface ComparePair {
  /** Indices into CompareResult.runs. */
  a: number;
  b: number;
  /** Variants compared: the two main variants (first of each run) always, then any two of the same id. */
  variants: CompareVariant[];
  /** Variant ids one run has and the other does not (not compared). */
  variantsOnlyA: string[];
  variantsOnlyB: string[];
  /** What differs between the two runs' configs and embedders (see ConfigDifference). */
  configDiff: ConfigDifference[];
}

export interface CompareVariant {
  idA: string;
  idB: string;
  summaryStyleA: string;
  summaryStyleB: string;
  /** Machine types both runs scored, in run A's order. */
  machines: CompareMachine[];
  /** Machine types only one run scored: listed, not compared. */
  machinesOnlyA: string[];
  machinesOnlyB: string[];
  /** The variants' own summaries (hmean or mean over their machine types). */
  overall: { a: Metrics | null; b: Metrics | null; delta: MetricDeltas };
  /** Clips whose decision differs between the runs, over every compared machine type. */
  changed: ChangedClip[];
}

export interface CompareMachine {
  machineType: string;
  chosenLayerA: number;
  chosenLayerB: number;
  metricsA: Metrics | null;
  metricsB: Metrics | null;
  delta: MetricDeltas;
  thresholdA: number;
  thresholdB: number;
  rocA: RocPoints | null;
  rocB: RocPoints | null;
  /** Test clips found in both runs (by path, else by a file name unique in both), in run A's order. */
  files: CompareFile[];
  /** Clips of one run with no match in the other. */
  unmatchedA: number;
  unmatchedB: number;
}

export interface CompareFile {
  name: string;
  path: string;
  section: string;
  domain: Domain | null;
  label: Label | null;
  scoreA: number;
  scoreB: number;
  decisionA: 0 | 1;
  decisionB: 0 | 1;
}

export interface ChangedClip {
  machineType: string;
  name: string;
  path: string;
  label: Label | null;
  scoreA: number;
  scoreB: number;
  decisionA: 0 | 1;
  decisionB: 0 | 1;
  /** With a label: 'fixed' when B's decision is right and A's was not, 'broken' the other way; null without. */
  effect: 'fixed' | 'broken' | null;
}

/**
 * One difference between the runs: a config field (JSON pointer into the run config, e.g. `/dn`, `/mixup/K_s`), an
 * embedder id (`embedders`) or a chosen layer (`chosenLayer/<machine type>`). Values are JSON text; null = absent.
 */
export interface ConfigDifference {
  path: string;
  a: string | null;
  b: string | null;
}
