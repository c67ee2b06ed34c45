import { fileError, GenrepError } from '../errors';
import { at } from '../util/at';
import type { BankKind, Domain, DnStats, HnswOptions, IndexChoice, IndexKind, MemMixup } from '../protocol/vocabulary';
import { squaredNorms } from './gram';
import { gramBackend } from './gramBackend';
import { buildMixupTable, buildMixupTableAsync, type MixupSides, type MixupTable } from './mixup';
import type { BankMeta, InputNames } from './types';
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

/** The rows of each group in ascending order, from (rows,) `rowGroup` holding group indices < groupCount. */
export function groupRows(rowGroup: Int32Array, groupCount: number): Int32Array[] {
  const members: number[][] = Array.from({ length: groupCount }, () => []);
  rowGroup.forEach((g, r) => at(members, g, 'bank members').push(r));
  return members.map((rows) => Int32Array.from(rows));
}

/** The source and target banks of a domain bank (groups ['source', 'target'], checked where they are made). */
export function domainGroups(groups: readonly BankGroup[]): { source: BankGroup; target: BankGroup } {
  const [source, target] = groups;
  if (groups.length !== 2 || source?.name !== 'source' || target?.name !== 'target') {
    throw new GenrepError(
      `domain banks are [${groups.map((g) => g.name).join(', ')}], not [source, target]`,
      'INTERNAL',
    );
  }
  return { source, target };
}

/** Everything a MemoryBanks holds, checked by its maker (buildBanks, or a bank file's header checks). */
export interface MemoryBanksInit {
  kind: BankKind;
  /** Training rows, (rows, dim) row-major float32; kept by reference, not copied. */
  features: Float32Array;
  dim: number;
  /** The banks, in group order; each lists its members' rows. */
  groups: BankGroup[];
  /** (rows,) group index of each training row. */
  rowGroup: Int32Array;
  kn: number;
  /** MemMixup of the target bank, or null. */
  mixup: MemMixup | null;
  index: IndexKind;
  hnsw: HnswOptions;
  meta: BankMeta;
  /** The file or input the rows came from, for error messages. */
  origin: string;
}

/**
 * The memory banks of one machine type at one layer: the training rows, how they split into banks, and the
 * MemMixup table that augments the target bank.
 */
export class MemoryBanks {
  readonly cache: BankCaches = { inductive: new Map() };
  readonly kind: BankKind;
  /** Training rows, (rows, dim) row-major float32. */
  readonly features: Float32Array;
  readonly dim: number;
  readonly groups: BankGroup[];
  /** (rows,) group index of each training row. */
  readonly rowGroup: Int32Array;
  readonly kn: number;
  readonly mixupOptions: MemMixup | null;
  readonly index: IndexKind;
  readonly hnswOptions: HnswOptions;
  readonly meta: BankMeta;
  /** The file or input the rows came from, for error messages. */
  readonly origin: string;

