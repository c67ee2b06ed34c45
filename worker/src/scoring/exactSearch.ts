import { GenrepError } from '../errors';
import { at } from '../util/at';
import type { MemoryBanks } from './banks';
import { squaredNorms } from './gram';
import { type GramBackend, gramBackend } from './gramBackend';
import { returnBlock, takeBlock } from './scratch';
import { SmallestK } from './topk';

/**
 * Exact kNN distances of query rows to every bank: d = sqrt(max(0, ‖y‖² + ‖x‖² − 2·y·x)), the score against a bank
 * the mean of the K_n smallest d (docs/scoring.md, "Exact search"). Queries are processed in blocks whose Gram rows
 * against all training rows fit in GRAM_BLOCK_VALUES doubles; MemMixup rows are scored from the same Gram row (see
 * mixup.ts). The products run on the Gram backend (gramBackend.ts: ONNX Runtime, or the JavaScript kernel as a
 * fallback).
 *
 * Neighbour ids are bank-local: original members 0..n−1 in row order, then augmented rows n + i·K_s + j.
 */

const GRAM_BLOCK_VALUES = 8 * 1024 * 1024; // 64 MiB of float64
/**
 * Leave-one-out queries use one training × training Gram matrix up to this many rows (the JavaScript kernel computes
 * only its upper half), query blocks beyond.
 */
const SYMMETRIC_MAX_ROWS = 4096;

export interface KnnResult {
  /** Per bank: the score of each query (mean of its K_n nearest distances). */
  distances: Float64Array[];
  /** Per bank, when asked for: nq × K_n bank-local neighbour ids, nearest first. */
  ids?: Int32Array[];
}

export interface ExactKnnOptions {
  kn: number;
  /** Collect neighbour ids too (recall measurements). */
  withIds?: boolean;
  /** ‖query‖², when the caller has them already (scoreMachine computes them while checking the features). */
  queryNorms?: Float64Array;
}

/** G = the Gram rows of rows aStart..aStart+aRows of A against every training row: (aRows, banks.rows), packed. */
function gramAgainstBank(
  backend: GramBackend,
  A: Float32Array,
  aStart: number,
  aRows: number,
  banks: MemoryBanks,
  G: Float64Array,
): Promise<void> {
  const n = banks.rows;
  return backend.gramInto({
    A,
    aStart,
    aRows,
    B: banks.features,
    bStart: 0,
    bRows: n,
    dim: banks.dim,
    out: G,
    outOffset: 0,
    outStride: n,
  });
}

/** Distances of external query rows (e.g. test clips) to each bank. */
export async function exactKnn(
  banks: MemoryBanks,
  queries: Float32Array,
  nq: number,
  options: ExactKnnOptions,
): Promise<KnnResult> {
  const dim = banks.dim;
  const n = banks.rows;
  const backend = await gramBackend();
  await banks.prepare();
  const result = allocate(banks, nq, options);
  const block = Math.max(4, Math.min(nq, Math.floor(GRAM_BLOCK_VALUES / Math.max(1, n))));
  const G = takeBlock(block * n);
  try {
    for (let q0 = 0; q0 < nq; q0 += block) {
      const m = Math.min(block, nq - q0);
      const Q = queries.subarray(q0 * dim, (q0 + m) * dim);
      await gramAgainstBank(backend, Q, 0, m, banks, G);
      const qNorms = options.queryNorms ? options.queryNorms.subarray(q0, q0 + m) : squaredNorms(Q, m, dim);
      knnFromGram(banks, G, n, qNorms, m, q0, null, options, result);
    }
  } finally {
    returnBlock(G);
  }
  return result;
}

/**
 * Leave-one-out distances of every training row to each bank: row c does not see itself nor, with MemMixup, any
 * augmented row mixed from it (as target t_i or as source s_j) — the distances it would have as an unseen clip.
 */
