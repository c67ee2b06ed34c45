import type { LoadedConfig } from '../config/loadConfig';
import type { Embedder } from '../embedders';
import type { Settings } from '../settings';
import { GenrepError } from '../errors';
import { embedderList, openEmbedder } from './embedderSpec';
import { throwIfCancelled } from './extract';
import { RunClock, type ExperimentOutcome, type RunContext, type RunProgress } from './runContext';
import { assemble } from './stages/assemble';
import { discover } from './stages/discover';
import { explainTop } from './stages/explainTop';
import { extract, prepareCache, type RunFeatures } from './stages/extract';
import { scoreGrid } from './stages/scoreGrid';
import { selectLayers } from './stages/selectLayers';
import { addEmbedderSweeps, type SweptEmbedder } from './stages/sweepEmbedders';
import { openResultSet, write } from './stages/write';
import { variantsOf } from './variants';

/**
 * `genrep run`: discover → extract → score grid → select layers → assemble → write (one module each under stages/).
 * A list of embedders is extracted and scored embedder by embedder; the first one's layers are selected and reported,
 * the others add their layer sweeps (stages/sweepEmbedders.ts).
 * The output folder is taken first and replaced as one set at the end (resultSet.ts): a failed, cancelled or
 * concurrent run leaves the previous set as it was. `settings` (worker/src/settings.ts) are the folders and
 * threads the caller resolved for this config.
 */
export async function runExperiment(
  loaded: LoadedConfig,
  settings: Settings,
  ctx: RunContext = {},
): Promise<ExperimentOutcome> {
  const clock = new RunClock();
  const { signal } = ctx;
  const log = ctx.log ?? (() => undefined);
  const progress = (p: RunProgress): void => ctx.onProgress?.(p);

  const resultSet = await openResultSet(loaded, settings.cacheDir);
  let embedder: Embedder | undefined;
  try {
    await prepareCache(loaded, settings.cacheDir);
    const dataset = await discover({ loaded, progress, log });
    clock.end('discover');
    throwIfCancelled(signal);

    const [firstConfig, ...otherConfigs] = embedderList(loaded.config.embedder);
    const list = Array.isArray(loaded.config.embedder);
    embedder = await openEmbedder(firstConfig, settings, list ? '/embedder/0' : '/embedder');
    const cachedOnly = ctx.fromCache === true;
    const { stageTimes } = ctx;
    const features = await extract({
      ...{ loaded, settings, dataset, embedder, signal, progress, log },
      ...{ cachedOnly, stageTimes },
    });
    // The other embedders of a list, one at a time (each closed before the next opens): features for their sweeps.
    const others: { embedder: Embedder; features: RunFeatures }[] = [];
    for (const [i, config] of otherConfigs.entries()) {
      const at = `/embedder/${i + 1}`;
      const other = await openEmbedder(config, settings, at);
      try {
        refuseRepeatedEmbedder(loaded, [embedder, ...others.map((o) => o.embedder)], other, at);
        const sweepOnly = at;
        others.push({
          embedder: other,
          features: await extract({
            ...{ loaded, settings, dataset, embedder: other, signal, progress, log },
            ...{ sweepOnly, cachedOnly, stageTimes },
          }),
        });
      } finally {
        await other.dispose();
      }
    }
    clock.end('extract');

    const variants = variantsOf(loaded.config, log);
    const threads = settings.threads;
    const grid = await scoreGrid({ loaded, features, variants, threads, signal, progress });
    const otherGrids: SweptEmbedder[] = [];
    for (const other of others) {
      otherGrids.push({
        ...other,
        grid: await scoreGrid({ loaded, features: other.features, variants, threads, signal, progress }),
      });
    }
    clock.end('score');

    const selection = selectLayers({ loaded, grid });
    const results = assemble({ loaded, dataset, embedder, features, grid, selection, clock });
    if (otherGrids.length > 0) addEmbedderSweeps(results, { embedder, features, grid }, otherGrids);
    if (ctx.explainTop) {
      progress({ stage: 'write', done: 0, total: 1, message: 'explaining the top anomalies for the report' });
    }
    const topAnomalies = await explainTop({ loaded, dataset, embedder, features, results, signal }, ctx.explainTop);
    return await write({ resultSet, results, clock, signal, progress, ...(topAnomalies ? { topAnomalies } : {}) });
  } finally {
    await resultSet.abort();
    await embedder?.dispose();
  }
}

/** Two entries of a list that open as the same embedder would draw one sweep twice under one name. */
function refuseRepeatedEmbedder(loaded: LoadedConfig, earlier: Embedder[], other: Embedder, at: string): void {
  const index = earlier.findIndex((e) => e.id === other.id);
  if (index < 0) return;
  throw new GenrepError(
    `${loaded.locate(at)}: ${at}: embedder ${other.id} is already listed at /embedder/${index}; list each embedder once`,
    'BAD_INPUT',
    { field: at },
  );
}
