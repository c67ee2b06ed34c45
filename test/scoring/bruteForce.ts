import type { Domain } from '../../worker/src/protocol/vocabulary';
import { directDistance, meanSmallest } from './random';

/**
 * An independent, deliberately naive implementation of the scoring stage (docs/scoring.md, "Pipeline, per machine
 * type and per layer") for small inputs: augmented rows are materialised,
 * every distance is computed directly as sqrt(Σ(x − y)²), banks are plain lists.
 */
export interface NaiveBank {
  rows: Float64Array[];
  /** For leave-one-out: the training rows each bank row was made from. */
  madeFrom: number[][];
}

export function naiveBanks(
  train: Float32Array,
  dim: number,
  domains: readonly Domain[],
  ks: number,
  lambda: number,
): { source: NaiveBank; target: NaiveBank } {
  const row = (i: number) => Float64Array.from(train.subarray(i * dim, (i + 1) * dim));
  const sourceIdx = domains.flatMap((d, i) => (d === 'source' ? [i] : []));
  const targetIdx = domains.flatMap((d, i) => (d === 'target' ? [i] : []));
  const source: NaiveBank = { rows: sourceIdx.map(row), madeFrom: sourceIdx.map((i) => [i]) };
  const target: NaiveBank = { rows: targetIdx.map(row), madeFrom: targetIdx.map((i) => [i]) };
  for (const t of targetIdx) {
    const near = sourceIdx
      .map((s) => [directDistance(train, t * dim, train, s * dim, dim), s] as const)
      .sort((a, b) => a[0] - b[0] || a[1] - b[1])
      .slice(0, ks);
    for (const [, s] of near) {
      target.rows.push(
        Float64Array.from({ length: dim }, (_, k) => lambda * train[t * dim + k]! + (1 - lambda) * train[s * dim + k]!),
      );
      target.madeFrom.push([t, s]);
    }
  }
  return { source, target };
}

export function naiveSectionBanks(
  train: Float32Array,
  dim: number,
  sections: readonly string[],
): Map<string, NaiveBank> {
  const out = new Map<string, NaiveBank>();
  for (const name of [...new Set(sections)].sort()) {
    const idx = sections.flatMap((s, i) => (s === name ? [i] : []));
    out.set(name, {
      rows: idx.map((i) => Float64Array.from(train.subarray(i * dim, (i + 1) * dim))),
      madeFrom: idx.map((i) => [i]),
    });
  }
  return out;
}

/** Mean distance of `query` to its kn nearest bank rows, skipping rows made from training row `exclude`. */
export function naiveKnn(
  bank: NaiveBank,
  query: ArrayLike<number>,
  qOff: number,
  dim: number,
  kn: number,
  exclude = -1,
): number {
  const d: number[] = [];
  bank.rows.forEach((r, i) => {
    if (!bank.madeFrom[i]!.includes(exclude)) d.push(directDistance(query, qOff, r, 0, dim));
  });
  return meanSmallest(d, kn);
}

export function mean(values: number[], weights?: number[]): number {
  return weights
    ? values.reduce((s, v, i) => s + v * weights[i]!, 0)
    : values.reduce((s, v) => s + v, 0) / values.length;
}

export function popStd(values: number[], weights?: number[]): number {
  const m = mean(values, weights);
  return Math.sqrt(
    weights
      ? values.reduce((s, v, i) => s + weights[i]! * (v - m) ** 2, 0)
      : values.reduce((s, v) => s + (v - m) ** 2, 0) / values.length,
  );
}
