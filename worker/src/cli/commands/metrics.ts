import type { Command } from 'commander';
import { fileError, GenrepError } from '../../errors';
import { writeJsonResult } from '../jsonOutput';
import { dcaseMetrics, DEFAULT_MAX_FPR, rocCurve } from '../../metrics';
import { readDomainsFile, readLabelsFile, readScoresFile } from '../../scoring/inputFiles';

interface MetricsOptions {
  scores: string;
  labels: string;
  domains?: string;
  maxFpr: string;
  roc?: boolean;
  out?: string;
}

/** What `genrep metrics` writes. */
export interface MetricsJson {
  auc: number;
  pauc: number;
  auc_source: number | null;
  auc_target: number | null;
  official: number | null;
  max_fpr: number;
  /** With --roc; the first threshold (sklearn's +inf) is null, which JSON can carry. */
  roc?: { fpr: number[]; tpr: number[]; thresholds: (number | null)[] };
}

export async function runMetrics(opts: MetricsOptions): Promise<MetricsJson> {
  const maxFpr = Number(opts.maxFpr);
  if (!(maxFpr > 0 && maxFpr <= 1))
    throw new GenrepError(`--max-fpr: expected a number in (0, 1], got '${opts.maxFpr}'`, 'BAD_INPUT', {
      field: 'max-fpr',
    });
  // Labels first: a .npy of scores is then checked against their count from its header, before its data is read.
  const labels = await readLabelsFile(opts.labels);
  const alignLabels = (count: number): void => {
    if (labels.length !== count) {
      const have = `has ${labels.length} labels but ${opts.scores} has ${count} scores`;
      throw fileError(opts.labels, `${have}; they must align line by line`, 'BAD_INPUT', {
        field: 'rows',
        expected: `${count} lines`,
      });
    }
  };
  const scores = await readScoresFile(opts.scores, { count: alignLabels });
  alignLabels(scores.length);
  const domainsFile = opts.domains;
  const domains = domainsFile !== undefined ? await readDomainsFile(domainsFile) : undefined;
  if (domainsFile !== undefined && domains && domains.length !== scores.length) {
    throw fileError(
      domainsFile,
      `has ${domains.length} domains but ${opts.scores} has ${scores.length} scores; they must align line by line`,
      'BAD_INPUT',
      {
        field: 'rows',
        expected: `${scores.length} lines`,
      },
    );
  }
  let m;
  try {
    m = dcaseMetrics({ scores, labels, domains, maxFpr });
  } catch (err) {
    // Say which file makes the metric undefined (e.g. a labels file with one class only).
    if (err instanceof GenrepError && err.data.field === 'labels')
      throw fileError(opts.labels, err.message, err.code, { field: 'labels', expected: err.data.expected });
    throw err;
  }
  const out: MetricsJson = {
    auc: m.auc,
    pauc: m.pauc,
    auc_source: m.auc_source ?? null,
    auc_target: m.auc_target ?? null,
    official: m.official ?? null,
    max_fpr: maxFpr,
  };
  if (opts.roc) {
    const roc = rocCurve(scores, labels);
    // JSON has no Infinity: the first threshold (sklearn's +inf, "nothing flagged") is written as null.
    out.roc = {
      fpr: Array.from(roc.fpr),
      tpr: Array.from(roc.tpr),
      thresholds: Array.from(roc.thresholds, (t) => (Number.isFinite(t) ? t : null)),
    };
  }
  await writeJsonResult(out, opts.out);
  return out;
}

/** `genrep metrics`: DCASE AUC, pAUC, source/target AUC and the official score for any list of scores. */
export function registerMetricsCommand(program: Command): void {
  program
    .command('metrics')
    .description('DCASE metrics of anomaly scores: AUC, pAUC (sklearn max_fpr), source/target AUC, official score')
    .requiredOption('--scores <file>', "scores: score-features' JSON (its 'score' array), a JSON array, or a 1-D .npy")
    .requiredOption('--labels <L.txt>', 'one 0 (normal) or 1 (anomaly) per line, aligned with the scores')
    .option('--domains <T.txt>', "one 'source' or 'target' per line; enables auc_source, auc_target and official")
    .option('--max-fpr <x>', 'pAUC false-positive-rate limit', String(DEFAULT_MAX_FPR))
    .option('--roc', 'include the ROC curve points (fpr, tpr, thresholds) for plots')
    .option('--out <metrics.json>', 'write the JSON here (default: stdout)')
    .action(async (opts: MetricsOptions) => {
      await runMetrics(opts);
    });
}
