import { fileError, GenrepError } from '../errors';
import { squaredNorms } from './gram';
import { gramBackend } from './gramBackend';
import { buildMixupTable, buildMixupTableWith, MixupTable } from './mixup';
import type {
  BankKind,
  BankMeta,
  Domain,
  DnStats,
  HnswOptions,
  IndexChoice,
  IndexKind,
  InputNames,
  MixupOptions,
} from './types';
import {
  checkMatrixShape,
  checkPositiveInteger,
  finiteSquaredNorms,
  hnswProblem,
  MAX_AUGMENTED_ROWS,
} from './validate';

/**
 * Above this many training rows `index: 'auto'` switches from exact search to HNSW. Exact search costs
 * rows × dim multiply-adds per query: on ONNX Runtime's float64 GEMM (~3·10¹⁰ per second per core) 200 test clips
 * against 100k rows of 6144 dims take several seconds per layer, and on the JavaScript fallback (~2·10⁹ per second)
 * about a minute, while an HNSW query takes milliseconds once built. Below it exact search is fast enough and loses
 * no neighbours.
 */
export const HNSW_AUTO_MIN_ROWS = 100_000;

export const DEFAULT_HNSW: HnswOptions = { m: 16, efConstruction: 200, efSearch: 200, randomSeed: 100 };

export interface BankGroup {
  name: string;
  /** Feature rows of this bank's original members, in row order. */
  rows: Int32Array;
}

/** Values built once per bank set and reused by every scoring call. */
export interface BankCaches {
  norms?: Float64Array;
  /** Inductive DN statistics per K_n: mean/std of the training clips' leave-one-out distances, per bank. */
  inductive: Map<number, InductiveStats>;
  /** HNSW indices, built lazily (see hnswSearch.ts). */
  hnsw?: unknown;
}

export interface InductiveStats {
  kn: number;
  /** Per bank (same order as `groups`): statistics and the per-training-clip leave-one-out distances. */
  stats: DnStats[];
  looDistances: Float64Array[];
}

/**
 * The memory banks of one machine type at one layer: the training rows, how they split into banks, and the
 * MemMixup table that augments the target bank.
 */
export class MemoryBanks {
  readonly cache: BankCaches = { inductive: new Map() };

  constructor(
    readonly kind: BankKind,
    readonly features: Float32Array,
    readonly dim: number,
    readonly groups: BankGroup[],
    /** Group index of each training row. */
    readonly rowGroup: Int32Array,
    readonly kn: number,
    readonly mixupOptions: MixupOptions | null,
    readonly index: IndexKind,
    readonly hnswOptions: HnswOptions,
    readonly meta: BankMeta,
    /** The file or input the rows came from, for error messages. */
    readonly origin: string,
  ) {}

  get rows(): number {
    return this.rowGroup.length;
  }

  get norms(): Float64Array {
    return (this.cache.norms ??= squaredNorms(this.features, this.rows, this.dim));
  }

  private mixupTable: MixupTable | null | undefined;

  /** Index of the group MemMixup augments (the target bank), or -1. */
  get mixupGroup(): number {
    return this.mixupOptions ? this.groups.findIndex((g) => g.name === 'target') : -1;
  }

  /**
   * The MemMixup table (null without MemMixup). Scoring calls `prepare()` first, which builds it on the Gram backend;
   * read before that (e.g. HNSW on an unprepared bank), it is built here with the JavaScript kernel.
   */
  get mixup(): MixupTable | null {
    if (this.mixupTable === undefined) {
      const sides = this.mixupSides();
      this.mixupTable =
        sides &&
        buildMixupTable(this.features, this.norms, this.dim, sides.target, sides.source, sides.ks, sides.lambda);
    }
    return this.mixupTable;
  }

  /** Builds what scoring reuses and needs a Gram product for (the MemMixup table) on the Gram backend. */
  async prepare(): Promise<void> {
    if (this.mixupTable !== undefined) return;
    const sides = this.mixupSides();
    const table =
      sides &&
      (await buildMixupTableWith(
        await gramBackend(),
        this.features,
        this.norms,
        this.dim,
        sides.target,
        sides.source,
        sides.ks,
        sides.lambda,
      ));
    this.mixupTable ??= table; // a concurrent caller may have finished first; both tables are equal
  }

