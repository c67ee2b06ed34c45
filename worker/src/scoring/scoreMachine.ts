import { fileError, GenrepError } from '../errors';
import { decisionThreshold, DEFAULT_THRESHOLD_QUANTILE } from '../metrics/threshold';
import { at } from '../util/at';
import {
  DN_MODES,
  type BankKind,
  type DnMode,
  type DnStats,
  type IndexKind,
  type MemMixup,
} from '../protocol/vocabulary';
import type { InductiveStats, MemoryBanks } from './banks';
import { exactKnn, exactKnnLeaveOneOut, type KnnResult } from './exactSearch';
import { hnswKnn, hnswKnnLeaveOneOut } from './hnswSearch';
import { checkSpread, groupBalancedWeights, minOver, populationStats, zScores } from './normalise';
import type { InputNames } from './types';
import { checkMatrixShape, checkPositiveInteger, finiteSquaredNorms } from './validate';

export interface ScoreMachineOptions {
  banks: MemoryBanks;
  /** Test features, row-major (rows × banks.dim). */
  test: Float32Array;
  /** The test features' dimension as the caller read it (checked against the bank's). */
  testDim?: number;
  dnMode: DnMode;
  /** K_n; defaults to the bank's. */
  kn?: number;
  names?: InputNames;
  /**
   * Also score every training clip leave-one-out under the same DN mode and statistics and derive the decision
   * threshold from them (docs/scoring.md, "Decision threshold"); costs a training × training Gram matrix.
   */
  threshold?: boolean | { quantile?: number };
}

export interface MachineScores {
  /** Named in every result, so no score is read without knowing how it was normalised. */
  dnMode: DnMode;
  kind: BankKind;
  kn: number;
  index: IndexKind;
  mixup: MemMixup | null;
  /** The non-empty banks, in the order of `distances` and `stats`. */
  bankNames: string[];
  /** Per bank: each test clip's mean distance to its K_n nearest rows. */
  distances: Float64Array[];
  d_source?: Float64Array;
  d_target?: Float64Array;
  /** DN mean / population std per bank; null without DN. */
  stats: DnStats[] | null;
  /** Where `stats` come from: the scored test clips (transductive) or the training clips' leave-one-out distances. */
  statsFrom: 'test' | 'train-leave-one-out' | null;
  /** The anomaly score: min over banks of the z-scores (DN) or of the raw distances (no DN). Higher = more anomalous. */
  score: Float64Array;
  /** With `threshold`: leave-one-out scores of the training clips (training row order), the quantile and threshold. */
  trainScores?: Float64Array;
  thresholdQuantile?: number;
  threshold?: number;
}

/**
 * Scores test clips of one machine type at one layer against its memory banks (docs/scoring.md, "Pipeline, per
 * machine type and per layer"): per-bank kNN distances, then domain normalisation per `dnMode`.
 */
export async function scoreMachine(options: ScoreMachineOptions): Promise<MachineScores> {
  const { banks, dnMode } = options;
  if (!DN_MODES.includes(dnMode)) {
    throw new GenrepError(`unknown DN mode '${String(dnMode)}'`, 'BAD_INPUT', {
      field: 'dn',
      expected: DN_MODES.join(', '),
    });
  }
  const testName = options.names?.test ?? 'test features';
  const bankName = options.names?.bank ?? banks.origin;
  if (options.testDim !== undefined && options.testDim !== banks.dim) {
    throw fileError(
      testName,
      `features have ${options.testDim} dimensions but the bank (${bankName}) has ${banks.dim}`,
      'BAD_INPUT',
      {
        field: 'dim',
        expected: `${banks.dim}`,
      },
    );
  }
  const nq = checkMatrixShape(options.test, banks.dim, testName);
  if (nq === 0) throw fileError(testName, 'no test rows to score', 'BAD_INPUT', { field: 'rows' });
  const testNorms = finiteSquaredNorms(options.test, nq, banks.dim, testName);
  const kn = options.kn ?? banks.kn;
  checkKn(banks, kn, bankName);

  const active = banks.groups.map((_, g) => g).filter((g) => banks.bankSize(g) > 0);
  if (dnMode !== 'none') checkDnBanks(banks, active, bankName);

  await banks.prepare();
  const knn: KnnResult =
    banks.index === 'hnsw'
      ? hnswKnn(banks, options.test, nq, { kn })
      : await exactKnn(banks, options.test, nq, { kn, queryNorms: testNorms });
  const distances = active.map((g) => at(knn.distances, g, 'kNN distances'));
  const bankNames = active.map((g) => banks.group(g).name);

  let stats: DnStats[] | null = null;
  let statsFrom: MachineScores['statsFrom'] = null;
  if (dnMode === 'transductive') {
    stats = distances.map((d, a) => {
      const s = populationStats(d);
      checkSpread(s, at(bankNames, a, 'bank names'), 'the test clips');
      return s;
    });
    statsFrom = 'test';
  } else if (dnMode === 'inductive') {
    const ind = await inductiveStats(banks, kn);
    stats = active.map((g) => at(ind.stats, g, 'inductive statistics'));
    statsFrom = 'train-leave-one-out';
  }
  const score = combine(distances, stats, { bankNames, bankName, clip: 'test clip' });

  const result: MachineScores = {
    dnMode,
    kind: banks.kind,
    kn,
    index: banks.index,
    mixup: banks.mixupGroup >= 0 ? banks.mixupOptions : null,
    bankNames,
    distances,
    stats,
    statsFrom,
    score,
  };
  if (banks.kind === 'domain') {
    result.bankNames.forEach((name, a) => {
      if (name === 'source') result.d_source = distances[a];
      if (name === 'target') result.d_target = distances[a];
    });
  }
  if (options.threshold) {
    const quantile =
      (typeof options.threshold === 'object' ? options.threshold.quantile : undefined) ?? DEFAULT_THRESHOLD_QUANTILE;
    const loo = await leaveOneOutDistances(banks, kn);
    const trainDistances = active.map((g) => at(loo, g, 'leave-one-out distances'));
    result.trainScores = combine(trainDistances, stats, { bankNames, bankName, clip: 'training clip' });
    result.thresholdQuantile = quantile;
    result.threshold = decisionThreshold(result.trainScores, quantile);
  }
  return result;
}

