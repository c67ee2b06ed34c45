import type { Clip } from '../datasets';
import { GenrepError } from '../errors';
import { dcaseMetrics, decide, rocCurve, type DcaseMetrics } from '../metrics';
import { buildBanks, scoreMachine, type DnMode, type Domain, type IndexChoice } from '../scoring';
import type { FileScore, Metrics, RocPoints } from '../protocol/results';

/** One cell of the experiment grid: a machine type × layer × (DN mode, MemMixup) variant. */
export interface CellInput {
  machineType: string;
  train: Float32Array;
  trainClips: readonly Clip[];
  test: Float32Array;
  testClips: readonly Clip[];
  dim: number;
  layer: number;
  dn: DnMode;
  mixup: { K_s: number; lambda: number } | null;
  K_n: number;
  index: IndexChoice;
  /** Where in the config K_s and K_n were set, so a bank too small for them is reported there. */
  locate: (pointer: string) => string;
}

export interface CellResult {
  metrics: Metrics | null;
  score: Float64Array;
  d_source: Float64Array | null;
  d_target: Float64Array | null;
  threshold: number;
}

/**
 * What computing a cell takes once its config checks passed (checkCell): plain data, so a scoring thread
 * (scorePool.ts) can receive it — no functions, and of each test clip only what the metrics read.
 */
export interface CellTask {
  machineType: string;
  layer: number;
  train: Float32Array;
  /** Every training clip's domain when each has one (domain banks); undefined for section or pooled banks. */
  trainDomains: Domain[] | undefined;
  /** Every training clip's section, for section banks (no domains, DN on); undefined otherwise. */
  trainSections: string[] | undefined;
  test: Float32Array;
  testClips: readonly ClipLabels[];
  dim: number;
  dn: DnMode;
  mixup: { K_s: number; lambda: number } | null;
  K_n: number;
  index: IndexChoice;
}

/** Of a test clip, what its cell's metrics read. */
export type ClipLabels = Pick<Clip, 'label' | 'domain'>;

/**
 * Which banks a dataset supports: DCASE 2023-style domain banks when every training clip has a domain; otherwise
 * section banks (DCASE 2020 machine IDs) with DN, or one pooled bank without DN (the paper's label-free kNN).
 */
export function scoreCell(input: CellInput): Promise<CellResult> {
  return computeCell(checkCell(input));
}

/**
 * A cell's config checks — K_s against its source bank, K_n against its smallest bank, reported where the config sets
 * them — and the task that computes it. Runs where `locate` lives (the main thread), before the cell is dispatched.
 */
export function checkCell(input: CellInput): CellTask {
  const domains = input.trainClips.map((c) => c.domain);
  const hasDomains = domains.every((d): d is Domain => d !== undefined);
  const domainCounts = {
    source: domains.filter((d) => d === 'source').length,
    target: domains.filter((d) => d === 'target').length,
  };
  if (hasDomains && input.mixup && input.mixup.K_s > 0) {
    const sources = domainCounts.source;
    if (input.mixup.K_s > sources) {
      throw new GenrepError(
        `${input.locate('/mixup/K_s')}: /mixup/K_s: K_s = ${input.mixup.K_s} is larger than the source bank of ${input.machineType} (${sources} clips); use at most ${sources}`,
        'BAD_INPUT',
        { field: '/mixup/K_s', expected: `<= ${sources}` },
      );
    }
  }
  const bankRows = hasDomains
    ? Math.min(...[domainCounts.source, domainCounts.target].filter((n) => n > 0))
    : input.trainClips.length;
  if (input.K_n > bankRows) {
    throw new GenrepError(
      `${input.locate('/K_n')}: /K_n: K_n = ${input.K_n} is larger than the smallest memory bank of ${input.machineType} (${bankRows} clips)`,
      'BAD_INPUT',
      { field: '/K_n', expected: `<= ${bankRows}` },
    );
  }
  const trainDomains = hasDomains ? domains : undefined;
  const sectioned = !trainDomains && input.dn !== 'none';
  return {
    machineType: input.machineType,
    layer: input.layer,
    train: input.train,
    trainDomains,
    trainSections: sectioned ? input.trainClips.map((c) => c.section) : undefined,
    test: input.test,
    testClips: input.testClips,
    dim: input.dim,
    dn: input.dn,
    mixup: input.mixup,
    K_n: input.K_n,
    index: input.index,
  };
}

