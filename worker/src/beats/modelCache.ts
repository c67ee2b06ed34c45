import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../io/atomicWrite';
import { fsError } from '../io/fsErrors';
import { readBeatsCheckpoint } from './beatsCheckpoint';
import type { BeatsConfig } from './config';
import type { BeatsWeights } from './convert';
import { convertBeats, validateBeats } from './convert';
import type { BeatsGraphOptions } from './graph';
import { BEATS_GRAPH_VERSION } from './graph';

/** Hex SHA-256 of a file, streamed (a BEATs checkpoint is 344 MiB). */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  } catch (err) {
    throw fsError(err, file, { action: 'read', expected: 'a checkpoint file' });
  }
  return hash.digest('hex');
}

interface Sha256Memo {
  file: string;
  dev: string;
  ino: string;
  size: string;
  mtimeNs: string;
  ctimeNs: string;
  sha256: string;
}

/** A file whose timestamps are this close to now could still change within the same timestamp tick. */
const RACY_NS = 3_000_000_000n;

/**
 * The file's identity and timestamps, in nanoseconds: any write changes ctime (which no user call can set back),
 * so equal fields mean equal content — the test git and make rely on.
 */
async function statKey(file: string): Promise<Omit<Sha256Memo, 'sha256'>> {
  const st = await fsp.stat(file, { bigint: true });
  return {
    file,
    dev: String(st.dev),
    ino: String(st.ino),
    size: String(st.size),
    mtimeNs: String(st.mtimeNs),
    ctimeNs: String(st.ctimeNs),
  };
}

/**
 * sha256File, remembered under `memoDir` by the file's resolved path, identity, size and nanosecond timestamps, so
 * a repeated job skips re-reading a 344 MiB checkpoint (0.3 s from the page cache, ~1 s from disk). The memo is
 * only written when the file did not change while it was read and its timestamps are not within a few seconds of
 * now (a write in the same timestamp tick would be invisible); an absent, unreadable or stale memo means hashing.
 */
export async function sha256FileMemo(file: string, memoDir: string, racyNs = RACY_NS): Promise<string> {
  let resolved: string;
  let before: Omit<Sha256Memo, 'sha256'>;
  try {
    resolved = await fsp.realpath(file);
    before = await statKey(resolved);
  } catch {
    return sha256File(file); // names the problem the way every other reader of the checkpoint does
  }
  const memoFile = path.join(memoDir, `${createHash('sha256').update(resolved).digest('hex')}.json`);
  try {
    const memo = JSON.parse(await fsp.readFile(memoFile, 'utf8')) as Partial<Sha256Memo>;
    const same = (Object.keys(before) as Array<keyof typeof before>).every((k) => memo[k] === before[k]);
    if (same && typeof memo.sha256 === 'string' && /^[0-9a-f]{64}$/.test(memo.sha256)) return memo.sha256;
  } catch {
    // no memo yet, or unreadable: hash below
  }
  const sha256 = await sha256File(resolved);
  try {
    const after = await statKey(resolved);
    const now = BigInt(Date.now()) * 1_000_000n;
    const unchanged = (Object.keys(before) as Array<keyof typeof before>).every((k) => after[k] === before[k]);
    if (unchanged && now - BigInt(after.mtimeNs) >= racyNs && now - BigInt(after.ctimeNs) >= racyNs) {
      await writeFileAtomic(memoFile, JSON.stringify({ ...after, sha256 }) + '\n');
    }
  } catch {
    // a memo that cannot be written only costs the next job one hash
  }
  return sha256;
}

/** Where remembered model sha256s live in a cache folder: one place for every embedder keyed by a model's hash. */
export function sha256MemoDir(cacheDir: string): string {
  return path.join(cacheDir, 'beats', 'sha256-memo');
}

/** A model file's sha256, remembered in the cache folder when the caller has one (sha256FileMemo). */
export function modelSha256(file: string, cacheDir: string | undefined): Promise<string> {
  return cacheDir === undefined ? sha256File(file) : sha256FileMemo(file, sha256MemoDir(cacheDir));
}

/** File name of one converted graph: everything that changes the graph is in it, so a hit is always valid. */
export function convertedFileName(options: BeatsGraphOptions): string {
  return `layers-${options.layers.join('_')}.${options.output}.${options.quantize ?? 'fp32'}.g${BEATS_GRAPH_VERSION}.onnx`;
}

interface ArchRecord {
  graphVersion: number;
  config: BeatsConfig;
  unknownCfgKeys: string[];
}

/**
 * Converted BEATs graphs on disk, under <cacheDir>/beats/<checkpoint sha256>/. The checkpoint is read (and
 * validated) only when a graph is missing; `arch.json` remembers its validated configuration so later runs know
 * the model's depth and widths without reading 344 MiB. Files are written atomically, so concurrent runs at worst
 * convert twice.
 */
export class BeatsModelCache {
  private weights: BeatsWeights | undefined;
  private arch: ArchRecord | undefined;

  private constructor(
    readonly checkpointFile: string,
    readonly sha256: string,
    readonly dir: string,
  ) {}

  static async open(checkpointFile: string, cacheDir: string): Promise<BeatsModelCache> {
    const sha256 = await sha256FileMemo(checkpointFile, sha256MemoDir(cacheDir));
    return new BeatsModelCache(checkpointFile, sha256, path.join(cacheDir, 'beats', sha256));
  }

  private async loadWeights(): Promise<BeatsWeights> {
    if (!this.weights) {
      const { checkpoint } = await readBeatsCheckpoint(this.checkpointFile);
      const { cfg, cfgFloatKeys, tensors } = checkpoint;
      this.weights = { file: this.checkpointFile, cfg, cfgFloatKeys, tensors, sha256: this.sha256 };
    }
    return this.weights;
  }

  /** The validated configuration; reads and checks the checkpoint the first time this cache directory is used. */
  async config(): Promise<BeatsConfig> {
    if (this.arch) return this.arch.config;
    const archFile = path.join(this.dir, 'arch.json');
    try {
      const record = JSON.parse(await fsp.readFile(archFile, 'utf8')) as ArchRecord;
      if (record.graphVersion === BEATS_GRAPH_VERSION && record.config) {
        this.arch = record;
        return record.config;
      }
    } catch {
      // absent or unreadable: rebuild it from the checkpoint below
    }
    const { config, unknownCfgKeys } = validateBeats(await this.loadWeights());
    this.arch = { graphVersion: BEATS_GRAPH_VERSION, config, unknownCfgKeys };
    await writeFileAtomic(archFile, JSON.stringify(this.arch, null, 2) + '\n');
    return config;
  }

  /** Path of the converted graph for these options, converting (once) if it is not cached yet. */
  async modelPath(options: BeatsGraphOptions): Promise<string> {
    const file = path.join(this.dir, convertedFileName(options));
    try {
      await fsp.access(file);
      return file;
    } catch {
      // not converted yet
    }
    const { parts } = convertBeats(await this.loadWeights(), options);
    await writeFileAtomic(file, parts);
    return file;
  }

  /** Drops the checkpoint's tensors once every graph needed is on disk. */
  releaseWeights(): void {
    this.weights = undefined;
  }
}
