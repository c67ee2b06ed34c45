import type { Embedder } from '../../embedders';
import { GenrepError } from '../../errors';
import type { RunResults } from '../../protocol/results';
import type { CellGrid } from '../cellGrid';
import { variantId } from '../variants';
import { summariseMetrics } from './assemble';
import type { RunFeatures } from './extract';
import { metricsOverSeeds } from './selectLayers';

/** One embedder of a list, extracted and scored on the same grid axes as the first (its own layers). */
export interface SweptEmbedder {
  embedder: Embedder;
  features: RunFeatures;
  grid: CellGrid;
}

/**
 * A run with several embedders: adds the others' layer sweeps beside the first one's results (protocol/results.ts
 * `embedders`, `perEmbedder`), summarised over machine types as each variant's `perLayer` is. Cache counters and
 * skipped clips count every embedder's extraction. The first embedder's results are left as they are.
 */
export function addEmbedderSweeps(results: RunResults, first: SweptEmbedder, others: SweptEmbedder[]): void {
  const all = [first, ...others];
  results.embedders = all.map(({ embedder, features }) => ({
    id: embedder.id,
    provider: embedder.provider,
    numLayers: embedder.numLayers,
    dim: features.dim,
    pooling: results.embedder.pooling,
  }));
  for (const variant of results.variants) {
    const sweeps = others.map(({ embedder, grid }) => {
      const axisVariant = grid.axes.variants.find((v) => variantId(v) === variant.id);
      if (!axisVariant) throw new GenrepError(`run: ${embedder.id} has no variant ${variant.id}`, 'INTERNAL');
      const perMachine = metricsOverSeeds(grid, axisVariant);
      return {
        embedder: embedder.id,
        perLayer: grid.axes.layers.map((layer) => ({
          layer,
          metrics: summariseMetrics(
            grid.axes.machines.map((m) => perMachine.get(m.machineType)?.get(layer) ?? null),
            variant.summaryStyle,
          ),
        })),
      };
    });
    variant.perEmbedder = [{ embedder: first.embedder.id, perLayer: variant.perLayer }, ...sweeps];
  }
  const skipped = new Set(results.dataset.skipped.map((s) => s.path));
  for (const { features } of others) {
    results.cache.hits += features.hits;
    results.cache.extracted += features.extracted;
    for (const f of features.failed) {
      if (skipped.has(f.path)) continue;
      skipped.add(f.path);
      results.dataset.skipped.push(f);
    }
  }
}
