import { promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { LoadedConfig } from '../config/loadConfig';
import type { EmbedderConfig, RunConfig } from '../protocol/runConfig';
import type { DnMode } from '../protocol/vocabulary';
import { discoverDataset, type Clip, type MachineSet } from '../datasets';
import { createEmbedder, type Embedder, type EmbedderSpec } from '../embedders';
import { GenrepError } from '../errors';
import { writeFileAtomic } from '../io/atomicWrite';
import { fsError } from '../io/fsErrors';
import { summariseMachines, type DcaseMetrics } from '../metrics';
import { knownModels } from '../models/manifest';
import { defaultCacheDir, defaultModelDir, genrepVersion } from '../paths';
import { extractFeatures, throwIfCancelled } from './extract';
import { FeatureCache } from './featureCache';
import { chooseLayers } from './layerSelection';
import { sampleTraining } from './lowShot';
import { writeReport } from './report';
import {
  RESULTS_SCHEMA_VERSION,
  type LayerMetrics,
  type MachineResult,
  type Metrics,
  type RunResults,
  type VariantResult,
} from '../protocol/results';
import { fileScores, rocSet, scoreCell, toMetrics, type CellResult } from './scoreMachineLayer';
import { ResultSet } from './resultSet';
import { writeSubmission } from './submission';

export interface RunProgress {
  stage: 'discover' | 'extract' | 'score' | 'write';
  done: number;
  total: number;
  message: string;
}

export interface RunContext {
  signal?: AbortSignal;
  onProgress?: (p: RunProgress) => void;
  log?: (line: string) => void;
}

export interface RunOutcome {
  results: RunResults;
  outputDir: string;
  resultsFile: string;
  reportFile: string;
}

interface Variant {
  dn: DnMode;
  mixup: { K_s: number; lambda: number } | null;
}

/**
 * `genrep run`: discover the dataset, extract (or reuse cached) features for every clip, score every machine type ×
 * layer × variant, choose the reported layer per machine type, and write results.json, the DCASE submission files
 * and report.html as one set that replaces the output folder (resultSet.ts): a failed, cancelled or concurrent run
 * leaves the previous set as it was.
 */
export async function runExperiment(loaded: LoadedConfig, ctx: RunContext = {}): Promise<RunOutcome> {
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const { config } = loaded;
  const log = ctx.log ?? (() => undefined);
  const progress = (p: RunProgress): void => ctx.onProgress?.(p);

  const cacheDir = config.cacheDir ?? defaultCacheDir();
  refuseCacheInsideOutput(cacheDir, loaded);
  // Taken first, so a second run into the same folder or an unwritable folder fails before any work.
  const resultSet = await ResultSet.open(config.output).catch((err: unknown) => {
    throw atConfigField(err, loaded, '/output');
  });
  let embedder: Embedder | undefined;
  try {
    await prepareCache(cacheDir, loaded);
    progress({ stage: 'discover', done: 0, total: 1, message: 'discovering clips' });
    const dataset = await discoverDataset({
      root: config.dataset.root ?? path.dirname(path.resolve(loaded.file)),
      layout: config.dataset.layout === 'files' ? 'list' : config.dataset.layout,
      ...(config.dataset.machineTypes ? { machineTypes: config.dataset.machineTypes } : {}),
      ...(config.dataset.sections ? { sections: config.dataset.sections } : {}),
      ...(config.dataset.groundTruthDir ? { groundTruthDir: config.dataset.groundTruthDir } : {}),
      ...(config.dataset.files ? { files: config.dataset.files } : {}),
      skipUnrecognised: config.dataset.skipUnrecognised,
    });
    const tDiscover = performance.now();
    log(
      `dataset ${dataset.root}: layout ${dataset.layout}, ${dataset.machines.map((m) => `${m.machineType} (${m.train.length} train, ${m.test.length} test)`).join(', ')}`,
    );
    throwIfCancelled(ctx.signal);

    const embedderSpec = toEmbedderSpec(config.embedder);
    embedder = await createEmbedder(embedderSpec, {
      modelDir: config.modelDir ?? defaultModelDir(),
      cacheDir,
      ...(config.threads ? { threads: config.threads } : {}),
    });
    const layers = resolveLayers(config, embedder, loaded);
    const allClips = dataset.machines.flatMap((m) => [...m.train, ...m.test]);
    const cache = new FeatureCache(cacheDir, {
      embedderId: embedder.id,
      pooling: config.pooling,
      channel: config.channel,
      dim: embedder.dim(config.pooling),
    });
    log(
      `embedder ${embedder.id} (${embedder.provider}), layers ${layers.join(',')}, ${config.pooling} pooling, ${allClips.length} clips`,
    );
    const extracted = await extractFeatures(
      embedder,
      allClips.map((c) => c.path),
      {
        layers,
        pooling: config.pooling,
        channel: config.channel,
        cache,
        batchSize: config.batchSize,
        skipUnreadable: config.dataset.skipUnreadable,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        onProgress: (done, total) =>
          progress({ stage: 'extract', done, total, message: `features ${done}/${total} clips` }),
      },
    );
    const tExtract = performance.now();
    for (const f of extracted.failed) log(`skipped unreadable clip: ${f.reason}`);
    log(`features: ${extracted.hits} clips from cache, ${extracted.extracted} extracted`);

    // Rows of the extracted matrices per clip path (skipped clips have none and leave the dataset).
    const rowOf = new Map<string, number>();
    extracted.kept.forEach((clipIndex, row) => rowOf.set(allClips[clipIndex]!.path, row));
    const machines = dataset.machines.map((m) => ({
      ...m,
      train: m.train.filter((c) => rowOf.has(c.path)),
      test: m.test.filter((c) => rowOf.has(c.path)),
    }));
    const dim = extracted.dim;
    const rowsOf = (clips: readonly Clip[], layerIndex: number): Float32Array => {
      const src = extracted.features[layerIndex]!;
      const out = new Float32Array(clips.length * dim);
      clips.forEach((c, r) => out.set(src.subarray(rowOf.get(c.path)! * dim, (rowOf.get(c.path)! + 1) * dim), r * dim));
      return out;
    };

    const variants = variantsOf(config, log);
    const seeds = config.lowShot ? config.lowShot.seeds : [null];
    const totalCells = machines.length * layers.length * variants.length * seeds.length;
    let doneCells = 0;
    // cells[variant][machine][layer][seed]
    const cells = variants.map(() => machines.map(() => layers.map(() => [] as { cell: CellResult; test: Clip[] }[])));
    for (const [mi, machine] of machines.entries()) {
      for (const [li, layer] of layers.entries()) {
        const testFeatures = rowsOf(machine.test, li);
        for (const seed of seeds) {
          const trainClips = seed === null ? machine.train : sampleTraining(machine, config.lowShot!, seed, loaded);
          const trainFeatures = rowsOf(trainClips, li);
          for (const [vi, variant] of variants.entries()) {
            throwIfCancelled(ctx.signal);
            const cell = await scoreCell({
              machineType: machine.machineType,
              train: trainFeatures,
              trainClips,
              test: testFeatures,
              testClips: machine.test,
              dim,
              layer,
              dn: variant.dn,
              mixup: variant.mixup,
              K_n: config.K_n,
              index: config.index,
              locate: loaded.locate,
            });
            cells[vi]![mi]![li]!.push({ cell, test: machine.test });
            doneCells++;
            progress({
              stage: 'score',
              done: doneCells,
              total: totalCells,
              message: `scoring ${machine.machineType} layer ${layer} (${variantId(variant)})`,
            });
          }
        }
      }
    }
    const tScore = performance.now();

    const selection =
      typeof config.layerSelection === 'string' ? { mode: config.layerSelection } : config.layerSelection;
    const fallbackLayer = selection.layer ?? defaultLayer(config.embedder, layers);
    if (selection.mode === 'fixed' && !layers.includes(fallbackLayer)) {
      throw new GenrepError(
        `${loaded.locate('/layerSelection')}: /layerSelection/layer: layer ${fallbackLayer} is not among the scored layers (${layers.join(', ')})`,
        'BAD_INPUT',
        {
          field: '/layerSelection/layer',
        },
      );
    }
    const summaryStyle = machines.every(
      (m) => m.test.every((c) => c.domain !== undefined) && m.train.every((c) => c.domain !== undefined),
    )
      ? 'dcase2023'
      : 'dcase2020';
    const variantResults: VariantResult[] = variants.map((variant, vi) =>
      assembleVariant(
        variant,
        cells[vi]!,
        machines,
        layers,
        selection.mode,
        fallbackLayer,
        summaryStyle,
        config,
        config.lowShot ? config.lowShot.seeds : null,
      ),
    );

    progress({ stage: 'write', done: 0, total: 1, message: 'writing results' });
    const outputDir = config.output;
    const results: RunResults = {
      schemaVersion: RESULTS_SCHEMA_VERSION,
      name: config.name || path.basename(loaded.file).replace(/\.json$/i, ''),
      config,
      configFile: path.resolve(loaded.file),
      versions: versions(),
      startedAt,
      finishedAt: '',
      embedder: {
        id: embedder.id,
        provider: embedder.provider,
        numLayers: embedder.numLayers,
        dim,
        pooling: config.pooling,
      },
      dataset: {
        root: dataset.root,
        layout: dataset.layout,
        machineTypes: machines.map((m) => m.machineType),
        skipped: [...dataset.skipped, ...extracted.failed],
      },
      cache: { hits: extracted.hits, extracted: extracted.extracted },
      timings: {
        discoverSec: sec(tDiscover - t0),
        extractSec: sec(tExtract - tDiscover),
        scoreSec: sec(tScore - tExtract),
        writeSec: 0,
        totalSec: 0,
      },
      variants: variantResults,
      outputs: [],
    };
    // Everything goes into the staging folder; nothing written records where that is, so the swap moves it intact.
    try {
      const submissionFiles = await writeSubmission(resultSet.dir, variantResults[0]!);
      results.outputs = ['results.json', 'report.html', ...submissionFiles];
      const tWrite = performance.now();
      results.finishedAt = new Date().toISOString();
      results.timings.writeSec = sec(tWrite - tScore);
      results.timings.totalSec = sec(tWrite - t0);
      await writeReport(path.join(resultSet.dir, 'report.html'), results);
      await writeFileAtomic(path.join(resultSet.dir, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
    } catch (err) {
      throw resultSet.inUserTerms(err);
    }
    throwIfCancelled(ctx.signal);
    await resultSet.commit();
    progress({ stage: 'write', done: 1, total: 1, message: 'done' });
    const resultsFile = path.join(outputDir, 'results.json');
    return { results, outputDir, resultsFile, reportFile: path.join(outputDir, 'report.html') };
  } finally {
    await resultSet.abort();
    await embedder?.dispose();
  }
}

async function prepareCache(cacheDir: string, loaded: LoadedConfig): Promise<void> {
  try {
    await FeatureCache.prepare(cacheDir);
  } catch (err) {
    throw loaded.config.cacheDir === undefined ? err : atConfigField(err, loaded, '/cacheDir');
  }
}

/** A folder the config names cannot be used: said at the config's field, so the editor can jump there. */
function atConfigField(err: unknown, loaded: LoadedConfig, field: string): unknown {
  if (!(err instanceof GenrepError)) return err;
  return new GenrepError(`${loaded.locate(field)}: ${field}: ${err.message}`, err.code, {
    ...err.data,
    file: loaded.file,
    field,
  });
}

/** The swap replaces the whole output folder, so a feature cache inside it would be thrown away with the old set. */
function refuseCacheInsideOutput(cacheDir: string, loaded: LoadedConfig): void {
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

function assembleVariant(
  variant: Variant,
  cells: { cell: CellResult; test: Clip[] }[][][],
  machines: MachineSet[],
  layers: number[],
  mode: 'fixed' | 'oracle' | 'validation',
  fallbackLayer: number,
  summaryStyle: 'dcase2023' | 'dcase2020',
  config: RunConfig,
  seeds: number[] | null,
): VariantResult {
  // Low-shot: metrics are averaged over seeds (the paper's Table 4); everything else comes from the first seed.
  const perMachine = new Map<string, Map<number, Metrics | null>>();
  machines.forEach((m, mi) => {
    perMachine.set(
      m.machineType,
      new Map(layers.map((layer, li) => [layer, averageMetrics(cells[mi]![li]!.map((s) => s.cell.metrics))])),
    );
  });
  const chosen = chooseLayers(mode, perMachine, fallbackLayer);
  const machineResults: MachineResult[] = machines.map((m, mi) => {
    const layer = chosen.get(m.machineType)!;
    const first = cells[mi]![layers.indexOf(layer)]![0]!;
    const metrics = perMachine.get(m.machineType)!.get(layer) ?? null;
    return {
      machineType: m.machineType,
      sections: m.sections,
      layers: layers.map((l) => ({ layer: l, metrics: perMachine.get(m.machineType)!.get(l) ?? null })),
      chosenLayer: layer,
      metrics,
      threshold: first.cell.threshold,
      files: fileScores(first.test, first.cell),
      roc: metrics ? rocSet(first.test, first.cell.score) : null,
    };
  });
  const summarise = (ms: (Metrics | null)[]): Metrics | null =>
    ms.every((x): x is Metrics => x !== null) ? toMetrics(summariseMachines(ms.map(fromMetrics), summaryStyle)) : null;
  const perLayer: LayerMetrics[] = layers.map((layer) => ({
    layer,
    metrics: summarise(machines.map((m) => perMachine.get(m.machineType)!.get(layer) ?? null)),
  }));
  return {
    id: variantId(variant),
    dn: variant.dn,
    mixup: variant.mixup,
    K_n: config.K_n,
    layerSelection: mode,
    machines: machineResults,
    seeds,
    overall: summarise(machineResults.map((m) => m.metrics)),
    perLayer,
    summaryStyle,
  };
}

function averageMetrics(list: (Metrics | null)[]): Metrics | null {
  if (list.length === 0 || list.some((m) => m === null)) return null;
  const ms = list as Metrics[];
  if (ms.length === 1) return ms[0]!;
  const mean = (pick: (m: Metrics) => number | null): number | null => {
    const v = ms.map(pick);
    return v.every((x): x is number => x !== null) ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  return {
    auc: mean((m) => m.auc)!,
    pauc: mean((m) => m.pauc)!,
    auc_source: mean((m) => m.auc_source),
    auc_target: mean((m) => m.auc_target),
    official: mean((m) => m.official),
  };
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

export function variantId(v: Variant): string {
  return `dn=${v.dn} mixup=${v.mixup ? `K_s${v.mixup.K_s}` : 'off'}`;
}

/** The config's DN mode(s) with its MemMixup; with `ablation`, also every DN on/off × MemMixup on/off cell. */
function variantsOf(config: RunConfig, log: (line: string) => void): Variant[] {
  const dnModes = Array.isArray(config.dn) ? config.dn : [config.dn];
  const mixup = config.mixup.K_s > 0 ? { K_s: config.mixup.K_s, lambda: config.mixup.lambda } : null;
  const out: Variant[] = dnModes.map((dn) => ({ dn, mixup }));
  if (config.ablation) {
    const dnOn = dnModes.find((d) => d !== 'none') ?? 'transductive';
    const grid: Variant[] = [
      { dn: 'none', mixup: null },
      { dn: 'none', mixup },
      { dn: dnOn, mixup: null },
      { dn: dnOn, mixup },
    ];
    if (!mixup) log('ablation: MemMixup is off in this config (mixup.K_s = 0), so the ablation has no MemMixup column');
    for (const v of grid) if (!out.some((o) => variantId(o) === variantId(v))) out.push(v);
  }
  return out;
}

function resolveLayers(config: RunConfig, embedder: Embedder, loaded: LoadedConfig): number[] {
  if (config.layers === 'all') return Array.from({ length: embedder.numLayers }, (_, i) => i + 1);
  config.layers.forEach((layer, i) => {
    if (layer < 1 || layer > embedder.numLayers) {
      throw new GenrepError(
        `${loaded.locate(`/layers/${i}`)}: /layers/${i}: layer ${layer} does not exist: ${embedder.id} has layers 1..${embedder.numLayers}`,
        'BAD_INPUT',
        { field: `/layers/${i}`, expected: `1..${embedder.numLayers}` },
      );
    }
  });
  return [...config.layers].sort((a, b) => a - b);
}

/** The checkpoint's best single layer from the manifest (4 for beats_ft1, 5 otherwise), else the first scored layer. */
function defaultLayer(embedder: EmbedderConfig, layers: number[]): number {
  const name = typeof embedder === 'string' ? embedder : embedder.kind === 'beats' ? embedder.checkpoint : '';
  const entry = knownModels().get(name) ?? [...knownModels().values()].find((m) => name.endsWith(m.file));
  return entry && layers.includes(entry.bestLayer) ? entry.bestLayer : layers[0]!;
}

export function toEmbedderSpec(embedder: EmbedderConfig): EmbedderSpec | string {
  if (typeof embedder === 'string') return embedder;
  switch (embedder.kind) {
    case 'fbank-stats':
      return { kind: 'fbank-stats' };
    case 'beats':
      return embedder.checkpoint;
    case 'onnx':
      if (!embedder.output || !embedder.input) {
        throw new GenrepError(
          '/embedder: a user ONNX encoder needs "input" (waveform | fbank) and "output" (the output name)',
          'BAD_INPUT',
          { field: '/embedder' },
        );
      }
      return { kind: 'onnx', path: embedder.path, input: embedder.input, output: embedder.output };
  }
}

function versions(): RunResults['versions'] {
  const read = (p: string): string | null => {
    try {
      return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
    } catch {
      return null;
    }
  };
  let ort: string | null = null;
  try {
    ort = read(require.resolve('onnxruntime-node/package.json'));
  } catch {
    ort = null;
  }
  return { genrep: genrepVersion(), node: process.version, onnxruntime: ort };
}

function sec(ms: number): number {
  return Math.round(ms) / 1000;
}

export async function readResults(file: string): Promise<RunResults> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new GenrepError(`${file}: no such results file`, 'NOT_FOUND', { file });
    throw fsError(err, file, { action: 'read', expected: 'a results.json' });
  }
  let parsed: RunResults;
  try {
    parsed = JSON.parse(text) as RunResults;
  } catch {
    throw new GenrepError(
      `${file}: not valid JSON (a results.json is written atomically, so this file was not written by genrep run)`,
      'CORRUPT',
      { file },
    );
  }
  if (parsed.schemaVersion !== RESULTS_SCHEMA_VERSION) {
    throw new GenrepError(
      `${file}: results schemaVersion ${String(parsed.schemaVersion)} is not ${RESULTS_SCHEMA_VERSION}; re-run the experiment with this version`,
      'UNSUPPORTED',
      {
        file,
        field: '/schemaVersion',
      },
    );
  }
  return parsed;
}
