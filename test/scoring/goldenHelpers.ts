import { GoldenSet, shape2 } from '../helpers/golden';
import type { Domain } from '../../worker/src/protocol/vocabulary';
import { buildBanks } from '../../worker/src/scoring';

/** The golden-scoring fixture (reference NumPy float64 distances, sklearn metrics) and its case parameters. */
export interface GoldenCase {
  name: string;
  ks: number;
  kn: number;
  lambda: number;
  targetBankRows: number;
  metricsDn: Record<string, number>;
  metricsNodn: Record<string, number>;
}

export interface GoldenScoring {
  set: GoldenSet;
  dim: number;
  train: Float32Array;
  test: Float32Array;
  trainDomains: Domain[];
  testDomains: Domain[];
  testLabels: number[];
  cases: GoldenCase[];
}

export function loadGoldenScoring(): GoldenScoring {
  const set = new GoldenSet('golden-scoring');
  const train = set.f32('train');
  const test = set.f32('test');
  const [rows, dim] = shape2(train);
  // Fixture layout: rows 0..989 source, 990..999 target (manifest.layout).
  const trainDomains: Domain[] = Array.from({ length: rows }, (_, i) => (i < 990 ? 'source' : 'target'));
  const testDomains: Domain[] = Array.from(set.i32('test_domain').data, (d) => (d === 0 ? 'source' : 'target'));
  const testLabels = Array.from(set.i32('test_label').data);
  const manifestCases = set.manifest['cases'] as Record<
    string,
    {
      K_s: number | null;
      K_n: number;
      lambda: number;
      target_bank_rows: number;
      metrics_dn: Record<string, number>;
      metrics_nodn: Record<string, number>;
    }
  >;
  const cases = Object.entries(manifestCases).map(([name, c]) => ({
    name,
    ks: c.K_s ?? 0,
    kn: c.K_n,
    lambda: c.lambda,
    targetBankRows: c.target_bank_rows,
    metricsDn: c.metrics_dn,
    metricsNodn: c.metrics_nodn,
  }));
  return { set, dim, train: train.data, test: test.data, trainDomains, testDomains, testLabels, cases };
}

/** The exact-search banks of a golden case: the fixture's training rows and domains with the case's K_n and MemMixup. */
export function goldenCaseBanks(golden: GoldenScoring, c: GoldenCase): ReturnType<typeof buildBanks> {
  return buildBanks({
    train: golden.train,
    dim: golden.dim,
    trainDomains: golden.trainDomains,
    kn: c.kn,
    mixup: { K_s: c.ks, lambda: c.lambda },
    index: 'exact',
  });
}

/** Largest |a − b| / |b| over the arrays. */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i]! - expected[i]!) / Math.abs(expected[i]!);
    if (!(e <= worst)) worst = e;
  }
  return worst;
}
