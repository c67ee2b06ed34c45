import type { LoadedConfig } from '../config/loadConfig';
import type { Embedder } from '../embedders';
import type { Settings } from '../settings';
import { openEmbedder } from './embedderSpec';
import { throwIfCancelled } from './extract';
import { RunClock, type ExperimentOutcome, type RunContext, type RunProgress } from './runContext';
import { assemble } from './stages/assemble';
import { discover } from './stages/discover';
import { extract, prepareCache } from './stages/extract';
import { scoreGrid } from './stages/scoreGrid';
import { selectLayers } from './stages/selectLayers';
import { openResultSet, write } from './stages/write';
import { variantsOf } from './variants';

/**
 * `genrep run`: discover → extract → score grid → select layers → assemble → write (one module each under stages/).
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

    embedder = await openEmbedder(loaded.config.embedder, settings);
    const features = await extract({ loaded, settings, dataset, embedder, signal, progress, log });
    clock.end('extract');

    const variants = variantsOf(loaded.config, log);
    const grid = await scoreGrid({ loaded, features, variants, signal, progress });
    clock.end('score');

    const selection = selectLayers({ loaded, grid });
    const results = assemble({ loaded, dataset, embedder, features, grid, selection, clock });
    return await write({ resultSet, results, clock, signal, progress });
  } finally {
    await resultSet.abort();
    await embedder?.dispose();
  }
}
