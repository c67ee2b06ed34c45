import { GenrepError } from '../errors';
import type { Domain, SummaryStyle } from '../protocol/vocabulary';
import { partialRocAuc, rocAuc } from './roc';

/**
 * DCASE Task 2 metrics per machine type / section (docs/scoring.md, "Metrics"; the DCASE 2023 Task 2 evaluator) and
 * their summaries over machine types.
 * - auc: all clips; pauc: all clips, max_fpr 0.1, McClish-standardised (sklearn);
 * - auc_source: source-domain normals vs ALL anomalies (both domains); auc_target: target normals vs all anomalies;
 * - official: harmonic mean of auc_source, auc_target and pauc (each floored at float64 epsilon).
 */

export const DEFAULT_MAX_FPR = 0.1;

export interface DcaseMetricsInput {
  scores: ArrayLike<number>;
  /** 1 = anomaly, 0 = normal. */
  labels: ArrayLike<number>;
  /** Domain of each test clip; without it only auc and pauc are computed. */
  domains?: readonly Domain[];
  maxFpr?: number;
}

export interface DcaseMetrics {
  auc: number;
  pauc: number;
  auc_source?: number;
  auc_target?: number;
  official?: number;
}

/** scipy.stats.hmean of values floored at float64 epsilon, as the DCASE evaluator computes the official score. */
export function harmonicMean(values: ArrayLike<number>, floor = Number.EPSILON): number {
  if (values.length === 0) throw new GenrepError('harmonic mean of no values', 'BAD_INPUT', { field: 'values' });
  let s = 0;
  // In bounds: i < values.length.
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= 0))
      throw new GenrepError(`harmonic mean needs non-negative values, got ${v}`, 'BAD_INPUT', {
        field: `values[${i}]`,
      });
    s += 1 / Math.max(v, floor);
  }
  return values.length / s;
}

export function arithmeticMean(values: ArrayLike<number>): number {
  if (values.length === 0) throw new GenrepError('mean of no values', 'BAD_INPUT', { field: 'values' });
  let s = 0;
  // In bounds: i < values.length.
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return s / values.length;
}

/** values[i] where keep[i], for keep as long as values. */
function subset<T>(values: ArrayLike<T>, keep: boolean[]): T[] {
  return Array.from(values).filter((_, i) => keep[i]);
}

export function dcaseMetrics(input: DcaseMetricsInput): DcaseMetrics {
  const { scores, labels, domains } = input;
  const maxFpr = input.maxFpr ?? DEFAULT_MAX_FPR;
  const auc = rocAuc(scores, labels, 'AUC');
  const pauc = partialRocAuc(scores, labels, maxFpr, 'pAUC');
  if (!domains) return { auc, pauc };
  if (domains.length !== scores.length) {
    throw new GenrepError(`${domains.length} domains for ${scores.length} scores`, 'BAD_INPUT', { field: 'domains' });
  }
  const perDomain = (domain: Domain): number => {
    const keep = Array.from({ length: scores.length }, (_, i) => labels[i] === 1 || domains[i] === domain);
    return rocAuc(subset(scores, keep), subset(labels, keep), `${domain} AUC (${domain} normals vs all anomalies)`);
  };
  const auc_source = perDomain('source');
  const auc_target = perDomain('target');
  return { auc, pauc, auc_source, auc_target, official: harmonicMean([auc_source, auc_target, pauc]) };
}

function hasDomainAucs(m: DcaseMetrics): m is DcaseMetrics & { auc_source: number; auc_target: number } {
  return m.auc_source !== undefined && m.auc_target !== undefined;
}

/**
 * Summary over machine types. `dcase2023`: harmonic means over machine types of each metric, and the official score
 * = harmonic mean of all {auc_source, auc_target, pauc} values (equal to the harmonic mean of the per-machine official
 * scores). `dcase2020`: arithmetic means (the paper's Table 4).
 */
export function summariseMachines(machines: readonly DcaseMetrics[], style: SummaryStyle): DcaseMetrics {
  if (machines.length === 0) throw new GenrepError('no machine types to summarise', 'BAD_INPUT', { field: 'machines' });
  const mean = style === 'dcase2023' ? harmonicMean : arithmeticMean;
  const out: DcaseMetrics = { auc: mean(machines.map((m) => m.auc)), pauc: mean(machines.map((m) => m.pauc)) };
  const withDomains = machines.filter(hasDomainAucs);
  if (withDomains.length === machines.length) {
    out.auc_source = mean(withDomains.map((m) => m.auc_source));
    out.auc_target = mean(withDomains.map((m) => m.auc_target));
    out.official =
      style === 'dcase2023'
        ? harmonicMean(withDomains.flatMap((m) => [m.auc_source, m.auc_target, m.pauc]))
        : arithmeticMean(withDomains.map((m) => harmonicMean([m.auc_source, m.auc_target, m.pauc])));
  }
  return out;
}
