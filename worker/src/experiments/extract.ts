import { promises as fsp } from 'node:fs';
import { decodeWav } from '../audio';
import type { Embedder, Pooling } from '../embedders';
import { GenrepError } from '../errors';
import { errnoCode, fsError } from '../io/fsErrors';
import { contentHash, type FeatureCache } from './featureCache';
import { inShard, type Shard } from './shard';
import type { StageTimes } from '../util/stageTimes';

export interface ExtractOptions {
  layers: number[];
  pooling: Pooling;
  channel: number | 'mean';
  cache: FeatureCache;
  batchSize: number;
  /** Skip clips that cannot be read or decoded (listed in `failed`) instead of stopping. */
  skipUnreadable: boolean;
  signal?: AbortSignal;
  /** Only the clips of this shard are read from the cache or extracted; the others are counted in `leftToOthers`. */
  shard?: Shard;
  /** Nothing is extracted: a clip missing from the cache is an error naming the missing clips (`--from-cache`). */
  cachedOnly?: boolean;
  onProgress?: (done: number, total: number) => void;
  /** Where each stage's time is added (`genrep run --profile`). */
  stageTimes?: StageTimes;
}

export interface ExtractResult {
  /** Per requested layer (in `layers` order): row-major [kept clips × dim]. */
  features: Float32Array[];
  dim: number;
  /** Indices into the input paths of the rows in `features` (all of them unless some were skipped). */
  kept: number[];
  failed: { path: string; reason: string }[];
  /** Clips whose every requested layer came from the cache / had to be computed. */
  hits: number;
  extracted: number;
  /** Clips of other shards (with `shard`): not read, not in `kept`. */
  leftToOthers: number;
}

/** How many missing clips a `cachedOnly` error names before it gives only the count. */
const MISSING_NAMED = 10;

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new GenrepError('cancelled', 'CANCELLED');
}

/**
 * Features of `paths` for the requested layers, from the cache where present; the rest are computed in batches and
 * cached as each batch completes, so a cancelled or crashed run keeps what it finished. Cancellation is checked
 * between clips.
 */
export async function extractFeatures(
  embedder: Embedder,
  paths: readonly string[],
  options: ExtractOptions,
): Promise<ExtractResult> {
  const { layers, cache } = options;
  const dim = embedder.dim(options.pooling);
  /** Per input path, its features per layer once read or computed; undefined while missing or when it failed. */
  const rows = Array.from<Float32Array[] | undefined>({ length: paths.length });
  const failed: { path: string; reason: string }[] = [];
  const failedIndex = new Set<number>();
  const othersIndex = new Set<number>();
  const missing: { index: number; file: string; hash: string }[] = [];
  let done = 0;
  const times = options.stageTimes;

  const fail = (index: number, file: string, err: unknown): void => {
    if (!options.skipUnreadable || !(err instanceof GenrepError) || err.code === 'CANCELLED') throw err;
    failed.push({ path: file, reason: err.message });
    failedIndex.add(index);
  };

  // Pass 1: hash every clip and look it up; nothing is decoded for hits.
  for (const [index, file] of paths.entries()) {
    throwIfCancelled(options.signal);
    const lookupStarted = performance.now();
    let bytes: Buffer;
    try {
      bytes = await readClipBytes(file);
    } catch (err) {
      fail(index, file, err);
      done++;
      continue;
    }
    const hash = contentHash(bytes);
    if (options.shard && !inShard(hash, options.shard)) {
      othersIndex.add(index);
      done++;
      continue;
    }
    const cached = await Promise.all(layers.map((l) => cache.get(hash, l)));
    times?.add('lookup', performance.now() - lookupStarted, 1);
    if (cached.every((c): c is Float32Array => c !== undefined)) {
      rows[index] = cached;
      done++;
    } else {
      missing.push({ index, file, hash });
    }
  }
  const hits = done - failed.length - othersIndex.size;
  options.onProgress?.(done, paths.length);
  if (options.cachedOnly && missing.length > 0) throw missingFromCache(missing, paths.length, cache.cacheDir);
  if (missing.length > 0) await cache.describe();

  // Pass 2: decode and embed the misses, one batch at a time, caching each batch as soon as it is computed.
  let extracted = 0;
  for (let start = 0; start < missing.length; start += options.batchSize) {
    throwIfCancelled(options.signal);
    const batch: typeof missing = [];
    const clips: Float32Array[] = [];
    for (const clip of missing.slice(start, start + options.batchSize)) {
      throwIfCancelled(options.signal);
      try {
        const readStarted = performance.now();
        const bytes = await readClipBytes(clip.file);
        const decodeStarted = performance.now();
        times?.add('read', decodeStarted - readStarted, 1);
        // Only what the embedder uses is decoded: BEATs' first 10 s of a 1-hour file, not the hour.
        const crop = embedder.clipSamples !== undefined ? { maxSamples: embedder.clipSamples } : {};
        clips.push(decodeWav(bytes, clip.file, { channel: options.channel, targetSampleRate: 16000, ...crop }).samples);
        times?.add('decode', performance.now() - decodeStarted, 1);
        batch.push(clip);
      } catch (err) {
        fail(clip.index, clip.file, err);
        done++;
      }
    }
    if (batch.length === 0) continue;
    let out: Float32Array[];
    const embedStarted = performance.now();
    const inside = times ? insideEmbed(times) : 0;
    try {
      out = await embedder.embed(clips, {
        layers,
        pooling: options.pooling,
        batchSize: options.batchSize,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(times ? { stageTimes: times } : {}),
      });
      times?.add('embedOther', performance.now() - embedStarted - 1000 * (insideEmbed(times) - inside), batch.length);
    } catch (err) {
      const [only] = batch;
      if (err instanceof GenrepError && batch.length === 1 && only)
        throw new GenrepError(`${only.file}: ${err.message}`, err.code, { ...err.data, file: only.file });
      throw err;
    }
    const outputs = zip(layers, out, `${embedder.id}: layer outputs`);
    for (const [b, clip] of batch.entries()) {
      const perLayer = outputs.map(([layer, matrix]) => ({ layer, features: matrix.slice(b * dim, (b + 1) * dim) }));
      const writeStarted = performance.now();
      await Promise.all(perLayer.map((p) => cache.put(clip.hash, p.layer, p.features)));
      times?.add('cacheWrite', performance.now() - writeStarted, 1);
      rows[clip.index] = perLayer.map((p) => p.features);
      extracted++;
      done++;
    }
    options.onProgress?.(done, paths.length);
  }

  const kept: number[] = [];
  const keptRows: Float32Array[][] = [];
  rows.forEach((perLayer, index) => {
    if (failedIndex.has(index) || othersIndex.has(index)) return;
    if (!perLayer) throw new GenrepError(`extractFeatures: no features for ${paths[index]}`, 'INTERNAL');
    kept.push(index);
    keptRows.push(perLayer);
  });
  const features = layers.map(() => new Float32Array(kept.length * dim));
  keptRows.forEach((perLayer, r) => {
    for (const [matrix, row] of zip(features, perLayer, 'extractFeatures: layers')) matrix.set(row, r * dim);
  });
  return { features, dim, kept, failed, hits, extracted, leftToOthers: othersIndex.size };
}

