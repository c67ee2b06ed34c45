import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { removeStaleTemps, writeFileAtomic } from '../io/atomicWrite';
import { ensureDir } from '../io/fsErrors';

/**
 * Per-clip features on disk, keyed by content: the sha256 of the audio file's bytes plus everything that could change
 * the features (embedder identity, pooling, channel selection, layer). A renamed or moved clip is still a hit; an
 * edited one is a miss. One small file per (clip, layer) written atomically, so an interrupted or cancelled run
 * leaves only complete entries and the next run resumes where it stopped.
 *
 * Layout: <cacheDir>/features/v1/<sha256(embedder id)[:16]>/<pooling>-ch<channel>/L<layer>/<hash[:2]>/<hash>.f32
 * Each file: `dim` little-endian float32 values. An entry of the wrong size is treated as absent (and rewritten).
 * A killed run leaves a temp file where it was writing an entry; the next run misses that entry and writes into the
 * same folder, and the first write into each folder removes stale temps there, so cleaning costs no walk of the cache.
 *
 * Several processes, on one machine or many (`genrep run --shard`, docs/scale.md), may write one cache at once. Each
 * writes through its own uniquely named temp file and renames it into place, so two writers of one entry (identical
 * bytes, since the key is the content) each replace it whole and a reader sees the entry complete or not at all.
 * Temp names carry the writer's host (`tagHost`), so a leftover from another machine is told stale by age alone and a
 * live remote writer's temp is never removed under it.
 */
export const FEATURE_CACHE_VERSION = 'v1';

export interface FeatureKey {
  embedderId: string;
  pooling: string;
  channel: number | 'mean';
  dim: number;
}

export class FeatureCache {
  private readonly base: string;
  private readonly cleaned = new Set<string>();
  constructor(
    readonly cacheDir: string,
    readonly key: FeatureKey,
  ) {
    const embedder = createHash('sha256').update(key.embedderId).digest('hex').slice(0, 16);
    this.base = path.join(cacheDir, 'features', FEATURE_CACHE_VERSION, embedder, `${key.pooling}-ch${key.channel}`);
  }

  /**
   * Creates the cache folder, so an unusable one (a file, under /dev, unwritable parent) fails before any work.
   * A read-only cache that already holds every entry still works: nothing is written to it.
   */
  static async prepare(cacheDir: string): Promise<void> {
    await ensureDir(cacheDir);
  }

  /** Written once per embedder folder, so a person browsing the cache can tell what each hash folder holds. */
  async describe(): Promise<void> {
    const file = path.join(path.dirname(this.base), 'embedder.json');
    try {
      await fsp.access(file);
    } catch {
      await this.write(file, `${JSON.stringify({ embedderId: this.key.embedderId }, null, 2)}\n`);
    }
  }

  entryPath(contentHash: string, layer: number): string {
    return path.join(this.base, `L${layer}`, contentHash.slice(0, 2), `${contentHash}.f32`);
  }

  async get(contentHash: string, layer: number): Promise<Float32Array | undefined> {
    let bytes: Buffer;
    try {
      bytes = await fsp.readFile(this.entryPath(contentHash, layer));
    } catch {
      return undefined;
    }
    if (bytes.length !== this.key.dim * 4) return undefined;
    const out = new Float32Array(this.key.dim);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }

  async put(contentHash: string, layer: number, features: Float32Array): Promise<void> {
    const bytes = new Uint8Array(features.buffer, features.byteOffset, features.byteLength);
    await this.write(this.entryPath(contentHash, layer), bytes);
    killedByTest();
  }

  private async write(file: string, data: string | Uint8Array): Promise<void> {
    const dir = path.dirname(file);
    if (!this.cleaned.has(dir)) {
      this.cleaned.add(dir);
      await removeStaleTemps(dir);
    }
    try {
      await writeFileAtomic(file, data, { tagHost: true });
    } catch (err) {
      // Another process wrote the same entry meanwhile and a platform refused to rename over it while open (Windows):
      // the entry it left is the one this write would have made.
      if (!(await hasSize(file, typeof data === 'string' ? Buffer.byteLength(data) : data.length))) throw err;
    }
  }
}

async function hasSize(file: string, length: number): Promise<boolean> {
  const stats = await fsp.stat(file).catch(() => undefined);
  return stats?.isFile() === true && stats.size === length;
}

/**
 * Test hook, off unless GENREP_TEST_SIGKILL_AFTER_ENTRIES=n is set: the process kills itself with SIGKILL (no
 * clean-up of any kind) right after writing its n-th entry, as a scheduler pre-empting a shard would. Lets the
 * resume tests kill a shard part-way without racing a timer.
 */
let entriesWritten = 0;
function killedByTest(): void {
  const at = Number(process.env['GENREP_TEST_SIGKILL_AFTER_ENTRIES'] ?? 0);
  if (at > 0 && ++entriesWritten === at) process.kill(process.pid, 'SIGKILL');
}

export function contentHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
