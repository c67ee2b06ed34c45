import { describe, expect, it } from 'vitest';
import {
  dcaseMetrics,
  decide,
  decisionThreshold,
  harmonicMean,
  quantileLinear,
  rocAuc,
  summariseMachines,
} from '../../worker/src/metrics';
import { GoldenSet } from '../helpers/golden';

const golden = new GoldenSet('golden-scoring');

describe('DCASE metrics', () => {
  it('official score = harmonic mean of source AUC, target AUC, pAUC (golden example)', () => {
    const ex = golden.manifest['official_score_example'] as { values: number[]; hmean: number };
    expect(Math.abs(harmonicMean(ex.values) - ex.hmean)).toBeLessThan(1e-12);
  });

  it('floors values at float64 epsilon like the evaluator (a zero does not give a zero division)', () => {
    expect(harmonicMean([0, 1])).toBeCloseTo(2 / (1 / Number.EPSILON + 1), 30);
    expect(() => harmonicMean([])).toThrow(/no values/);
  });

  it('source AUC = source normals vs all anomalies; target AUC symmetric', () => {
    const scores = [0.1, 0.9, 0.4, 0.35, 0.8, 0.2, 0.6, 0.3];
    const labels = [0, 1, 0, 1, 1, 0, 0, 1];
    const domains = ['source', 'source', 'source', 'source', 'target', 'target', 'target', 'target'] as const;
    const m = dcaseMetrics({ scores, labels, domains: [...domains] });
    // source normals: 0.1, 0.4; anomalies (all): 0.9, 0.35, 0.8, 0.3
    expect(m.auc_source).toBeCloseTo(rocAuc([0.1, 0.4, 0.9, 0.35, 0.8, 0.3], [0, 0, 1, 1, 1, 1]), 15);
    expect(m.auc_source).toBeCloseTo(6 / 8, 15);
    // target normals: 0.2, 0.6
    expect(m.auc_target).toBeCloseTo(6 / 8, 15); // 0.2 below all four anomalies, 0.6 below two
    expect(m.official).toBeCloseTo(harmonicMean([m.auc_source!, m.auc_target!, m.pauc]), 15);
    expect(m.auc).toBeCloseTo(rocAuc(scores, labels), 15);
  });

  it('summaries over machine types: harmonic (DCASE 2023) and arithmetic (DCASE 2020)', () => {
    const machines = [
      { auc: 0.8, pauc: 0.6, auc_source: 0.9, auc_target: 0.7 },
      { auc: 0.6, pauc: 0.55, auc_source: 0.65, auc_target: 0.5 },
    ];
    const h = summariseMachines(machines, 'dcase2023');
    expect(h.auc).toBeCloseTo(2 / (1 / 0.8 + 1 / 0.6), 15);
    expect(h.official).toBeCloseTo(harmonicMean([0.9, 0.7, 0.6, 0.65, 0.5, 0.55]), 15);
    // Equal group sizes: hmean of all six = hmean of the per-machine official scores.
    expect(h.official).toBeCloseTo(harmonicMean([harmonicMean([0.9, 0.7, 0.6]), harmonicMean([0.65, 0.5, 0.55])]), 15);
    const a = summariseMachines(machines, 'dcase2020');
    expect(a.auc).toBeCloseTo(0.7, 15);
    expect(a.pauc).toBeCloseTo(0.575, 15);
  });
});

describe('decision threshold', () => {
  it("quantile with NumPy's linear interpolation", () => {
    expect(quantileLinear([1, 2, 3, 4], 0.9)).toBeCloseTo(3.7, 15); // (n−1)·q = 2.7
    expect(quantileLinear([5, 1, 3], 0.5)).toBe(3);
    expect(quantileLinear([2], 0.9)).toBe(2);
    expect(decisionThreshold(Array.from({ length: 11 }, (_, i) => i))).toBeCloseTo(9, 15);
    expect(() => quantileLinear([], 0.9)).toThrow(/empty/);
    expect(() => quantileLinear([1], 1.5)).toThrow(/\[0, 1\]/);
  });

  it('decides anomalous strictly above the threshold', () => {
    expect(Array.from(decide([0.5, 1, 1.5], 1))).toEqual([0, 0, 1]);
  });
});
