import { promises as fsp } from 'node:fs';
import { decodeWav } from '../audio';
import type { Embedder, Pooling } from '../embedders';
import { GenrepError } from '../errors';
import { errnoCode, fsError } from '../io/fsErrors';
import { contentHash, FeatureCache } from './featureCache';

export interface ExtractOptions {
  layers: number[];
  pooling: Pooling;
  channel: number | 'mean';
  cache: FeatureCache;
  batchSize: number;
  /** Skip clips that cannot be read or decoded (listed in `failed`) instead of stopping. */
  skipUnreadable: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
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
}

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
  const rows: (Float32Array[] | undefined)[] = new Array(paths.length);
  const hashes: (string | undefined)[] = new Array(paths.length);
  const failed: { path: string; reason: string }[] = [];
  const failedIndex = new Set<number>();
  const missing: number[] = [];
  let done = 0;

  const fail = (i: number, err: unknown): void => {
    if (!options.skipUnreadable || !(err instanceof GenrepError) || err.code === 'CANCELLED') throw err;
    failed.push({ path: paths[i]!, reason: err.message });
    failedIndex.add(i);
  };

  // Pass 1: hash every clip and look it up; nothing is decoded for hits.
  for (let i = 0; i < paths.length; i++) {
    throwIfCancelled(options.signal);
    let bytes: Buffer;
    try {
      bytes = await readClipBytes(paths[i]!);
    } catch (err) {
      fail(i, err);
      done++;
      continue;
    }
    const hash = contentHash(bytes);
    hashes[i] = hash;
    const cached = await Promise.all(layers.map((l) => cache.get(hash, l)));
    if (cached.every((c): c is Float32Array => c !== undefined)) {
      rows[i] = cached;
      done++;
    } else {
      missing.push(i);
    }
  }
  const hits = done - failed.length;
  options.onProgress?.(done, paths.length);
  if (missing.length > 0) await cache.describe();

  // Pass 2: decode and embed the misses, one batch at a time, caching each batch as soon as it is computed.
  let extracted = 0;
  for (let start = 0; start < missing.length; start += options.batchSize) {
    throwIfCancelled(options.signal);
    const batch: number[] = [];
    const clips: Float32Array[] = [];
    for (const i of missing.slice(start, start + options.batchSize)) {
      throwIfCancelled(options.signal);
      try {
        const bytes = await readClipBytes(paths[i]!);
        // Only what the embedder uses is decoded: BEATs' first 10 s of a 1-hour file, not the hour.
        const crop = embedder.clipSamples !== undefined ? { maxSamples: embedder.clipSamples } : {};
        clips.push(decodeWav(bytes, paths[i]!, { channel: options.channel, targetSampleRate: 16000, ...crop }).samples);
        batch.push(i);
      } catch (err) {
        fail(i, err);
        done++;
      }
    }
    if (batch.length === 0) continue;
    let out: Float32Array[];
    try {
      out = await embedder.embed(clips, {
        layers,
        pooling: options.pooling,
        batchSize: options.batchSize,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (err) {
      if (err instanceof GenrepError && batch.length === 1)
        throw new GenrepError(`${paths[batch[0]!]}: ${err.message}`, err.code, {
          ...err.data,
          file: paths[batch[0]!]!,
        });
      throw err;
    }
    for (let b = 0; b < batch.length; b++) {
      const i = batch[b]!;
      const perLayer = layers.map((_, li) => out[li]!.slice(b * dim, (b + 1) * dim));
      await Promise.all(perLayer.map((f, li) => cache.put(hashes[i]!, layers[li]!, f)));
      rows[i] = perLayer;
      extracted++;
      done++;
    }
    options.onProgress?.(done, paths.length);
  }

  const kept = paths.map((_, i) => i).filter((i) => !failedIndex.has(i));
  const features = layers.map((_, li) => {
    const m = new Float32Array(kept.length * dim);
    kept.forEach((i, r) => m.set(rows[i]![li]!, r * dim));
    return m;
  });
  return { features, dim, kept, failed, hits, extracted };
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