  constructor(init: MemoryBanksInit) {
    this.kind = init.kind;
    this.features = init.features;
    this.dim = init.dim;
    this.groups = init.groups;
    this.rowGroup = init.rowGroup;
    this.kn = init.kn;
    this.mixupOptions = init.mixup;
    this.index = init.index;
    this.hnswOptions = init.hnsw;
    this.meta = init.meta;
    this.origin = init.origin;
  }

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
      this.mixupTable = sides && buildMixupTable(sides);
    }
    return this.mixupTable;
  }

  /** Builds what scoring reuses and needs a Gram product for (the MemMixup table) on the Gram backend. */
  async prepare(): Promise<void> {
    if (this.mixupTable !== undefined) return;
    const sides = this.mixupSides();
    const table = sides && (await buildMixupTableAsync(await gramBackend(), sides));
    this.mixupTable ??= table; // a concurrent caller may have finished first; both tables are equal
  }

  private mixupSides(): MixupSides | null {
    const mixup = this.mixupOptions;
    if (!mixup) return null;
    const source = this.groups.find((g) => g.name === 'source');
    const target = this.groups.find((g) => g.name === 'target');
    if (!source || !target) throw new GenrepError('MemMixup needs a source and a target bank', 'INTERNAL');
    return {
      features: this.features,
      norms: this.norms,
      dim: this.dim,
      targetRows: target.rows,
      sourceRows: source.rows,
      mixup,
    };
  }

  /** The group `g` names (throws INTERNAL for an index that is no group). */
  group(g: number): BankGroup {
    const group = this.groups[g];
    if (!group) throw new GenrepError(`bank group ${g} is out of range (${this.groups.length} groups)`, 'INTERNAL');
    return group;
  }

  /** Rows of group g including MemMixup rows. */
  bankSize(g: number): number {
    const members = this.group(g).rows.length;
    const aug = g === this.mixupGroup && this.mixupOptions ? members * this.mixupOptions.K_s : 0;
    return members + aug;
  }

  /**
   * Bank-local row `id` of group g as a vector (float64): an original member, or with MemMixup the augmented row
   * λ·t_i + (1 − λ)·s_(i,j) — built only for HNSW, which indexes vectors, and for its exact re-ranking.
   */
  rowVector(g: number, id: number, out: Float64Array): void {
    const dim = this.dim;
    const group = this.group(g);
    const members = group.rows;
    const F = this.features;
    // In bounds: k < dim, and a row index r < rows starts r·dim of the (rows, dim) features.
    if (id < members.length) {
      const base = members[id]! * dim;
      for (let k = 0; k < dim; k++) out[k] = F[base + k]!;
      return;
    }
    const table = g === this.mixupGroup ? this.mixup : null;
    const a = id - members.length;
    if (!table || a >= table.sources.length) {
      throw new GenrepError(`bank row ${id} is out of range for the ${group.name} bank`, 'INTERNAL');
    }
    // a < sources.length = targets.length · K_s (checked above).
    const t = table.targets[Math.floor(a / table.K_s)]! * dim;
    const s = table.sources[a]! * dim;
    const lambda = table.lambda;
    const mu = 1 - lambda;
    for (let k = 0; k < dim; k++) out[k] = lambda * F[t + k]! + mu * F[s + k]!;
  }

  /** Counts per bank name, plus the augmented rows — the `counts` of the bank file header. */
  counts(): Record<string, number> {
    const out: Record<string, number> = { rows: this.rows };
    for (const g of this.groups) out[g.name] = g.rows.length;
    const mixed = this.mixupGroup;
    out['augmented'] = mixed >= 0 ? this.bankSize(mixed) - this.group(mixed).rows.length : 0;
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
  mixup?: MemMixup | null;
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
  for (let r = 0; r < rows; r++) {
    const label = labels[r];
    const g = label === undefined ? undefined : groupOf.get(label);
    if (g === undefined) {
      throw fileError(labelsName, `entry ${r + 1} is '${label}'; expected 'source' or 'target'`, 'BAD_INPUT', {
        field: `line ${r + 1}`,
      });
    }
    rowGroup[r] = g;
  }
  const members = groupRows(rowGroup, names.length);
  const groups: BankGroup[] = names.map((name, g) => ({ name, rows: at(members, g, 'bank members') }));
  for (const g of groups) {
    if (g.rows.length > 0 && g.rows.length < kn) {
      throw fileError(trainName, `the ${g.name} bank has ${g.rows.length} rows, fewer than K_n = ${kn}`, 'BAD_INPUT', {
        field: 'kn',
        expected: `K_n ≤ ${g.rows.length}`,
      });
    }
  }

  const mixup = options.mixup && options.mixup.K_s > 0 ? checkMixup(options.mixup, kind, groups, trainName) : null;

  const choice = options.index ?? 'auto';
  const index: IndexKind = choice === 'auto' ? (rows > HNSW_AUTO_MIN_ROWS ? 'hnsw' : 'exact') : choice;
  const hnsw: HnswOptions = { ...DEFAULT_HNSW, ...options.hnsw };
  const problem = hnswProblem(hnsw);
  if (problem) {
    throw new GenrepError(`HNSW ${problem.field} ${problem.problem}`, 'BAD_INPUT', { field: `hnsw.${problem.field}` });
  }
  const banks = new MemoryBanks({
    kind,
    features: options.train,
    dim: options.dim,
    groups,
    rowGroup,
    kn,
    mixup,
    index,
    hnsw,
    meta: { ...options.meta },
    origin: trainName,
  });
  banks.cache.norms = norms;
  return banks;
}

/** MemMixup checked against the banks; null when there is no target row to augment. */
function checkMixup(mixup: MemMixup, kind: BankKind, groups: BankGroup[], trainName: string): MemMixup | null {
  if (kind !== 'domain') {
    throw new GenrepError('MemMixup needs source/target domains for the training rows', 'BAD_INPUT', {
      field: 'mixup',
    });
  }
  const { source, target } = domainGroups(groups);
  checkPositiveInteger(mixup.K_s, 'mixup-ks', 'K_s');
  if (!(mixup.lambda >= 0 && mixup.lambda <= 1)) {
    throw new GenrepError(`MemMixup λ must lie in [0, 1], got ${mixup.lambda}`, 'BAD_INPUT', {
      field: 'mixup-lambda',
    });
  }
  const ns = source.rows.length;
  const augmented = target.rows.length * mixup.K_s;
  if (augmented > MAX_AUGMENTED_ROWS) {
    const rows = `${target.rows.length} × ${mixup.K_s}`;
    const problem = `MemMixup would add ${rows} rows, more than the ${MAX_AUGMENTED_ROWS} supported`;
    throw new GenrepError(problem, 'BAD_INPUT', { field: 'mixup-ks' });
  }
  if (ns < mixup.K_s) {
    throw fileError(
      trainName,
      `the source bank has ${ns} rows, fewer than K_s = ${mixup.K_s} MemMixup neighbours`,
      'BAD_INPUT',
      {
        field: 'mixup-ks',
        expected: `K_s ≤ ${ns}`,
      },
    );
  }
  // Nothing to augment without target rows; a copy, so the caller's object is not shared with the bank.
  return target.rows.length === 0 ? null : { K_s: mixup.K_s, lambda: mixup.lambda };
}