export async function exactKnnLeaveOneOut(banks: MemoryBanks, options: ExactKnnOptions): Promise<KnnResult> {
  const dim = banks.dim;
  const n = banks.rows;
  const F = banks.features;
  const backend = await gramBackend();
  await banks.prepare();
  const norms = banks.norms;
  const result = allocate(banks, n, options);
  const whole = n <= SYMMETRIC_MAX_ROWS;
  const block = whole ? n : Math.max(4, Math.min(n, Math.floor(GRAM_BLOCK_VALUES / n)));
  const G = takeBlock(block * n);
  try {
    if (whole) {
      await backend.gramSymmetricInto(F, n, dim, G);
      knnFromGram(banks, G, n, norms, n, 0, 0, options, result);
    } else {
      for (let q0 = 0; q0 < n; q0 += block) {
        const m = Math.min(block, n - q0);
        await gramAgainstBank(backend, F, q0, m, banks, G);
        knnFromGram(banks, G, n, norms.subarray(q0, q0 + m), m, q0, q0, options, result);
      }
    }
  } finally {
    returnBlock(G);
  }
  return result;
}

function allocate(banks: MemoryBanks, nq: number, options: ExactKnnOptions): KnnResult {
  const distances = banks.groups.map(() => new Float64Array(nq));
  return options.withIds ? { distances, ids: banks.groups.map(() => new Int32Array(nq * options.kn)) } : { distances };
}

/**
 * Scores queries q0..q0+m−1 from their Gram rows G[0..m) (against all n training rows). `selfRow0`: when the queries
 * are training rows (leave-one-out), the training row of the first query; null for external queries.
 */
function knnFromGram(
  banks: MemoryBanks,
  G: Float64Array,
  n: number,
  qNorms: Float64Array,
  m: number,
  q0: number,
  selfRow0: number | null,
  options: ExactKnnOptions,
  result: KnnResult,
): void {
  const kn = options.kn;
  const norms = banks.norms;
  const buf = new SmallestK(kn);
  const mixGroup = banks.mixupGroup;
  const table = mixGroup >= 0 ? banks.mixup : null;
  for (let g = 0; g < banks.groups.length; g++) {
    const group = banks.group(g);
    const rows = group.rows;
    const nOrig = rows.length;
    if (nOrig === 0) continue;
    const out = at(result.distances, g, 'kNN distances');
    const ids = result.ids?.[g];
    const aug = g === mixGroup ? table : null;
    // In bounds: q < m rows of G (each n long) and of qNorms; bank rows and MemMixup sources are training rows < n,
    // which index norms and a Gram row; i < targets.length and j < K_s index the (targets, K_s) MemMixup arrays.
    for (let q = 0; q < m; q++) {
      const self = selfRow0 === null ? -1 : selfRow0 + q;
      const yn = qNorms[q]!;
      const gRow = q * n;
      buf.reset();
      // The admission bound changes only on a push, so it lives in a local rather than a getter call per row.
      let bound = Infinity;
      for (let r = 0; r < nOrig; r++) {
        const row = rows[r]!;
        if (row === self) continue;
        let d2 = yn + norms[row]! - 2 * G[gRow + row]!;
        if (d2 < 0) d2 = 0;
        if (d2 < bound) {
          buf.push(d2, r);
          bound = buf.bound;
        }
      }
      if (aug) {
        const lambda = aug.lambda;
        const mu = 1 - lambda;
        const ks = aug.K_s;
        const nt = aug.targets.length;
        for (let i = 0; i < nt; i++) {
          const t = aug.targets[i]!;
          if (t === self) continue;
          const yt = lambda * G[gRow + t]!;
          const base = i * ks;
          const sources = aug.sources;
          const augNorms = aug.augNorms;
          for (let j = 0; j < ks; j++) {
            const s = sources[base + j]!;
            if (s === self) continue;
            let d2 = yn + augNorms[base + j]! - 2 * (yt + mu * G[gRow + s]!);
            if (d2 < 0) d2 = 0;
            if (d2 < bound) {
              buf.push(d2, nOrig + base + j);
              bound = buf.bound;
            }
          }
        }
      }
      if (buf.count < kn) {
        throw new GenrepError(
          `the ${group.name} bank leaves ${buf.count} rows for leave-one-out training clip ${self}, fewer than K_n = ${kn}`,
          'BAD_INPUT',
          { field: 'kn', expected: `K_n ≤ ${buf.count}` },
        );
      }
      let sum = 0;
      // k < kn = buf.count here: the buffer is full.
      for (let k = 0; k < kn; k++) sum += Math.sqrt(buf.values[k]!);
      out[q0 + q] = sum / kn;
      if (ids) ids.set(buf.ids, (q0 + q) * kn);
    }
  }
}
