import type { Command } from 'commander';
import * as path from 'node:path';
import { loadRunConfig, type LoadedConfig } from '../../config/loadConfig';
import { GenrepError } from '../../errors';
import { runExperiment } from '../../experiments/run';
import type { ExperimentOutcome, RunContext } from '../../experiments/runContext';
import { resolveShard, type Shard } from '../../experiments/shard';
import { extractShard } from '../../experiments/shardRun';
import { tryLock } from '../../io/folderLock';
import { ensureDir } from '../../io/fsErrors';
import { formatResultsTable } from '../../report/table';
import { resolveSettings, type Settings } from '../../settings';
import { withInterrupt } from '../interrupt';
import { runProgressReporter } from '../progressBar';
import { explainTopAnomalies } from '../../explain/reportTop';
import { StageTimes } from '../../util/stageTimes';
import { parsePositiveInt } from '../parse';
import { runProfile, writeRunProfile, type RunProfile } from '../runProfile';

interface RunOptions {
  quiet?: boolean;
  shard?: string | true;
  shardCount?: string;
  fromCache?: boolean;
  thenScore?: boolean;
  threads?: number;
  profile?: string;
}

/** `genrep run <config.json>`: one experiment from a run config (schemas/run-config.schema.json). */
export function registerRunCommand(program: Command): void {
  program
    .command('run <config>')
    .description(
      'run an experiment from a JSON run config: features (cached), kNN scoring, results.json, DCASE submission files, report.html',
    )
    .option('--quiet', 'print only the results table')
    .option(
      '--shard [i/n]',
      'extract only shard i of n (0-based) of the clips into the cache, then stop (docs/scale.md); bare: from SLURM_ARRAY_TASK_ID/COUNT or JOB_COMPLETION_INDEX',
    )
    .option(
      '--shard-count <n>',
      'the number of shards where the scheduler does not say (JOB_COMPLETION_INDEX); or GENREP_SHARD_COUNT',
    )
    .option(
      '--then-score',
      'with --shard: score and report if every clip is in the cache after this shard (the last shard to finish)',
    )
    .option('--from-cache', 'score features the shards extracted; a clip missing from the cache is an error naming it')
    .option(
      '--threads <n>',
      "cores the run uses, instead of the config's threads (default: all): ONNX Runtime's threads while extracting, scoring threads while scoring",
      parsePositiveInt('--threads'),
    )
    .option(
      '--profile <file>',
      'write where the time and memory went to <file> (JSON): seconds and clips/s per extraction stage, scoring and writing, peak RSS',
    )
    .action(async (file: string, opts: RunOptions) => {
      const loaded = await loadRunConfig(file);
      const threads = opts.threads ?? loaded.config.threads;
      const settings = resolveSettings({ runConfig: { ...loaded.config, threads }, env: process.env });
      const stageTimes = new StageTimes();
      const profile = async (clips: RunProfile['clips'], results?: ExperimentOutcome['results']): Promise<void> => {
        if (opts.profile === undefined) return;
        const source = { config: loaded.file, settings, stageTimes, clips, ...(results ? { results } : {}) };
        await writeRunProfile(opts.profile, runProfile(source));
      };
      const shard = resolveShard({ shard: opts.shard, shardCount: opts.shardCount }, process.env);
      refuseFlagMix(opts, shard);
      const bar = runProgressReporter();
      const ctx = (signal: AbortSignal): RunContext => ({
        signal,
        onProgress: opts.quiet ? () => undefined : bar.onProgress,
        log: opts.quiet ? () => undefined : (line) => process.stderr.write(`${line}\n`),
        explainTop: explainTopAnomalies,
        ...(opts.fromCache ? { fromCache: true } : {}),
        stageTimes,
      });
      try {
        if (shard) {
          const thenScore = opts.thenScore === true;
          const done = await withInterrupt((signal) => extractShard(loaded, settings, shard, ctx(signal), thenScore));
          bar.stop();
          process.stdout.write(
            `shard ${shard.index}/${shard.count}: ${done.extracted} clips extracted, ${done.cached} already cached, ` +
              `${done.leftToOthers} left to other shards${done.skipped > 0 ? `, ${done.skipped} unreadable skipped` : ''} ` +
              `(cache ${settings.cacheDir})\n`,
          );
          let scored: ExperimentOutcome | undefined;
          if (thenScore) {
            const scoring = (signal: AbortSignal): RunContext => ({ ...ctx(signal), fromCache: true });
            scored = await scoreIfComplete(loaded, settings, done.missingAfter ?? 0, scoring);
          }
          const clips = { fromCache: done.cached, extracted: done.extracted, leftToOthers: done.leftToOthers };
          await profile(clips, scored?.results);
          return;
        }
        const outcome = await withInterrupt((signal) => runExperiment(loaded, settings, ctx(signal)));
        bar.stop();
        printOutcome(outcome);
        const { hits, extracted } = outcome.results.cache;
        await profile({ fromCache: hits, extracted }, outcome.results);
      } finally {
        bar.stop();
      }
    });
}

function refuseFlagMix(opts: RunOptions, shard: Shard | undefined): void {
  if (opts.thenScore && !shard) throw new GenrepError('run: --then-score goes with --shard', 'BAD_INPUT');
  if (opts.fromCache && shard) {
    throw new GenrepError(
      'run: --from-cache scores what the shards extracted; it does not go with --shard (use --then-score)',
      'BAD_INPUT',
    );
  }
}

/**
 * `--then-score`: after its own extraction a shard scores if every clip is in the cache. Each shard looks after its
 * own entries are written, so the last one to finish always finds them all. Several can finish at once and all find
 * the cache complete: a lock next to the output folder (io/folderLock.ts) lets one of them score and the others stop.
 * Only a shard that found the cache complete takes the lock, so one that finds it held knows the holder scores.
 */
async function scoreIfComplete(
  loaded: LoadedConfig,
  settings: Settings,
  missing: number,
  ctx: (signal: AbortSignal) => RunContext,
): Promise<ExperimentOutcome | undefined> {
  if (missing > 0) {
    process.stdout.write(
      `${missing} clips are not in the cache yet: other shards are still extracting, and the last to finish scores ` +
        '(or run genrep run --from-cache)\n',
    );
    return undefined;
  }
  const output = path.resolve(loaded.config.output);
  await ensureDir(path.dirname(output));
  const lock = await tryLock(path.join(path.dirname(output), `.${path.basename(output)}.genrep-score-lock`));
  if (!('release' in lock)) {
    const { pid, host } = lock.heldBy;
    process.stdout.write(`another shard (pid ${pid}${host ? ` on ${host}` : ''}) is scoring ${loaded.config.output}\n`);
    return undefined;
  }
  try {
    const outcome = await withInterrupt((signal) => runExperiment(loaded, settings, ctx(signal)));
    printOutcome(outcome);
    return outcome;
  } finally {
    await lock.release();
  }
}

function printOutcome(outcome: ExperimentOutcome): void {
  process.stdout.write(`\n${formatResultsTable(outcome.results)}`);
  const t = outcome.results.timings;
  process.stdout.write(
    `features: ${outcome.results.cache.hits} from cache, ${outcome.results.cache.extracted} extracted · ` +
      `time: ${t.totalSec.toFixed(1)} s (extract ${t.extractSec.toFixed(1)} s, score ${t.scoreSec.toFixed(1)} s)\n` +
      `results: ${outcome.resultsFile}\nreport:  ${outcome.reportFile}\n`,
  );
}
