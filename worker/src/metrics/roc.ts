import { GenrepError } from '../errors';

/**
 * ROC curve, AUC and partial AUC exactly as scikit-learn computes them (`roc_curve`, `roc_auc_score`,
 * `roc_auc_score(max_fpr=…)` in sklearn 1.5, which GenRep and the DCASE evaluator use; docs/scoring.md, "Metrics").
 * Label 1 = anomaly (positive); a higher score = more anomalous.
 */

export interface RocCurve {
  /** False-positive rates, starting at 0. */
  fpr: Float64Array;
  /** True-positive rates, starting at 0. */
  tpr: Float64Array;
  /** Score thresholds (decide anomalous when score ≥ threshold); the first is +Infinity, as in sklearn. */
  thresholds: Float64Array;
}

export interface RocOptions {
  /** Drop points on straight segments (sklearn's default; changes neither AUC nor pAUC). */
  dropIntermediate?: boolean;
  /** Names the metric in errors, e.g. "source AUC". */
  what?: string;
}

function checkInputs(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  what: string,
): { positives: number; negatives: number } {
  if (scores.length !== labels.length) {
    throw new GenrepError(`${what}: ${scores.length} scores but ${labels.length} labels`, 'BAD_INPUT', {
      field: 'labels',
    });
  }
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l !== 0 && l !== 1)
      throw new GenrepError(`${what}: label ${i} is ${l}; labels must be 0 (normal) or 1 (anomaly)`, 'BAD_INPUT', {
        field: `labels[${i}]`,
      });
    if (!Number.isFinite(scores[i]))
      throw new GenrepError(`${what}: score ${i} is ${scores[i]}; scores must be finite`, 'BAD_INPUT', {
        field: `scores[${i}]`,
      });
    positives += l;
  }
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) {
    throw new GenrepError(
      `${what} is undefined: the clips are all ${positives === 0 ? 'normal' : 'anomalous'} (${labels.length} clips); ROC AUC needs both normal and anomalous clips`,
      'BAD_INPUT',
      { field: 'labels', expected: 'both classes (0 and 1)' },
    );
  }
  return { positives, negatives };
}

/** sklearn `roc_curve(y_true, y_score, drop_intermediate=True)`. */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>, options: RocOptions = {}): RocCurve {
  const what = options.what ?? 'ROC';
  checkInputs(scores, labels, what);
  const n = scores.length;
  // In bounds: order is a permutation of 0..n−1 (n = scores.length = labels.length, checked), and order[i + 1] is
  // read only for i < n − 1.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  // _binary_clf_curve: one point per distinct score, cumulative true/false positives at or above it.
  const fpsList: number[] = [];
  const tpsList: number[] = [];
  const thrList: number[] = [];
  let tp = 0;
  for (let i = 0; i < n; i++) {
    const score = scores[order[i]!]!;
    tp += labels[order[i]!]!;
    if (i === n - 1 || scores[order[i + 1]!] !== score) {
      tpsList.push(tp);
      fpsList.push(i + 1 - tp);
      thrList.push(score);
    }
  }
  // In bounds: the three lists have one entry per point, keep holds point indices, and the neighbours i ± 1 are
  // read only for inner points.
  let keep = fpsList.map((_, i) => i);
  if ((options.dropIntermediate ?? true) && fpsList.length > 2) {
    keep = keep.filter((i) => {
      if (i === 0 || i === fpsList.length - 1) return true;
      const d2f = fpsList[i + 1]! - 2 * fpsList[i]! + fpsList[i - 1]!;
      const d2t = tpsList[i + 1]! - 2 * tpsList[i]! + tpsList[i - 1]!;
      return d2f !== 0 || d2t !== 0;
    });
  }
  const m = keep.length + 1;
  const fpr = new Float64Array(m);
  const tpr = new Float64Array(m);
  const thresholds = new Float64Array(m);
  thresholds[0] = Infinity;
  const fpsLast = fpsList.at(-1);
  const tpsLast = tpsList.at(-1);
  if (fpsLast === undefined || tpsLast === undefined) throw new GenrepError(`${what}: no ROC points`, 'INTERNAL');
  keep.forEach((i, p) => {
    fpr[p + 1] = fpsList[i]! / fpsLast;
    tpr[p + 1] = tpsList[i]! / tpsLast;
    thresholds[p + 1] = thrList[i]!;
  });
  return { fpr, tpr, thresholds };
}

/** sklearn `auc(x, y)`: trapezoidal area for monotonic x, with y as long as x. */
export function trapezoidArea(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let area = 0;
  // In bounds: 1 ≤ i < x.length = y.length.
  for (let i = 1; i < x.length; i++) area += ((x[i]! - x[i - 1]!) * (y[i]! + y[i - 1]!)) / 2;
  return area;
}

/** sklearn `roc_auc_score(y_true, y_score)` — equals the Mann–Whitney U / (n₊·n₋) with ties counted ½. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>, what = 'AUC'): number {
  const roc = rocCurve(scores, labels, { what });
  return trapezoidArea(roc.fpr, roc.tpr);
}

/**
 * sklearn `roc_auc_score(y_true, y_score, max_fpr)`: the ROC area over fpr ∈ [0, max_fpr] (the curve interpolated
 * linearly at max_fpr), McClish-standardised to 0.5·(1 + (A − max_fpr²/2)/(max_fpr − max_fpr²/2)), so a random
 * ranking scores 0.5 and a perfect one 1.
 */
export function partialRocAuc(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  maxFpr = 0.1,
  what = 'pAUC',
): number {
  if (!(maxFpr > 0 && maxFpr <= 1)) {
    throw new GenrepError(`${what}: max_fpr must be in (0, 1], got ${maxFpr}`, 'BAD_INPUT', { field: 'max_fpr' });
  }
  const { fpr, tpr } = rocCurve(scores, labels, { what });
  if (maxFpr === 1) return trapezoidArea(fpr, tpr);
  // np.searchsorted(fpr, max_fpr, 'right'): the first point beyond max_fpr.
  let stop = 0;
  while (stop < fpr.length && fpr[stop]! <= maxFpr) stop++;
  // In bounds: fpr starts at 0 ≤ maxFpr and ends at 1 > maxFpr (both classes are present), so 1 ≤ stop < length.
  const x0 = fpr[stop - 1]!;
  const x1 = fpr[stop]!;
  const y0 = tpr[stop - 1]!;
  const y1 = tpr[stop]!;
  const yAt = ((y1 - y0) / (x1 - x0)) * (maxFpr - x0) + y0; // np.interp
  const x = Array.from(fpr.subarray(0, stop));
  const y = Array.from(tpr.subarray(0, stop));
  x.push(maxFpr);
  y.push(yAt);
  const partial = trapezoidArea(x, y);
  const minArea = 0.5 * maxFpr ** 2;
  const maxArea = maxFpr;
  return 0.5 * (1 + (partial - minArea) / (maxArea - minArea));
}
