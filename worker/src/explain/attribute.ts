import { GenrepError } from '../errors';
import type { ExplainGrid, ExplainNeighbour } from '../protocol/explain';
import type { DnMode, DnStats } from '../protocol/vocabulary';
import { scoreMachine, type MemoryBanks } from '../scoring';
import type { FrameDecomposition } from './decompose';

/** What the attribution needs besides the decomposition: the banks, how the score is normalised, who to name. */
export interface AttributeOptions {
  banks: MemoryBanks;
  dn: DnMode;
  /** K_n; defaults to the bank's. */
  kn?: number;
  /** How many nearest rows of the winning bank to name (default K_n, at least 1). */
  neighbours?: number;
  /**
   * The features scoring sees: the clip's own row alone, or (transductive DN) the run's test set with the clip at
   * `row`, so that the statistics and the score are the ones the run reported.
   */
  scored: { features: Float32Array; row: number };
  /** Training row → clip name (path relative to the dataset root), when known. */
  rowNames?: readonly string[];
  /** Resolves a row name to a playable path (the dataset root joined), when the root is known. */
  rowPath?: (name: string) => string;
}

export interface Attribution {
  score: number;
  distance: number;
  bank: string;
  dnStats: DnStats | null;
  grid: ExplainGrid;
  perTime: number[];
  perBand: number[];
  neighbours: ExplainNeighbour[];
}

/**
 * Splits the clip's kNN distance to the bank that won the min over time × bands (docs/explain.md). Scoring itself
 * (scoreMachine) gives the score and the DN statistics, so both are what a run or scoreFiles reports; the distances
 * to every row of each bank are recomputed here exactly in float64 from the decomposition's pooled vector (HNSW
 * banks included), which the grid sums to.
 */
export async function attribute(d: FrameDecomposition, o: AttributeOptions): Promise<Attribution> {
  const { banks } = o;
  if (d.dim !== banks.dim) {
    throw new GenrepError(`the clip's features have ${d.dim} dimensions but the bank has ${banks.dim}`, 'BAD_INPUT', {
      field: 'dim',
      expected: String(banks.dim),
    });
  }
  const kn = o.kn ?? banks.kn;
  const scored = await scoreMachine({ banks, test: o.scored.features, dnMode: o.dn, kn });
  const score = scored.score[o.scored.row];
  if (score === undefined) throw new GenrepError(`clip row ${o.scored.row} is not among the scored rows`, 'INTERNAL');

  const v = d.pooled;
  const row = new Float64Array(banks.dim);
  let best: { g: number; name: string; z: number; distance: number; order: Int32Array; dist: Float64Array } | null =
    null;
  for (const [b, name] of scored.bankNames.entries()) {
    const g = banks.groups.findIndex((x) => x.name === name);
    const size = banks.bankSize(g);
    const dist = new Float64Array(size);
    for (let id = 0; id < size; id++) {
      banks.rowVector(g, id, row);
      let s = 0;
      // In bounds: k < dim = v.length = row.length.
      for (let k = 0; k < v.length; k++) s += (v[k]! - row[k]!) ** 2;
      dist[id] = Math.sqrt(s);
    }
    const order = Int32Array.from(dist.keys()).sort((a, c) => dist[a]! - dist[c]! || a - c);
    let mean = 0;
    for (let j = 0; j < kn; j++) mean += dist[order[j]!]! / kn;
    const stats = scored.stats?.[b];
    const z = stats ? (mean - stats.mean) / stats.std : mean;
    if (!best || z < best.z) best = { g, name, z, distance: mean, order, dist };
  }
  if (!best) throw new GenrepError('no bank to explain the score against', 'INTERNAL');
  const stats = scored.stats?.[scored.bankNames.indexOf(best.name)] ?? null;
  const scale = stats ? 1 / stats.std : 1;

  // The grid: the mean over the K_n nearest rows n of Σ_k (a_t[k] − n_k/T)·u_k, u = (v − n)/‖v − n‖, per band.
  const { times: T, bands: B, dim, own, bandOf } = d;
  const values = new Float64Array(T * B);
  for (let j = 0; j < kn; j++) {
    const id = best.order[j]!;
    const dn = best.dist[id]!;
    if (!(dn > 0)) continue; // the clip is this row: no distance to split
    banks.rowVector(best.g, id, row);
    const w = scale / (kn * dn);
    // In bounds: t < T, k < dim: own is (T, dim), bandOf / row / v are (dim,), bandOf < B so t·B + band < T·B.
    for (let t = 0; t < T; t++) {
      for (let k = 0; k < dim; k++) {
        const u = v[k]! - row[k]!;
        values[t * B + bandOf[k]!]! += w * (own[t * dim + k]! - row[k]! / T) * u;
      }
    }
  }
  let sum = 0;
  const perTime = new Array<number>(T).fill(0);
  const perBand = new Array<number>(B).fill(0);
  // In bounds: t < T, b < B index the (T, B) grid and its margins.
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const x = values[t * B + b]!;
      sum += x;
      perTime[t]! += x;
      perBand[b]! += x;
    }
  }
  const grid: ExplainGrid = {
    times: T,
    bands: B,
    values: Array.from(values),
    timeSeconds: d.timeSeconds,
    bandHz: d.bandHz,
    decomposition: d.decomposition,
    residual: best.distance * scale - sum,
  };
  const count = Math.min(best.order.length, Math.max(1, o.neighbours ?? kn));
  const neighbours = Array.from(best.order.subarray(0, count), (id) => neighbour(banks, best.g, id, best.dist[id]!, o));
  return { score, distance: best.distance, bank: best.name, dnStats: stats, grid, perTime, perBand, neighbours };
}

/** A bank-local row named: a training clip, or a MemMixup row as the mix of the two clips it blends. */
function neighbour(banks: MemoryBanks, g: number, id: number, distance: number, o: AttributeOptions): ExplainNeighbour {
  const group = banks.group(g);
  const nameOf = (r: number): string => o.rowNames?.[r] ?? `row ${r}`;
  const withPath = (name: string): { path?: string } =>
    o.rowNames && o.rowPath ? { path: o.rowPath(name) } : o.rowNames ? { path: name } : {};
  const base = { row: id, bank: group.name, distance };
  const members = group.rows;
  if (id < members.length) {
    const name = nameOf(members[id]!);
    return { ...base, name, ...withPath(name) };
  }
  const table = banks.mixup;
  const a = id - members.length;
  const t = table?.targets[Math.floor(a / table.K_s)];
  const s = table?.sources[a];
  if (!table || t === undefined || s === undefined) {
    throw new GenrepError(`bank row ${id} is out of range for the ${group.name} bank`, 'INTERNAL');
  }
  const target = nameOf(t);
  const source = nameOf(s);
  return {
    ...base,
    name: `mix(${target}, ${source}, λ=${table.lambda})`,
    mix: { target, source, lambda: table.lambda },
  };
}