  private mixupSides(): { target: Int32Array; source: Int32Array; ks: number; lambda: number } | null {
    const o = this.mixupOptions;
    if (!o) return null;
    const source = this.groups.find((g) => g.name === 'source');
    const target = this.groups.find((g) => g.name === 'target');
    if (!source || !target) throw new GenrepError('MemMixup needs a source and a target bank', 'INTERNAL');
    return { target: target.rows, source: source.rows, ks: o.ks, lambda: o.lambda };
  }

  /** Rows of group g including MemMixup rows. */
  bankSize(g: number): number {
    const aug = g === this.mixupGroup && this.mixupOptions ? this.groups[g].rows.length * this.mixupOptions.ks : 0;
    return this.groups[g].rows.length + aug;
  }

  /**
   * Bank-local row `id` of group g as a vector (float64): an original member, or with MemMixup the augmented row
   * λ·t_i + (1 − λ)·s_(i,j) — built only for HNSW, which indexes vectors, and for its exact re-ranking.
   */
  rowVector(g: number, id: number, out: Float64Array): void {
    const dim = this.dim;
    const members = this.groups[g].rows;
    const F = this.features;
    if (id < members.length) {
      const base = members[id] * dim;
      for (let k = 0; k < dim; k++) out[k] = F[base + k];
      return;
    }
    const table = g === this.mixupGroup ? this.mixup : null;
    if (!table) throw new GenrepError(`bank row ${id} is out of range for the ${this.groups[g].name} bank`, 'INTERNAL');
    const a = id - members.length;
    const t = table.targets[Math.floor(a / table.ks)] * dim;
    const s = table.sources[a] * dim;
    const lambda = table.lambda;
    const mu = 1 - lambda;
    for (let k = 0; k < dim; k++) out[k] = lambda * F[t + k] + mu * F[s + k];
  }

  /** Counts per bank name, plus the augmented rows — the `counts` of the bank file header. */
  counts(): Record<string, number> {
    const out: Record<string, number> = { rows: this.rows };
    for (const g of this.groups) out[g.name] = g.rows.length;
    out.augmented =
      this.mixupGroup >= 0 ? this.bankSize(this.mixupGroup) - this.groups[this.mixupGroup].rows.length : 0;
    return out;
  }
}

export interface BuildBanksOptions {
  /** Training features, row-major rows × dim (float32, as BEATs produces them). */
  train: Float32Array;
  dim: number;
  /** DCASE 2023: the domain of each training row → a source bank and a target bank. */
  trainDomains?: readonly Domain[];
  /** DCASE 2020 section-label normalisation: the section / machine ID of each row → one bank per section. */
  trainSections?: readonly string[];
  /** K_n, the number of nearest neighbours whose distances are averaged (default 1). */
  kn?: number;
  /** MemMixup of the target bank (domain banks only); null or K_s = 0 for none. */
  mixup?: MixupOptions | null;
  index?: IndexChoice;
  hnsw?: Partial<HnswOptions>;
  meta?: BankMeta;
  names?: InputNames;
}

/**
 * Splits training features into banks. With neither `trainDomains` nor `trainSections` all rows form one pooled bank
 * (the DCASE 2020 label-free variant). The banks keep a reference to `train` (no copy): do not modify it afterwards.
 */
