import type { Command } from 'commander';
import { fileError, GenrepError } from '../../errors';
import { writeJsonResult } from '../jsonOutput';
import { decide } from '../../metrics';
import { DN_MODES, PAPER_DEFAULTS, type DnMode, type DnStats, type IndexChoice } from '../../protocol/vocabulary';
import { buildBanks, checkSavable, loadBank, saveBank, scoreMachine } from '../../scoring';
import type { MachineScores, MemoryBanks } from '../../scoring';
import { readDomainsFile, readFeatureMatrix, readSectionsFile } from '../../scoring/inputFiles';
import { HNSW_BOUNDS } from '../../scoring/validate';

interface ScoreFeaturesOptions {
  train?: string;
  trainDomains?: string;
  trainSections?: string;
  bank?: string;
  test: string;
  kn?: string;
  mixupKs: string;
  mixupLambda: string;
  dn: string;
  index: string;
  hnswEf?: string;
  thresholdQuantile?: string;
  saveBank?: string;
  embedder?: string;
  layer?: string;
  pooling?: string;
  out?: string;
}

/**
 * The `field` of a flag's error: for the paper's symbols, the run config's JSON pointer (`/K_n`, `/mixup/K_s`,
 * `/mixup/lambda`), so K_s is one field whether a config or `--mixup-ks` set it; for other flags, the flag's name.
 */
const FIELD = { kn: '/K_n', mixupKs: '/mixup/K_s', mixupLambda: '/mixup/lambda' } as const;

function parseNumber(text: string, option: string, integer: boolean, field = option.replace(/^--/, '')): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new GenrepError(`${option}: expected ${integer ? 'an integer' : 'a number'}, got '${text}'`, 'BAD_INPUT', {
      field,
    });
  }
  return v;
}

function parseHnswEf(text: string): number {
  const ef = parseNumber(text, '--hnsw-ef', true);
  const [lo, hi] = HNSW_BOUNDS.efSearch;
  if (ef < lo || ef > hi) {
    const problem = `--hnsw-ef: expected an integer in ${lo}..${hi}, got ${ef}`;
    throw new GenrepError(problem, 'BAD_INPUT', { field: 'hnsw-ef' });
  }
  return ef;
}

function parseLayer(text: string): number {
  const layer = parseNumber(text, '--layer', true);
  if (layer < 0) {
    throw new GenrepError(`--layer: expected a non-negative integer, got ${layer}`, 'BAD_INPUT', { field: 'layer' });
  }
  return layer;
}

const list = (a: Float64Array | undefined): number[] | null => (a ? Array.from(a) : null);

/** The JSON score-features writes: the per-bank distances and the score first, then how they were made. */
export interface ScoresJson {
  d_source?: number[] | null;
  d_target?: number[] | null;
  distances?: Record<string, number[]>;
  score: number[];
  dn_mode: DnMode;
  kind: MachineScores['kind'];
  kn: number;
  mixup: MachineScores['mixup'];
  index: MachineScores['index'];
  stats: Record<string, DnStats> | null;
  stats_from: MachineScores['statsFrom'];
  threshold?: number;
  threshold_quantile?: number | undefined;
  decision?: number[];
}

/** `values[i]` per bank name: the scorer returns one entry per bank, in `bankNames` order. */
function byBank<T, U>(result: MachineScores, values: readonly T[], map: (value: T) => U): Record<string, U> {
  if (values.length !== result.bankNames.length) {
    throw new GenrepError(`score-features: ${values.length} values for ${result.bankNames.length} banks`, 'INTERNAL');
  }
  // Own properties even for a section named __proto__ (an assignment would set the object's prototype).
  const entries: [string, U][] = [];
  result.bankNames.forEach((name, i) => {
    const value = values[i];
    if (value !== undefined) entries.push([name, map(value)]);
  });
  return Object.fromEntries(entries);
}

