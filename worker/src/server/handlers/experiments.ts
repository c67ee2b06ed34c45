import { loadRunConfig, readConfigFile } from '../../config/loadConfig';
import { readResults } from '../../experiments/readResults';
import { runExperiment } from '../../experiments/run';
import type {
  ResultsParams,
  ResultsResult,
  RunOutcome,
  RunParams,
  ValidateConfigParams,
  ValidateConfigResult,
  WorkerSettings,
} from '../../protocol/workerProtocol';
import type { Settings } from '../../settings';
import { discoverDataset, type Dataset, type DiscoverOptions } from '../../datasets';
import { validateConfigWithDataset } from '../configDiagnostics';
import type { JobContext } from '../jobs';
import { explainTopAnomalies } from '../../explain/reportTop';

/**
 * genrep/run: the same runExperiment as `genrep run`; `settingsFor` puts the config's own folders and threads over
 * the editor's settings.
 */
export async function run(
  params: RunParams,
  job: JobContext,
  settingsFor: (runConfig: WorkerSettings) => Settings,
  log: (line: string) => void,
): Promise<RunOutcome> {
  job.progress({ stage: 'discover', done: 0, total: 1, message: 'reading the run config' });
  const loaded = await loadRunConfig(params.configFile);
  const settings = settingsFor(loaded.config);
  const outcome = await runExperiment(loaded, settings, {
    signal: job.signal,
    onProgress: (p) => job.progress(p),
    log,
    explainTop: explainTopAnomalies,
  });
  const main = outcome.results.variants[0];
  return {
    name: outcome.results.name,
    resultsFile: outcome.resultsFile,
    outputDir: outcome.outputDir,
    reportFile: outcome.reportFile,
    overall: main?.overall ?? null,
    machineTypes: outcome.results.dataset.machineTypes,
    cache: outcome.results.cache,
    totalSec: outcome.results.timings.totalSec,
  };
}

export async function results(params: ResultsParams): Promise<ResultsResult> {
  return { file: params.file, results: await readResults(params.file) };
}

export async function validateConfig(params: ValidateConfigParams): Promise<ValidateConfigResult> {
  const text = params.text ?? (await readConfigFile(params.file)).toString('utf8');
  return validateConfigWithDataset(text, params.file, recentDiscovery);
}

/**
 * The editor validates on every pause in typing; a walk of the same dataset with the same options within a few
 * seconds is reused rather than repeated (a run always walks afresh). Failures are not kept.
 */
const REUSE_MS = 5000;
const walks = new Map<string, { at: number; dataset: Promise<Dataset> }>();
function recentDiscovery(options: DiscoverOptions): Promise<Dataset> {
  const key = JSON.stringify(options);
  const now = Date.now();
  for (const [k, w] of walks) if (now - w.at > REUSE_MS) walks.delete(k);
  const hit = walks.get(key);
  if (hit) return hit.dataset;
  const dataset = discoverDataset(options);
  walks.set(key, { at: now, dataset });
  void dataset.catch(() => walks.delete(key));
  return dataset;
}
