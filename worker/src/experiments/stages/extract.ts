import type { LoadedConfig } from '../../config/loadConfig';
import type { Clip, Dataset, MachineSet } from '../../datasets';
import type { Embedder } from '../../embedders';
import { GenrepError } from '../../errors';
import type { RunConfig } from '../../protocol/runConfig';
import type { Settings } from '../../settings';
import { atConfigField } from '../configField';
import { extractFeatures } from '../extract';
import { FeatureCache } from '../featureCache';
import type { RunProgress } from '../runContext';
import type { Shard } from '../shard';
import type { StageTimes } from '../../util/stageTimes';

/** Creates the cache folder first, so an unusable one fails before any work (said at /cacheDir if the config set it). */
export async function prepareCache(loaded: LoadedConfig, cacheDir: string): Promise<void> {
  try {
    await FeatureCache.prepare(cacheDir);
  } catch (err) {
    throw loaded.config.cacheDir === undefined ? err : atConfigField(err, loaded, '/cacheDir');
  }
}

export interface ExtractStage {
  loaded: LoadedConfig;
  settings: Settings;
  dataset: Dataset;
  embedder: Embedder;
  signal: AbortSignal | undefined;
  progress: (p: RunProgress) => void;
  log: (line: string) => void;
  /**
   * Set for an embedder after the first of a list (its JSON pointer): it adds a layer sweep only, so it is scored at
   * the listed layers it has (`"all"`: its own) rather than refused for the ones it lacks.
   */
  sweepOnly?: string;
  /** `genrep run --shard i/n`: only this shard's clips (the rows and `machines` then hold only those). */
  shard?: Shard;
  /** `genrep run --from-cache`: nothing is extracted; a missing clip is an error naming it. */
  cachedOnly?: boolean;
  stageTimes?: StageTimes | undefined;
}

/** What the scoring grid reads: every kept clip's features at every scored layer. */
export interface RunFeatures {
  /** The scored layers, ascending. */
  layers: number[];
  dim: number;
  /** The dataset's machine types without the clips that were skipped as unreadable. */
  machines: MachineSet[];
  /** The features of `clips` (kept clips) at `layer`, row-major [clips × dim] in the order given. */
  rows(clips: readonly Clip[], layer: number): Float32Array;
  /** Clips read from the cache / computed. */
  hits: number;
  extracted: number;
  /** Clips of other shards (with `shard`). */
  leftToOthers: number;
  /** Clips skipped as unreadable (with `dataset.skipUnreadable`). */
  failed: { path: string; reason: string }[];
}

/**
 * Stage 2: features of every clip at every scored layer, from the content-keyed cache where present (featureCache.ts);
 * unreadable clips leave the dataset when the config allows it.
 */
export async function extract(stage: ExtractStage): Promise<RunFeatures> {
  const { loaded, settings, dataset, embedder, signal, progress, log } = stage;
  const { config } = loaded;
  const layers =
    stage.sweepOnly === undefined
      ? resolveLayers(config, embedder, loaded)
      : sweepLayers(config, embedder, loaded, stage.sweepOnly);
  const allClips = dataset.machines.flatMap((m) => [...m.train, ...m.test]);
  const cache = new FeatureCache(settings.cacheDir, {
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
      ...(signal ? { signal } : {}),
      ...(stage.shard ? { shard: stage.shard } : {}),
      ...(stage.cachedOnly ? { cachedOnly: true } : {}),
      ...(stage.stageTimes ? { stageTimes: stage.stageTimes } : {}),
      onProgress: (done, total) =>
        progress({ stage: 'extract', done, total, message: `features ${done}/${total} clips` }),
    },
  );
  for (const f of extracted.failed) log(`skipped unreadable clip: ${f.reason}`);
  const others = stage.shard ? `, ${extracted.leftToOthers} left to other shards` : '';
  log(`features: ${extracted.hits} clips from cache, ${extracted.extracted} extracted${others}`);

  // Rows of the extracted matrices per clip path (skipped clips have none and leave the dataset).
  const rowOf = new Map<string, number>();
  extracted.kept.forEach((clipIndex, row) => rowOf.set(clipAt(allClips, clipIndex).path, row));
  const { dim } = extracted;
  const rowOfClip = (c: Clip): number => rowOf.get(c.path) ?? internal(`no feature row for ${c.path}`);
  return {
    layers,
    dim,
    machines: dataset.machines.map((m) => ({
      ...m,
      train: m.train.filter((c) => rowOf.has(c.path)),
      test: m.test.filter((c) => rowOf.has(c.path)),
    })),
    rows: (clips, layer) => {
      const src = extracted.features[layers.indexOf(layer)] ?? internal(`layer ${layer} was not extracted`);
      const out = new Float32Array(clips.length * dim);
      clips.forEach((c, r) => {
        const row = rowOfClip(c);
        out.set(src.subarray(row * dim, (row + 1) * dim), r * dim);
      });
      return out;
    },
    hits: extracted.hits,
    extracted: extracted.extracted,
    leftToOthers: extracted.leftToOthers,
    failed: extracted.failed,
  };
}

/** `layers: "all"` or the config's list (checked against the embedder's depth), ascending. */
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

/** The listed layers an embedder of the sweep has (all of its own for `"all"`), ascending; refused if none. */
function sweepLayers(config: RunConfig, embedder: Embedder, loaded: LoadedConfig, at: string): number[] {
  if (config.layers === 'all') return Array.from({ length: embedder.numLayers }, (_, i) => i + 1);
  const layers = config.layers.filter((l) => l >= 1 && l <= embedder.numLayers).sort((a, b) => a - b);
  if (layers.length === 0) {
    throw new GenrepError(
      `${loaded.locate(at)}: ${at}: none of the layers (${config.layers.join(', ')}) exists in ${embedder.id}, which has layers 1..${embedder.numLayers}`,
      'BAD_INPUT',
      { field: at, expected: `1..${embedder.numLayers}` },
    );
  }
  return layers;
}

function clipAt(clips: readonly Clip[], index: number): Clip {
  return clips[index] ?? internal(`extractFeatures kept clip ${index} of ${clips.length}`);
}

function internal(what: string): never {
  throw new GenrepError(`run: ${what}`, 'INTERNAL');
}