/** The JSON written by score-features: the three arrays the issue names first, then how they were made. */
export function scoresToJson(result: MachineScores, decisions?: Uint8Array): ScoresJson {
  return {
    ...(result.kind === 'domain'
      ? { d_source: list(result.d_source), d_target: list(result.d_target) }
      : { distances: byBank(result, result.distances, (d) => Array.from(d)) }),
    score: Array.from(result.score),
    dn_mode: result.dnMode,
    kind: result.kind,
    kn: result.kn,
    mixup: result.mixup,
    index: result.index,
    stats: result.stats ? byBank(result, result.stats, (s) => s) : null,
    stats_from: result.statsFrom,
    ...(result.threshold !== undefined
      ? {
          threshold: result.threshold,
          threshold_quantile: result.thresholdQuantile,
          decision: Array.from(decisions ?? decide(result.score, result.threshold)),
        }
      : {}),
  };
}

export async function runScoreFeatures(opts: ScoreFeaturesOptions): Promise<MachineScores> {
  if (!DN_MODES.includes(opts.dn as DnMode)) {
    throw new GenrepError(`--dn: expected one of ${DN_MODES.join(', ')}, got '${opts.dn}'`, 'BAD_INPUT', {
      field: 'dn',
    });
  }
  const dnMode = opts.dn as DnMode;
  const indexChoices: IndexChoice[] = ['exact', 'hnsw', 'auto'];
  if (!indexChoices.includes(opts.index as IndexChoice)) {
    throw new GenrepError(`--index: expected one of ${indexChoices.join(', ')}, got '${opts.index}'`, 'BAD_INPUT', {
      field: 'index',
    });
  }
  const kn = opts.kn !== undefined ? parseNumber(opts.kn, '--kn', true, FIELD.kn) : undefined;
  const thresholdQuantile =
    opts.thresholdQuantile !== undefined
      ? parseNumber(opts.thresholdQuantile, '--threshold-quantile', false)
      : undefined;
  if (thresholdQuantile !== undefined && !(thresholdQuantile >= 0 && thresholdQuantile <= 1)) {
    throw new GenrepError(`--threshold-quantile: must lie in [0, 1], got ${thresholdQuantile}`, 'BAD_INPUT', {
      field: 'threshold-quantile',
    });
  }

  let banks: MemoryBanks;
  if (opts.bank !== undefined) {
    if (opts.train !== undefined || opts.trainDomains !== undefined || opts.trainSections !== undefined) {
      throw new GenrepError(
        '--bank replaces --train/--train-domains/--train-sections; give one or the other',
        'BAD_INPUT',
        { field: 'bank' },
      );
    }
    banks = await loadBank(opts.bank);
  } else {
    if (opts.train === undefined)
      throw new GenrepError(
        'give the training features (--train X.npy) or a saved bank (--bank B.grbank)',
        'BAD_INPUT',
        { field: 'train' },
      );
    if (opts.trainDomains !== undefined && opts.trainSections !== undefined) {
      throw new GenrepError(
        'give --train-domains (source/target banks) or --train-sections (one bank per section), not both',
        'BAD_INPUT',
        { field: 'train-sections' },
      );
    }
    const train = await readFeatureMatrix(opts.train);
    const labelsFile = opts.trainDomains ?? opts.trainSections;
    const trainDomains = opts.trainDomains !== undefined ? await readDomainsFile(opts.trainDomains) : undefined;
    const trainSections = opts.trainSections !== undefined ? await readSectionsFile(opts.trainSections) : undefined;
    const labelCount = (trainDomains ?? trainSections)?.length;
    if (labelsFile !== undefined && labelCount !== train.rows) {
      throw fileError(
        labelsFile,
        `has ${labelCount} lines but ${opts.train} has ${train.rows} rows; they must align row by row`,
        'BAD_INPUT',
        {
          field: 'rows',
          expected: `${train.rows} lines`,
        },
      );
    }
    const ks = parseNumber(opts.mixupKs, '--mixup-ks', true, FIELD.mixupKs);
    if (ks < 0) {
      const problem = `--mixup-ks: K_s must be 0 (MemMixup off) or a positive integer, got ${ks}`;
      throw new GenrepError(problem, 'BAD_INPUT', { field: FIELD.mixupKs });
    }
    const lambda = parseNumber(opts.mixupLambda, '--mixup-lambda', false, FIELD.mixupLambda);
    if (ks > 0 && !(lambda >= 0 && lambda <= 1)) {
      const problem = `--mixup-lambda: λ must lie in [0, 1], got ${lambda}`;
      throw new GenrepError(problem, 'BAD_INPUT', { field: FIELD.mixupLambda });
    }
    if (ks > 0 && trainDomains === undefined) {
      throw new GenrepError(
        'MemMixup (--mixup-ks) mixes target rows with source rows: it needs --train-domains',
        'BAD_INPUT',
        { field: FIELD.mixupKs },
      );
    }
    banks = buildBanks({
      train: train.data,
      dim: train.dim,
      trainDomains,
      trainSections,
      kn: kn ?? PAPER_DEFAULTS.K_n,
      mixup: ks > 0 ? { K_s: ks, lambda } : null,
      index: opts.index as IndexChoice,
      hnsw: opts.hnswEf !== undefined ? { efSearch: parseHnswEf(opts.hnswEf) } : {},
      meta: {
        embedder: opts.embedder ?? null,
        layer: opts.layer !== undefined ? parseLayer(opts.layer) : null,
        pooling: opts.pooling ?? null,
      },
      names: { train: opts.train, trainLabels: labelsFile },
    });
  }

  // Before the (possibly long) scoring: a bank that could not be read back is not worth computing.
  if (opts.saveBank !== undefined) checkSavable(banks, opts.saveBank);
  const test = await readFeatureMatrix(opts.test, { dim: banks.dim, of: `the bank (${opts.bank ?? opts.train})` });
  const result = await scoreMachine({
    banks,
    test: test.data,
    testDim: test.dim,
    dnMode,
    kn,
    names: { test: opts.test, bank: opts.bank ?? opts.train },
    threshold: thresholdQuantile !== undefined ? { quantile: thresholdQuantile } : false,
  });
  if (opts.saveBank !== undefined) await saveBank(opts.saveBank, banks);
  await writeJsonResult(scoresToJson(result), opts.out);
  return result;
}

