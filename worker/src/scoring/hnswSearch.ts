import { HierarchicalNSW } from 'hnswlib-node';
import { GenrepError } from '../errors';
import { at } from '../util/at';
import type { MemoryBanks } from './banks';
import type { ExactKnnOptions, KnnResult } from './exactSearch';
import { exactKnn } from './exactSearch';
import { hnswProblem } from './validate';

/**
 * Approximate kNN with HNSW (hnswlib-node) for large banks. MemMixup rows are materialised here (HNSW indexes
 * vectors). The neighbours HNSW returns are re-scored exactly in float64, so each returned distance is exact and only
 * the neighbour set can differ from exact search — measured as recall@K_n by `measureHnswRecall`.
 */

interface HnswIndices {
  /** One index per bank (null for an empty bank). */
  indices: (HierarchicalNSW | null)[];
}

function indicesOf(banks: MemoryBanks): HnswIndices {
  const cached = banks.cache.hnsw as HnswIndices | undefined;
  if (cached) return cached;
  const o = banks.hnswOptions;
  // Bank files and buildBanks check these already; this guard stays because hnswlib-node kills the process on a
  // bad value (M = 0 is a SIGSEGV) instead of throwing, and a MemoryBanks can also be made directly.
  const problem = hnswProblem(o);
  if (problem) {
    const message = `HNSW ${problem.field} ${problem.problem} (${banks.origin})`;
    throw new GenrepError(message, 'BAD_INPUT', { field: `hnsw.${problem.field}` });
  }
  const vec = new Float64Array(banks.dim);
  const indices = banks.groups.map((_group, g) => {
    const size = banks.bankSize(g);
    if (size === 0) return null;
    const index = new HierarchicalNSW('l2', banks.dim);
    index.initIndex({ maxElements: size, m: o.m, efConstruction: o.efConstruction, randomSeed: o.randomSeed });
    for (let id = 0; id < size; id++) {
      banks.rowVector(g, id, vec);
      index.addPoint(Array.from(vec), id);
    }
    return index;
  });
  const built = { indices };
  banks.cache.hnsw = built;
  return built;
}

/** Builds the HNSW indices now (otherwise the first search does). */
export function buildHnsw(banks: MemoryBanks): void {
  indicesOf(banks);
}

/** Bank-local ids a leave-one-out query on training row `self` must not see in group g. */
function excludedIds(banks: MemoryBanks, g: number, self: number): Set<number> {
  const out = new Set<number>();
  const members = banks.group(g).rows;
  members.forEach((row, r) => {
    if (row === self) out.add(r);
  });
  const table = g === banks.mixupGroup ? banks.mixup : null;
  if (table) {
    const ks = table.K_s;
    table.targets.forEach((target, i) => {
      for (let j = 0; j < ks; j++) {
        if (target === self || table.sources[i * ks + j] === self) out.add(members.length + i * ks + j);
      }
    });
  }
  return out;
}

function search(
  banks: MemoryBanks,
  queries: Float32Array,
  nq: number,
  options: ExactKnnOptions,
  leaveOneOut: boolean,
): KnnResult {
  const { indices } = indicesOf(banks);
  const kn = options.kn;
  const dim = banks.dim;
  const distances = banks.groups.map(() => new Float64Array(nq));
  const ids = options.withIds ? banks.groups.map(() => new Int32Array(nq * kn)) : undefined;
  const row = new Float64Array(dim);
  const found = new Float64Array(kn);
  const order: number[] = [];
  for (let g = 0; g < indices.length; g++) {
    const index = indices[g];
    if (!index) continue;
    const bankDistances = at(distances, g, 'HNSW distances');
    const bankIds = ids && at(ids, g, 'HNSW neighbour ids');
    for (let q = 0; q < nq; q++) {
      const y = queries.subarray(q * dim, (q + 1) * dim);
      const skip = leaveOneOut ? excludedIds(banks, g, q) : null;
      index.setEf(Math.max(banks.hnswOptions.efSearch, kn + (skip?.size ?? 0)));
      const res =
        skip && skip.size > 0
          ? index.searchKnn(Array.from(y), kn, (label) => !skip.has(label))
          : index.searchKnn(Array.from(y), kn);
      if (res.neighbors.length < kn) {
        throw new GenrepError(
          `the ${banks.group(g).name} bank returned ${res.neighbors.length} neighbours, fewer than K_n = ${kn}`,
          'BAD_INPUT',
          {
            field: 'kn',
          },
        );
      }
      order.length = 0;
      // In bounds: k < kn ≤ res.neighbors.length (checked above) = found.length; c < dim = y.length = row.length.
      for (let k = 0; k < kn; k++) {
        banks.rowVector(g, res.neighbors[k]!, row);
        let d2 = 0;
        for (let c = 0; c < dim; c++) {
          const diff = y[c]! - row[c]!;
          d2 += diff * diff;
        }
        found[k] = Math.sqrt(d2);
        order.push(k);
      }
      order.sort((a, b) => found[a]! - found[b]!);
      let sum = 0;
      for (const k of order) sum += found[k]!;
      bankDistances[q] = sum / kn;
      if (bankIds) for (let k = 0; k < kn; k++) bankIds[q * kn + k] = res.neighbors[order[k]!]!;
    }
  }
  return ids ? { distances, ids } : { distances };
}

export function hnswKnn(banks: MemoryBanks, queries: Float32Array, nq: number, options: ExactKnnOptions): KnnResult {
  return search(banks, queries, nq, options, false);
}

export function hnswKnnLeaveOneOut(banks: MemoryBanks, options: ExactKnnOptions): KnnResult {
  return search(banks, banks.features, banks.rows, options, true);
}

export interface RecallReport {
  kn: number;
  efSearch: number;
  /** |HNSW ∩ exact| / (queries · K_n) over all banks. */
  recall: number;
  perBank: Record<string, number>;
}

/** recall@K_n of HNSW against exact search for the given queries. */
export async function measureHnswRecall(
  banks: MemoryBanks,
  queries: Float32Array,
  nq: number,
  kn = banks.kn,
): Promise<RecallReport> {
  await banks.prepare();
  const approx = hnswKnn(banks, queries, nq, { kn, withIds: true });
  const exact = await exactKnn(banks, queries, nq, { kn, withIds: true });
  let hits = 0;
  let total = 0;
  const perBank: Record<string, number> = {};
  banks.groups.forEach((group, g) => {
    if (banks.bankSize(g) === 0) return;
    const a = at(approx.ids ?? [], g, 'HNSW neighbour ids');
    const e = at(exact.ids ?? [], g, 'exact neighbour ids');
    let h = 0;
    for (let q = 0; q < nq; q++) {
      const truth = new Set(e.subarray(q * kn, (q + 1) * kn));
      for (const id of a.subarray(q * kn, (q + 1) * kn)) if (truth.has(id)) h++;
    }
    perBank[group.name] = h / (nq * kn);
    hits += h;
    total += nq * kn;
  });
  return { kn, efSearch: banks.hnswOptions.efSearch, recall: hits / total, perBank };
}
