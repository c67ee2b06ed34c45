import { describe, expect, it } from 'vitest';
import { GenrepError } from '../../worker/src/errors';
import { partialRocAuc, rocAuc, rocCurve, trapezoidArea } from '../../worker/src/metrics';
import { GoldenSet } from '../helpers/golden';

const golden = new GoldenSet('golden-scoring');
const metricCases = golden.manifest['metric_cases'] as Record<
  string,
  { score: number[]; label: number[]; auc: number; pauc: number }
>;

/** Mann–Whitney U / (n₊ n₋) with ties ½ — an independent definition of the AUC. */
function mannWhitney(scores: number[], labels: number[]): number {
  let u = 0;
  let pos = 0;
  let neg = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] !== 1) continue;
    pos++;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j] !== 0) continue;
      u += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  for (const l of labels) if (l === 0) neg++;
  return u / (pos * neg);
}

describe('AUC and pAUC against sklearn (golden metric_cases)', () => {
  it('has the expected cases', () => {
    expect(Object.keys(metricCases).sort()).toEqual(['gauss300', 'inverted', 'perfect', 'ties']);
  });
  for (const [name, c] of Object.entries(metricCases)) {
    it(`${name}: roc_auc_score and roc_auc_score(max_fpr=0.1) within 1e-9`, () => {
      expect(Math.abs(rocAuc(c.score, c.label) - c.auc)).toBeLessThan(1e-9);
      expect(Math.abs(partialRocAuc(c.score, c.label, 0.1) - c.pauc)).toBeLessThan(1e-9);
      expect(Math.abs(rocAuc(c.score, c.label) - mannWhitney(c.score, c.label))).toBeLessThan(1e-12);
    });
  }
});

describe('ROC curve', () => {
  it('follows sklearn: (0,0) first with threshold +inf, one point per distinct score, collinear points dropped', () => {
    // scores 4,3,3,2,1 with labels 1,1,0,0,0 → thresholds 4 (tp1 fp0), 3 (tp2 fp1), 2 (tp2 fp2), 1 (tp2 fp3).
    const roc = rocCurve([4, 3, 3, 2, 1], [1, 1, 0, 0, 0]);
    expect(Array.from(roc.thresholds)).toEqual([Infinity, 4, 3, 1]); // threshold 2 lies on the segment 3 → 1
    expect(Array.from(roc.tpr)).toEqual([0, 0.5, 1, 1]);
    expect(Array.from(roc.fpr)).toEqual([0, 0, 1 / 3, 1]);
    const all = rocCurve([4, 3, 3, 2, 1], [1, 1, 0, 0, 0], { dropIntermediate: false });
    expect(Array.from(all.thresholds)).toEqual([Infinity, 4, 3, 2, 1]);
    expect(trapezoidArea(all.fpr, all.tpr)).toBeCloseTo(trapezoidArea(roc.fpr, roc.tpr), 15);
  });

  it('pAUC interpolates the curve at max_fpr and standardises (McClish)', () => {
    // 10 negatives, 1 positive ranked 2nd: fpr jumps 0 → 0.1 at tpr 0, then tpr 1 at fpr 0.1.
    const scores = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0];
    const labels = [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    // Area on [0, 0.1] is 0: pAUC = 0.5·(1 + (0 − 0.005)/(0.1 − 0.005)).
    expect(partialRocAuc(scores, labels, 0.1)).toBeCloseTo(0.5 * (1 - 0.005 / 0.095), 15);
    // max_fpr = 0.05 falls inside the first segment: tpr interpolated at 0 → area 0 as well.
    expect(partialRocAuc(scores, labels, 0.05)).toBeCloseTo(0.5 * (1 - 0.00125 / 0.04875), 15);
    expect(partialRocAuc(scores, labels, 1)).toBeCloseTo(rocAuc(scores, labels), 15);
  });

  it('refuses one-class label sets, bad labels and mismatched lengths', () => {
    expect(() => rocAuc([1, 2], [0, 0])).toThrow(GenrepError);
    expect(() => rocAuc([1, 2], [0, 2])).toThrow(/labels must be 0 \(normal\) or 1 \(anomaly\)/);
    expect(() => rocAuc([1, 2, 3], [0, 1])).toThrow(/3 scores but 2 labels/);
    expect(() => rocAuc([1, NaN], [0, 1])).toThrow(/must be finite/);
    expect(() => partialRocAuc([1, 2], [0, 1], 0)).toThrow(/max_fpr/);
  });
});
