import type { LoadedConfig } from '../config/loadConfig';
import type { Settings } from '../settings';
import { embedderList, openEmbedder } from './embedderSpec';
import { MissingFeaturesError, throwIfCancelled } from './extract';
import type { RunContext, RunProgress } from './runContext';
import { discover } from './stages/discover';
import { extract, prepareCache } from './stages/extract';
import type { Shard } from './shard';

/** What one shard did, per clip and summed over the config's embedders (a clip counts once per embedder). */
export interface ShardOutcome {
  shard: Shard;
  /** Computed by this process. */
  extracted: number;
  /** Of this shard, already in the cache (an earlier attempt of this shard, or a whole run). */
  cached: number;
  /** Belonging to other shards: neither read nor extracted here. */
  leftToOthers: number;
  /** Unreadable clips skipped (with `dataset.skipUnreadable`). */
  skipped: number;
  /**
   * With `checkComplete`: clips of any shard still missing from the cache after this shard's own entries were
   * written (summed over embedders); 0 when every feature is present.
   */
  missingAfter?: number;
}

/**
 * `genrep run --shard i/n`: discover → extract this shard's clips for every embedder of the config into the cache, and
 * nothing else (no scoring, no output folder). Each entry is written atomically under its content key
 * (featureCache.ts), so shards on many machines can share one cache folder, and a killed shard re-run reuses what it
 * wrote. `genrep run --from-cache` (or `--then-score`) scores once every shard finished.
 */
export async function extractShard(
  loaded: LoadedConfig,
  settings: Settings,
  shard: Shard,
  ctx: RunContext = {},
  checkComplete = false,
): Promise<ShardOutcome> {
  const { signal } = ctx;
  const log = ctx.log ?? (() => undefined);
  const progress = (p: RunProgress): void => ctx.onProgress?.(p);
  await prepareCache(loaded, settings.cacheDir);
  const dataset = await discover({ loaded, progress, log });
  throwIfCancelled(signal);
  const outcome: ShardOutcome = { shard, extracted: 0, cached: 0, leftToOthers: 0, skipped: 0 };
  const configs = embedderList(loaded.config.embedder);
  const list = Array.isArray(loaded.config.embedder);
  for (const [i, config] of configs.entries()) {
    const at = list ? `/embedder/${i}` : '/embedder';
    const embedder = await openEmbedder(config, settings, at);
    try {
      const sweepOnly = i === 0 ? {} : { sweepOnly: at };
      const features = await extract({
        ...{ loaded, settings, dataset, embedder, signal, progress, log, shard, stageTimes: ctx.stageTimes },
        ...sweepOnly,
      });
      outcome.extracted += features.extracted;
      outcome.cached += features.hits;
      outcome.leftToOthers += features.leftToOthers;
      outcome.skipped += features.failed.length;
      if (checkComplete) {
        // A second look, at every shard's clips, after this one's entries are all written (see --then-score).
        const quiet = { log: () => undefined, progress: () => undefined };
        try {
          await extract({
            ...{ loaded, settings, dataset, embedder, signal, cachedOnly: true },
            ...quiet,
            ...sweepOnly,
          });
          outcome.missingAfter ??= 0;
        } catch (err) {
          if (!(err instanceof MissingFeaturesError)) throw err;
          outcome.missingAfter = (outcome.missingAfter ?? 0) + err.missing;
        }
      }
    } finally {
      await embedder.dispose();
    }
  }
  return outcome;
}