/**
 * min over banks of the z-scores (or of the raw distances without DN). Distances are finite (the features were
 * checked), so a non-finite z-score can only come from statistics out of all proportion to them — a std so small
 * that (d − μ)/σ overflows; JSON would print it as null, and the min would quietly ignore that bank. Refused.
 */
function combine(
  distances: Float64Array[],
  stats: DnStats[] | null,
  names: { bankNames: string[]; bankName: string; clip: string },
): Float64Array {
  if (!stats) return minOver(distances);
  return minOver(
    distances.map((d, a) => {
      const { mean, std } = at(stats, a, 'DN statistics');
      const z = zScores(d, { mean, std });
      const i = z.findIndex((v) => !Number.isFinite(v));
      if (i >= 0) {
        const problem =
          `domain normalisation gives a non-finite z-score for ${names.clip} ${i}: the ${names.bankNames[a]} bank's ` +
          `statistics (mean ${mean}, std ${std}) are out of all proportion to its distances`;
        throw fileError(names.bankName, problem, 'BAD_INPUT', { field: 'dn' });
      }
      return z;
    }),
  );
}

function checkKn(banks: MemoryBanks, kn: number, bankName: string): void {
  checkPositiveInteger(kn, 'kn', 'K_n');
  banks.groups.forEach((group, g) => {
    const size = banks.bankSize(g);
    if (size > 0 && size < kn) {
      throw fileError(bankName, `the ${group.name} bank has ${size} rows, fewer than K_n = ${kn}`, 'BAD_INPUT', {
        field: 'kn',
        expected: `K_n ≤ ${size}`,
      });
    }
  });
}

function checkDnBanks(banks: MemoryBanks, active: number[], bankName: string): void {
  for (let g = 0; g < banks.groups.length; g++) {
    if (!active.includes(g)) {
      throw fileError(
        bankName,
        `the ${banks.group(g).name} bank is empty; domain normalisation needs distances to both banks (use DN 'none' to score against the ${banks.groups
          .filter((_, i) => i !== g)
          .map((x) => x.name)
          .join(', ')} bank alone)`,
        'BAD_INPUT',
        { field: 'dn' },
      );
    }
  }
}

/** Leave-one-out distances of every training clip to every bank (cached per K_n with the inductive statistics). */
export async function leaveOneOutDistances(banks: MemoryBanks, kn: number): Promise<Float64Array[]> {
  const cached = banks.cache.inductive.get(kn);
  return (cached && cached.looDistances.length > 0 ? cached : await computeLeaveOneOut(banks, kn)).looDistances;
}

/**
 * Inductive DN statistics: per bank, the mean and population std of the training clips' leave-one-out distances
 * to it, each group (domain / section) of training clips weighted equally (docs/scoring.md, "Inductive DN").
 * A bank loaded from a file brings them along, without the per-clip distances.
 */
export async function inductiveStats(banks: MemoryBanks, kn = banks.kn): Promise<InductiveStats> {
  const ind = banks.cache.inductive.get(kn) ?? (await computeLeaveOneOut(banks, kn));
  banks.groups.forEach((group, g) => {
    if (banks.bankSize(g) > 0) {
      checkSpread(at(ind.stats, g, 'inductive statistics'), group.name, "the training clips' leave-one-out distances");
    }
  });
  return ind;
}

async function computeLeaveOneOut(banks: MemoryBanks, kn: number): Promise<InductiveStats> {
  await banks.prepare();
  const loo = banks.index === 'hnsw' ? hnswKnnLeaveOneOut(banks, { kn }) : await exactKnnLeaveOneOut(banks, { kn });
  const weights = groupBalancedWeights(banks.rowGroup, banks.groups.length);
  const stats = banks.groups.map((_, g) =>
    banks.bankSize(g) > 0
      ? populationStats(at(loo.distances, g, 'leave-one-out distances'), weights)
      : { mean: NaN, std: NaN },
  );
  const result: InductiveStats = { kn, stats, looDistances: loo.distances };
  banks.cache.inductive.set(kn, result);
  return result;
}
