import * as path from 'node:path';
import type { LoadedConfig } from '../../config/loadConfig';
import { GenrepError } from '../../errors';
import { writeFileAtomic } from '../../io/atomicWrite';
import type { RunResults } from '../../protocol/results';
import { atConfigField } from '../configField';
import { throwIfCancelled } from '../extract';
import { writeReport } from '../report';
import { ResultSet } from '../resultSet';
import type { ExperimentOutcome, RunClock, RunProgress } from '../runContext';
import { writeSubmission } from '../submission';
import { sec } from './assemble';
import type { TopAnomalies } from './explainTop';

/**
 * The output folder, taken before any work so that a second run into the same folder, or an unwritable folder,
 * fails at once (resultSet.ts). The cache may not live inside it: each run replaces the folder as a whole.
 */
export async function openResultSet(loaded: LoadedConfig, cacheDir: string): Promise<ResultSet> {
  refuseCacheInsideOutput(loaded, cacheDir);
  return ResultSet.open(loaded.config.output).catch((err: unknown) => {
    throw atConfigField(err, loaded, '/output');
  });
}

export interface WriteStage {
  resultSet: ResultSet;
  results: RunResults;
  clock: RunClock;
  signal: AbortSignal | undefined;
  progress: (p: RunProgress) => void;
  /** report.html's top anomalies (stages/explainTop.ts); the report says why when there are none. */
  topAnomalies?: TopAnomalies;
}

/**
 * Stage 6: the DCASE submission files of the main variant, report.html and results.json, written into the staging
 * folder and swapped in as one set. Nothing written records where the staging folder is, so the swap moves it intact.
 */
export async function write({
  resultSet,
  results,
  clock,
  signal,
  progress,
  topAnomalies,
}: WriteStage): Promise<ExperimentOutcome> {
  progress({ stage: 'write', done: 0, total: 1, message: 'writing results' });
  const [main] = results.variants;
  if (!main) throw new GenrepError('run: no variant to write', 'INTERNAL');
  try {
    const submissionFiles = await writeSubmission(resultSet.dir, main);
    results.outputs = ['results.json', 'report.html', ...submissionFiles];
    clock.end('write');
    results.finishedAt = new Date().toISOString();
    results.timings.writeSec = sec(clock.since('score', 'write'));
    results.timings.totalSec = sec(clock.since('start', 'write'));
    await writeReport(path.join(resultSet.dir, 'report.html'), results, topAnomalies);
    await writeFileAtomic(path.join(resultSet.dir, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
  } catch (err) {
    throw resultSet.inUserTerms(err);
  }
  throwIfCancelled(signal);
  await resultSet.commit();
  progress({ stage: 'write', done: 1, total: 1, message: 'done' });
  const outputDir = resultSet.outputDir;
  return {
    results,
    outputDir,
    resultsFile: path.join(outputDir, 'results.json'),
    reportFile: path.join(outputDir, 'report.html'),
  };
}

/** The swap replaces the whole output folder, so a feature cache inside it would be thrown away with the old set. */
function refuseCacheInsideOutput(loaded: LoadedConfig, cacheDir: string): void {
  const output = path.resolve(loaded.config.output);
  const relative = path.relative(output, path.resolve(cacheDir));
  if (relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative))) {
    const field = loaded.config.cacheDir !== undefined ? '/cacheDir' : '/output';
    throw new GenrepError(
      `${loaded.locate(field)}: ${field}: the feature cache ${cacheDir} is inside the output folder ${output}, ` +
        'which each run replaces as a whole; choose a cache folder outside it',
      'BAD_INPUT',
      { field },
    );
  }
}