export function buildBanks(options: BuildBanksOptions): MemoryBanks {
  const trainName = options.names?.train ?? 'training features';
  const labelsName = options.names?.trainLabels ?? 'training labels';
  const rows = checkMatrixShape(options.train, options.dim, trainName);
  if (rows === 0)
    throw fileError(trainName, 'no training rows; a memory bank needs at least one', 'BAD_INPUT', { field: 'rows' });
  const norms = finiteSquaredNorms(options.train, rows, options.dim, trainName);
  const kn = options.kn ?? 1;
  checkPositiveInteger(kn, 'kn', 'K_n');

  if (options.trainDomains && options.trainSections) {
    throw new GenrepError('give either training domains or training sections, not both', 'BAD_INPUT', {
      field: 'trainSections',
    });
  }
  let kind: BankKind;
  let names: string[];
  let labels: readonly string[];
  if (options.trainDomains) {
    kind = 'domain';
    names = ['source', 'target'];
    labels = options.trainDomains;
  } else if (options.trainSections) {
    kind = 'section';
    labels = options.trainSections;
    names = [...new Set(labels)].sort();
  } else {
    kind = 'pooled';
    names = ['all'];
    labels = new Array<string>(rows).fill('all');
  }
  if (labels.length !== rows) {
    throw fileError(
      labelsName,
      `has ${labels.length} entries but ${trainName} has ${rows} rows; they must align row by row`,
      'BAD_INPUT',
      {
        field: 'rows',
        expected: `${rows} lines`,
      },
    );
  }
  const groupOf = new Map(names.map((n, i) => [n, i] as const));
  const rowGroup = new Int32Array(rows);
  const members: number[][] = names.map(() => []);
  for (let r = 0; r < rows; r++) {
    const g = groupOf.get(labels[r]);
    if (g === undefined) {
      throw fileError(labelsName, `entry ${r + 1} is '${labels[r]}'; expected 'source' or 'target'`, 'BAD_INPUT', {
        field: `line ${r + 1}`,
      });
    }
    rowGroup[r] = g;
    members[g].push(r);
  }
  const groups: BankGroup[] = names.map((name, i) => ({ name, rows: Int32Array.from(members[i]) }));
  for (const g of groups) {
    if (g.rows.length > 0 && g.rows.length < kn) {
      throw fileError(trainName, `the ${g.name} bank has ${g.rows.length} rows, fewer than K_n = ${kn}`, 'BAD_INPUT', {
        field: 'kn',
        expected: `K_n ≤ ${g.rows.length}`,
      });
    }
  }

  let mixup = options.mixup && options.mixup.ks > 0 ? options.mixup : null;
  if (mixup) {
    if (kind !== 'domain')
      throw new GenrepError('MemMixup needs source/target domains for the training rows', 'BAD_INPUT', {
        field: 'mixup',
      });
    checkPositiveInteger(mixup.ks, 'mixup-ks', 'K_s');
    if (!(mixup.lambda >= 0 && mixup.lambda <= 1)) {
      throw new GenrepError(`MemMixup λ must lie in [0, 1], got ${mixup.lambda}`, 'BAD_INPUT', {
        field: 'mixup-lambda',
      });
    }
    const ns = groups[0].rows.length;
    const augmented = groups[1].rows.length * mixup.ks;
    if (augmented > MAX_AUGMENTED_ROWS) {
      const rows = `${groups[1].rows.length} × ${mixup.ks}`;
      const problem = `MemMixup would add ${rows} rows, more than the ${MAX_AUGMENTED_ROWS} supported`;
      throw new GenrepError(problem, 'BAD_INPUT', { field: 'mixup-ks' });
    }
    if (ns < mixup.ks) {
      throw fileError(
        trainName,
        `the source bank has ${ns} rows, fewer than K_s = ${mixup.ks} MemMixup neighbours`,
        'BAD_INPUT',
        {
          field: 'mixup-ks',
          expected: `K_s ≤ ${ns}`,
        },
      );
    }
    if (groups[1].rows.length === 0)
      mixup = null; // nothing to augment
    else mixup = { ks: mixup.ks, lambda: mixup.lambda };
  }

  const choice = options.index ?? 'auto';
  const index: IndexKind = choice === 'auto' ? (rows > HNSW_AUTO_MIN_ROWS ? 'hnsw' : 'exact') : choice;
  const hnsw: HnswOptions = { ...DEFAULT_HNSW, ...options.hnsw };
  const problem = hnswProblem(hnsw);
  if (problem) {
    throw new GenrepError(`HNSW ${problem.field} ${problem.problem}`, 'BAD_INPUT', { field: `hnsw.${problem.field}` });
  }
  const banks = new MemoryBanks(
    kind,
    options.train,
    options.dim,
    groups,
    rowGroup,
    kn,
    mixup,
    index,
    hnsw,
    { ...options.meta },
    trainName,
  );
  banks.cache.norms = norms;
  return banks;
}