/** Seconds the embedder has reported for its front-end and encoder so far: embed()'s remainder is the rest. */
function insideEmbed(times: StageTimes): number {
  const { frontEnd, encoder } = times.snapshot();
  return (frontEnd?.seconds ?? 0) + (encoder?.seconds ?? 0);
}

/** `--from-cache` before every shard finished: the first missing clips by name, and how many in all. */
function missingFromCache(missing: readonly { file: string }[], total: number, cacheDir: string): GenrepError {
  const named = missing.slice(0, MISSING_NAMED).map((m) => m.file);
  const more = missing.length > named.length ? ` and ${missing.length - named.length} more` : '';
  return new MissingFeaturesError(
    `${cacheDir}: features of ${missing.length} of ${total} clips are not in the cache: ${named.join(', ')}${more}; ` +
      'run the shards that extract them (genrep run --shard i/n) first',
    missing.length,
    cacheDir,
  );
}

/** `cachedOnly` found clips without features; `--then-score` reads `missing` to tell "other shards still running". */
export class MissingFeaturesError extends GenrepError {
  constructor(
    message: string,
    readonly missing: number,
    cacheDir: string,
  ) {
    super(message, 'NOT_FOUND', { file: cacheDir, expected: 'features of every clip (every shard finished)' });
  }
}

/** Pairs two lists that must be equally long (one entry per requested layer); a mismatch is a bug. */
function zip<A, B>(a: readonly A[], b: readonly B[], what: string): [A, B][] {
  if (a.length !== b.length) throw new GenrepError(`${what}: ${b.length} for ${a.length}`, 'INTERNAL');
  const pairs: [A, B][] = [];
  a.forEach((x, i) => {
    const y = b[i];
    if (y !== undefined) pairs.push([x, y]);
  });
  return pairs;
}

async function readClipBytes(file: string): Promise<Buffer> {
  try {
    return await fsp.readFile(file);
  } catch (err) {
    const error = fsError(err, file, { action: 'read', expected: 'a .wav file' });
    // Discovery listed the clip, so a missing one went away while the run was going.
    if (errnoCode(err) !== 'ENOENT') throw error;
    throw new GenrepError(`${error.message} (was it moved or deleted during the run?)`, error.code, error.data);
  }
}
