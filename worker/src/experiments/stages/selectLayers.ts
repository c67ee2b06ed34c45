import type { LoadedConfig } from '../../config/loadConfig';
import { GenrepError } from '../../errors';
import { knownModels } from '../../models/manifest';
import type { Metrics } from '../../protocol/results';
import type { EmbedderConfig } from '../../protocol/runConfig';
import type { LayerSelectionMode } from '../../protocol/vocabulary';
import type { CellGrid } from '../cellGrid';
import { embedderList } from '../embedderSpec';
import { chooseLayers } from '../layerSelection';
import { variantId, type Variant } from '../variants';

/** One variant's metrics per machine type and layer (averaged over low-shot seeds) and the layer reported for each. */
export interface VariantLayers {
  perMachine: Map<string, Map<number, Metrics | null>>;
  chosen: Map<string, number>;
}

export interface LayerSelection {
  mode: LayerSelectionMode;
  /** Per variant id. */
  byVariant: Map<string, VariantLayers>;
}

export interface SelectLayersStage {
  loaded: LoadedConfig;
  grid: CellGrid;
}

/** Stage 4: the reported layer per variant and machine type (layerSelection.ts says how each mode chooses). */
export function selectLayers({ loaded, grid }: SelectLayersStage): LayerSelection {
  const { config } = loaded;
  const { layers, variants } = grid.axes;
  const selection = typeof config.layerSelection === 'string' ? { mode: config.layerSelection } : config.layerSelection;
  const fallbackLayer = selection.layer ?? defaultLayer(embedderList(config.embedder)[0], layers);
  if (selection.mode === 'fixed' && !layers.includes(fallbackLayer)) {
    throw new GenrepError(
      `${loaded.locate('/layerSelection')}: /layerSelection/layer: layer ${fallbackLayer} is not among the scored layers (${layers.join(', ')})`,
      'BAD_INPUT',
      {
        field: '/layerSelection/layer',
      },
    );
  }
  const byVariant = new Map<string, VariantLayers>();
  for (const variant of variants) {
    const perMachine = metricsOverSeeds(grid, variant);
    byVariant.set(variantId(variant), { perMachine, chosen: chooseLayers(selection.mode, perMachine, fallbackLayer) });
  }
  return { mode: selection.mode, byVariant };
}

/** Low-shot: metrics are averaged over seeds (the paper's Table 4); a run on all clips has one "seed". */
export function metricsOverSeeds(grid: CellGrid, variant: Variant): Map<string, Map<number, Metrics | null>> {
  const { machines, layers } = grid.axes;
  return new Map(
    machines.map(({ machineType }) => [
      machineType,
      new Map(
        layers.map((layer) => [
          layer,
          averageMetrics(grid.overSeeds({ machineType, layer, variant }).map((c) => c.metrics)),
        ]),
      ),
    ]),
  );
}

function averageMetrics(list: (Metrics | null)[]): Metrics | null {
  if (list.length === 0 || list.some((m) => m === null)) return null;
  const ms = list.filter((m): m is Metrics => m !== null);
  const [first] = ms;
  if (ms.length === 1 && first) return first;
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
  const meanOrNull = (pick: (m: Metrics) => number | null): number | null => {
    const v = ms.map(pick);
    return v.every((x): x is number => x !== null) ? mean(v) : null;
  };
  return {
    auc: mean(ms.map((m) => m.auc)),
    pauc: mean(ms.map((m) => m.pauc)),
    auc_source: meanOrNull((m) => m.auc_source),
    auc_target: meanOrNull((m) => m.auc_target),
    official: meanOrNull((m) => m.official),
  };
}

/** The checkpoint's best single layer from the manifest (4 for beats_ft1, 5 otherwise), else the first scored layer. */
function defaultLayer(embedder: EmbedderConfig, layers: number[]): number {
  const name = typeof embedder === 'string' ? embedder : embedder.kind === 'beats' ? embedder.checkpoint : '';
  const entry = knownModels().get(name) ?? [...knownModels().values()].find((m) => name.endsWith(m.file));
  if (entry && layers.includes(entry.bestLayer)) return entry.bestLayer;
  const [first] = layers;
  if (first === undefined) throw new GenrepError('run: no layer to score', 'INTERNAL');
  return first;
}
