import { describe, expect, it } from 'vitest';
import { dcaseMetrics } from '../../worker/src/metrics';
import { buildBanks, scoreMachine } from '../../worker/src/scoring';
import { loadGoldenScoring, maxRelativeError } from './goldenHelpers';

// Reference: NumPy float64 distances and sklearn metrics (test/fixtures/README.md, golden-scoring).
const golden = loadGoldenScoring();
const DIST_TOL = 1e-5;
const METRIC_TOL = 1e-9;

describe('golden scoring through the library API', () => {
  it('covers every reference case', () => {
    expect(golden.cases.map((c) => c.name).sort()).toEqual([
      'Ks0_Kn1',
      'Ks0_Kn3',
      'Ks100_Kn1',
      'Ks100_Kn3',
      'Ks990_Kn1',
      'Ks990_Kn3',
    ]);
  });

  for (const c of golden.cases) {
    it(`${c.name}: distances, DN and no-DN scores, metrics`, async () => {
      const banks = buildBanks({
        train: golden.train,
        dim: golden.dim,
        trainDomains: golden.trainDomains,
        kn: c.kn,
        mixup: c.ks > 0 ? { K_s: c.ks, lambda: c.lambda } : null,
        index: 'exact',
      });
      expect(banks.bankSize(1)).toBe(c.targetBankRows);
      const dn = await scoreMachine({ banks, test: golden.test, dnMode: 'transductive' });
      const nodn = await scoreMachine({ banks, test: golden.test, dnMode: 'none' });
      expect(dn.dnMode).toBe('transductive');
      expect(nodn.dnMode).toBe('none');
      expect(maxRelativeError(dn.d_source!, golden.set.f32(`${c.name}/d_source`).data)).toBeLessThan(DIST_TOL);
      expect(maxRelativeError(dn.d_target!, golden.set.f32(`${c.name}/d_target`).data)).toBeLessThan(DIST_TOL);
      expect(maxRelativeError(dn.score, golden.set.f32(`${c.name}/score_dn`).data)).toBeLessThan(DIST_TOL);
      expect(maxRelativeError(nodn.score, golden.set.f32(`${c.name}/score_nodn`).data)).toBeLessThan(DIST_TOL);

      for (const [result, expected] of [
        [dn, c.metricsDn],
        [nodn, c.metricsNodn],
      ] as const) {
        const m = dcaseMetrics({ scores: result.score, labels: golden.testLabels, domains: golden.testDomains });
        for (const key of ['auc', 'pauc', 'auc_source', 'auc_target', 'official'] as const) {
          expect(Math.abs(m[key]! - expected[key]!), `${c.name} ${result.dnMode} ${key}`).toBeLessThan(METRIC_TOL);
        }
      }
    });
  }
});