/** `genrep score-features`: kNN scoring with MemMixup and domain normalisation for features people bring as .npy. */
export function registerScoreFeaturesCommand(program: Command): void {
  program
    .command('score-features')
    .description('score test features against memory banks of training features (kNN, MemMixup, domain normalisation)')
    .option('--train <X.npy>', 'training features, clips × dims (float32 or float64 .npy)')
    .option(
      '--train-domains <D.txt>',
      "one 'source' or 'target' per line, aligned with --train rows (DCASE 2023 banks)",
    )
    .option(
      '--train-sections <S.txt>',
      'one section / machine ID per line: one bank per section (DCASE 2020 section-label DN)',
    )
    .option('--bank <B.grbank>', 'score against a bank saved with --save-bank instead of --train')
    .requiredOption('--test <Y.npy>', 'test features, clips × dims')
    .option(
      '--kn <n>',
      `K_n: nearest neighbours averaged per bank (default ${PAPER_DEFAULTS.K_n}, or the saved bank's)`,
    )
    .option('--mixup-ks <K>', 'MemMixup: K_s nearest source rows mixed into each target row (0 = off)', '0')
    .option('--mixup-lambda <λ>', 'MemMixup: weight λ of the target row', String(PAPER_DEFAULTS.mixup.lambda))
    .option('--dn <mode>', `domain normalisation: ${DN_MODES.join(' | ')}`, PAPER_DEFAULTS.dn)
    .option('--index <kind>', 'nearest-neighbour search: exact | hnsw | auto (HNSW above 100000 training rows)', 'auto')
    .option('--hnsw-ef <n>', 'HNSW search beam width (default 200)')
    .option(
      '--threshold-quantile <q>',
      "also write a decision threshold: this quantile of the training clips' leave-one-out scores",
    )
    .option('--save-bank <B.grbank>', 'save the memory banks for later scoring without the training features')
    .option('--embedder <name>', 'recorded in the saved bank header')
    .option('--layer <k>', 'recorded in the saved bank header')
    .option('--pooling <name>', 'recorded in the saved bank header')
    .option('--out <scores.json>', 'write the JSON here (default: stdout)')
    .action(async (opts: ScoreFeaturesOptions) => {
      await runScoreFeatures(opts);
    });
}
