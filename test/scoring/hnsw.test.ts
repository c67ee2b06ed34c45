import { describe, expect, it } from 'vitest';
import type { Domain } from '../../worker/src/protocol/vocabulary';
import {
  buildBanks,
  buildHnsw,
  DEFAULT_HNSW,
  exactKnn,
  HNSW_AUTO_MIN_ROWS,
  measureHnswRecall,
  scoreMachine,
} from '../../worker/src/scoring';
import { gaussian } from './random';

describe('HNSW index', () => {
  it('recall@K_n ≥ 0.99 against exact search on a 20k-row bank (32 dims, default parameters)', async () => {
    const dim = 32;
    const n = 20_000;
    const nq = 300;
    const train = gaussian(n, dim, 51);
    const test = gaussian(nq, dim, 52);
    const banks = buildBanks({ train, dim, kn: 3, index: 'hnsw' });
    expect(banks.index).toBe('hnsw');
    expect(banks.hnswOptions.efSearch).toBe(DEFAULT_HNSW.efSearch);
    buildHnsw(banks);
    const report = await measureHnswRecall(banks, test, nq, 3);
    expect(report.recall).toBeGreaterThanOrEqual(0.99);
    const k1 = await measureHnswRecall(banks, test, nq, 1);
    expect(k1.recall).toBeGreaterThanOrEqual(0.99);
  });

  it('scores with MemMixup rows materialised, matching exact search where the neighbours agree', async () => {
    const dim = 6;
    const train = gaussian(300, dim, 53);
    const domains: Domain[] = Array.from({ length: 300 }, (_, i) => (i < 290 ? 'source' : 'target'));
    const test = gaussian(40, dim, 54, 0.2);
    const options = { train, dim, trainDomains: domains, kn: 2, mixup: { K_s: 50, lambda: 0.9 } } as const;
    const approx = buildBanks({ ...options, index: 'hnsw', hnsw: { efSearch: 400 } });
    const exact = buildBanks({ ...options, index: 'exact' });
    expect(approx.bankSize(1)).toBe(10 + 10 * 50);
    const rep = await measureHnswRecall(approx, test, 40);
    expect(rep.recall).toBeGreaterThanOrEqual(0.99);
    for (const dnMode of ['none', 'inductive'] as const) {
      const a = await scoreMachine({ banks: approx, test, dnMode });
      const e = await scoreMachine({ banks: exact, test, dnMode });
      expect(a.index).toBe('hnsw');
      for (let q = 0; q < 40; q++) expect(a.score[q]).toBeCloseTo(e.score[q]!, 5);
    }
    const ex = await exactKnn(exact, test, 40, { kn: 2 });
    expect(
      Array.from((await scoreMachine({ banks: approx, test, dnMode: 'none' })).d_source!).every(
        (d, q) => Math.abs(d - ex.distances[0]![q]!) < 1e-6,
      ),
    ).toBe(true);
  });

  it("index 'auto' stays exact below the documented size", () => {
    const banks = buildBanks({ train: gaussian(50, 3, 55), dim: 3 });
    expect(banks.index).toBe('exact');
    expect(HNSW_AUTO_MIN_ROWS).toBe(100_000);
  });
});
