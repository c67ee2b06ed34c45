import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { LoadedConfig } from '../../config/loadConfig';
import type { Dataset } from '../../datasets';
import type { Embedder } from '../../embedders';
import { GenrepError } from '../../errors';
import { summariseMachines, type DcaseMetrics } from '../../metrics';
import { genrepVersion } from '../../paths';
import {
  RESULTS_SCHEMA_VERSION,
  type LayerMetrics,
  type MachineResult,
  type Metrics,
  type RunResults,
  type VariantResult,
} from '../../protocol/results';
import type { SummaryStyle } from '../../protocol/vocabulary';
import type { CellGrid } from '../cellGrid';
import type { RunClock } from '../runContext';
import { fileScores, rocSet, toMetrics } from '../scoreMachineLayer';
import { variantId, type Variant } from '../variants';
import type { RunFeatures } from './extract';
import type { LayerSelection } from './selectLayers';

export interface AssembleStage {
  loaded: LoadedConfig;
  dataset: Dataset;
  embedder: Embedder;
  features: RunFeatures;
  grid: CellGrid;
  selection: LayerSelection;
  clock: RunClock;
}

/**
 * Stage 5: results.json's content (protocol/results.ts): per variant, each machine type at its chosen layer with
 * per-file scores and ROC curves, the per-layer sweep and the DCASE summary. `finishedAt`, the write and total times
 * and `outputs` are filled in by the write stage.
 */
export function assemble(stage: AssembleStage): RunResults {
  const { loaded, dataset, embedder, features, grid, clock } = stage;
  const { config } = loaded;
  const { machines } = grid.axes;
  const allHaveDomains = machines.every(
    (m) => m.test.every((c) => c.domain !== undefined) && m.train.every((c) => c.domain !== undefined),
  );
  const summaryStyle: SummaryStyle = allHaveDomains ? 'dcase2023' : 'dcase2020';
  const variants = grid.axes.variants.map((variant) => assembleVariant({ ...stage, variant, summaryStyle }));
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    name: config.name || path.basename(loaded.file).replace(/\.json$/i, ''),
    config,
    configFile: path.resolve(loaded.file),
    versions: versions(),
    startedAt: clock.startedAt,
    finishedAt: '',
    embedder: {
      id: embedder.id,
      provider: embedder.provider,
      numLayers: embedder.numLayers,
      dim: features.dim,
      pooling: config.pooling,
    },
    dataset: {
      root: dataset.root,
      layout: dataset.layout,
      machineTypes: machines.map((m) => m.machineType),
      skipped: [...dataset.skipped, ...features.failed],
    },
    cache: { hits: features.hits, extracted: features.extracted },
    timings: {
      discoverSec: sec(clock.since('start', 'discover')),
      extractSec: sec(clock.since('discover', 'extract')),
      scoreSec: sec(clock.since('extract', 'score')),
      writeSec: 0,
      totalSec: 0,
    },
    variants,
    outputs: [],
  };
}

interface VariantAssembly {
  loaded: LoadedConfig;
  grid: CellGrid;
  selection: LayerSelection;
  variant: Variant;
  summaryStyle: SummaryStyle;
}

function assembleVariant({ loaded, grid, selection, variant, summaryStyle }: VariantAssembly): VariantResult {
  const { machines, layers, seeds } = grid.axes;
  const id = variantId(variant);
  const chosenLayers = selection.byVariant.get(id) ?? internal(`no layer selection for ${id}`);
  const metricsAt = (machineType: string, layer: number): Metrics | null =>
    chosenLayers.perMachine.get(machineType)?.get(layer) ?? null;
  const machineResults: MachineResult[] = machines.map((m) => {
    const layer = chosenLayers.chosen.get(m.machineType) ?? internal(`no layer chosen for ${m.machineType}`);
    // Scores, decisions and ROC curves are the first seed's; metrics are the mean over seeds.
    const [firstSeed = null] = seeds;
    const first = grid.get({ machineType: m.machineType, layer, variant, seed: firstSeed });
    const metrics = metricsAt(m.machineType, layer);
    return {
      machineType: m.machineType,
      sections: m.sections,
      layers: layers.map((l) => ({ layer: l, metrics: metricsAt(m.machineType, l) })),
      chosenLayer: layer,
      metrics,
      threshold: first.threshold,
      files: fileScores(m.test, first),
      roc: metrics ? rocSet(m.test, first.score) : null,
    };
  });
  const summarise = (ms: (Metrics | null)[]): Metrics | null => summariseMetrics(ms, summaryStyle);
  const perLayer: LayerMetrics[] = layers.map((layer) => ({
    layer,
    metrics: summarise(machines.map((m) => metricsAt(m.machineType, layer))),
  }));
  const { config } = loaded;
  return {
    id,
    dn: variant.dn,
    mixup: variant.mixup,
    K_n: config.K_n,
    layerSelection: selection.mode,
    machines: machineResults,
    seeds: config.lowShot ? config.lowShot.seeds : null,
    overall: summarise(machineResults.map((m) => m.metrics)),
    perLayer,
    summaryStyle,
  };
}

/** Machine types' metrics summarised as the DCASE style says; null unless every one has metrics. */
export function summariseMetrics(ms: (Metrics | null)[], summaryStyle: SummaryStyle): Metrics | null {
  return ms.every((x): x is Metrics => x !== null)
    ? toMetrics(summariseMachines(ms.map(fromMetrics), summaryStyle))
    : null;
}

function fromMetrics(m: Metrics): DcaseMetrics {
  return {
    auc: m.auc,
    pauc: m.pauc,
    ...(m.auc_source !== null ? { auc_source: m.auc_source } : {}),
    ...(m.auc_target !== null ? { auc_target: m.auc_target } : {}),
    ...(m.official !== null ? { official: m.official } : {}),
  };
}

function versions(): RunResults['versions'] {
  const read = (p: string): string | null => {
    try {
      const parsed = JSON.parse(readFileSync(p, 'utf8')) as { version?: unknown };
      return typeof parsed.version === 'string' ? parsed.version : null;
    } catch {
      return null;
    }
  };
  let ort: string | null;
  try {
    ort = read(require.resolve('onnxruntime-node/package.json'));
  } catch {
    ort = null;
  }
  return { genrep: genrepVersion(), node: process.version, onnxruntime: ort };
}

/** Milliseconds as seconds with three decimals, as results.json records times. */
export function sec(ms: number): number {
  return Math.round(ms) / 1000;
}

function internal(what: string): never {
  throw new GenrepError(`run: ${what}`, 'INTERNAL');
}