/** A checked cell's banks, scores, metrics and threshold; the same in the main thread and in a scoring thread. */
export async function computeCell(task: CellTask): Promise<CellResult> {
  const name = `${task.machineType} layer ${task.layer}`;
  const { trainDomains, trainSections } = task;
  const banks = buildBanks({
    train: task.train,
    dim: task.dim,
    ...(trainDomains ? { trainDomains } : {}),
    ...(trainSections ? { trainSections } : {}),
    kn: task.K_n,
    mixup: trainDomains && task.mixup && task.mixup.K_s > 0 ? { K_s: task.mixup.K_s, lambda: task.mixup.lambda } : null,
    index: task.index,
    names: { train: `${name} training features`, trainLabels: `${name} training domains` },
  });
  // The decision threshold comes from the training clips' leave-one-out scores, which need every bank to keep at
  // least K_n rows without the clip (a low-shot sample may hold a single target clip); without it no clip is flagged.
  const threshold = banks.groups.every((g) => g.rows.length === 0 || g.rows.length > task.K_n);
  const scored = await scoreMachine({
    banks,
    test: task.test,
    testDim: task.dim,
    dnMode: task.dn,
    threshold,
    names: { test: `${name} test features`, bank: name },
  });
  return {
    metrics: metricsOf(task.testClips, scored.score),
    score: scored.score,
    d_source: scored.d_source ?? null,
    d_target: scored.d_target ?? null,
    threshold: scored.threshold ?? Number.POSITIVE_INFINITY,
  };
}

/** DCASE metrics when every test clip is labelled (both classes present); null for a scoring-only run. */
export function metricsOf(testClips: readonly ClipLabels[], score: ArrayLike<number>): Metrics | null {
  if (testClips.some((c) => c.label === undefined)) return null;
  const labels = testClips.map((c) => (c.label === 'anomaly' ? 1 : 0));
  const domains = testClips.map((c) => c.domain);
  const m: DcaseMetrics = dcaseMetrics({
    scores: score,
    labels,
    ...(domains.every((d): d is Domain => d !== undefined) ? { domains } : {}),
  });
  return toMetrics(m);
}

export function toMetrics(m: DcaseMetrics): Metrics {
  return {
    auc: m.auc,
    pauc: m.pauc,
    auc_source: m.auc_source ?? null,
    auc_target: m.auc_target ?? null,
    official: m.official ?? null,
  };
}

/** ROC curves for the plots: all clips, and each domain's normals against all anomalies (as the metrics define them). */
export function rocSet(
  testClips: readonly Clip[],
  score: ArrayLike<number>,
): { all: RocPoints; source: RocPoints | null; target: RocPoints | null } {
  const labels = testClips.map((c) => (c.label === 'anomaly' ? 1 : 0));
  // idx holds indices of test clips; labels and score have one entry per test clip.
  const curve = (keep: (c: Clip) => boolean): RocPoints | null => {
    const idx = testClips.map((c, i) => (keep(c) ? i : -1)).filter((i) => i >= 0);
    const l = idx.map((i) => labels[i]!);
    if (!l.includes(0) || !l.includes(1)) return null;
    const r = rocCurve(
      idx.map((i) => score[i]!),
      l,
    );
    return { fpr: Array.from(r.fpr), tpr: Array.from(r.tpr) };
  };
  const hasDomains = testClips.every((c) => c.domain !== undefined);
  return {
    all: curve(() => true) ?? { fpr: [0, 1], tpr: [0, 1] },
    source: hasDomains ? curve((c) => c.label === 'anomaly' || c.domain === 'source') : null,
    target: hasDomains ? curve((c) => c.label === 'anomaly' || c.domain === 'target') : null,
  };
}

export function fileScores(testClips: readonly Clip[], cell: CellResult): FileScore[] {
  const decisions = decide(cell.score, cell.threshold);
  // score, d_source and d_target hold one value per test clip, so i < testClips.length indexes each of them.
  return testClips.map((c, i) => ({
    name: c.name,
    path: c.path,
    section: c.section,
    domain: c.domain ?? null,
    label: c.label ?? null,
    score: cell.score[i]!,
    d_source: cell.d_source ? cell.d_source[i]! : null,
    d_target: cell.d_target ? cell.d_target[i]! : null,
    decision: decisions[i] === 1 ? 1 : 0,
  }));
}
