import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { fileError, GenrepError } from '../errors';
import { writeFileAtomic } from '../io/atomicWrite';
import { DEFAULT_HNSW, MemoryBanks } from './banks';
import type { BankGroup } from './banks';
import type { BankKind, BankMeta, DnStats, HnswOptions, IndexKind, MixupOptions } from './types';

/**
 * Bank files (`.grbank`): one machine type's memory banks at one layer, so new clips can be scored later without
 * the training audio. Byte layout (docs/scoring.md, "Bank files"), all integers little-endian:
 *
 *   0       8   magic  89 47 52 42 41 4E 4B 0A  ("\x89GRBANK\n": catches text-mode transfers and non-bank files)
 *   8       4   uint32 format version (1)
 *   12      4   uint32 H = byte length of the JSON header (UTF-8, space-padded so 16 + H is a multiple of 16)
 *   16      H   JSON header (BankFileHeader)
 *   16+H    4·rows·dim   float32 training rows, row-major, in the original row order
 *   end−32  32  SHA-256 of every byte before it
 *
 * MemMixup rows are not stored: they are rebuilt from the rows and the header's K_s and λ on load.
 */

export const BANK_MAGIC = Uint8Array.from([0x89, 0x47, 0x52, 0x42, 0x41, 0x4e, 0x4b, 0x0a]);
export const BANK_FORMAT_VERSION = 1;
const PREFIX = 16;
const DIGEST = 32;

export interface BankFileHeader {
  format: 'genrep-bank';
  embedder: string | null;
  layer: number | null;
  pooling: string | null;
  dim: number;
  dtype: 'float32';
  kind: BankKind;
  /** Bank names in group order: ['source', 'target'], the section IDs, or ['all']. */
  groups: string[];
  /** Row → group as runs [groupIndex, count] in row order. */
  rowGroups: [number, number][];
  /** rows, rows per bank name, augmented (MemMixup) rows. */
  counts: Record<string, number>;
  kn: number;
  mixup: MixupOptions | null;
  index: IndexKind;
  hnsw: HnswOptions;
  /** Inductive DN statistics computed before saving, per K_n (so loading does not need the leave-one-out pass). */
  inductiveStats?: { kn: number; banks: Record<string, DnStats> }[];
}

function runs(rowGroup: Int32Array): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < rowGroup.length; i++) {
    const last = out[out.length - 1];
    if (last && last[0] === rowGroup[i]) last[1]++;
    else out.push([rowGroup[i], 1]);
  }
  return out;
}

export function bankHeader(bank: MemoryBanks, meta: BankMeta = {}): BankFileHeader {
  const m = { ...bank.meta, ...meta };
  const header: BankFileHeader = {
    format: 'genrep-bank',
    embedder: m.embedder ?? null,
    layer: m.layer ?? null,
    pooling: m.pooling ?? null,
    dim: bank.dim,
    dtype: 'float32',
    kind: bank.kind,
    groups: bank.groups.map((g) => g.name),
    rowGroups: runs(bank.rowGroup),
    counts: bank.counts(),
    kn: bank.kn,
    mixup: bank.mixupGroup >= 0 ? bank.mixupOptions : null,
    index: bank.index,
    hnsw: bank.hnswOptions,
  };
  const inductive = [...bank.cache.inductive.values()].map((ind) => ({
    kn: ind.kn,
    banks: Object.fromEntries(bank.groups.flatMap((g, i) => (bank.bankSize(i) > 0 ? [[g.name, ind.stats[i]] as const] : []))),
  }));
  if (inductive.length > 0) header.inductiveStats = inductive;
  return header;
}

export function encodeBank(bank: MemoryBanks, meta: BankMeta = {}): Uint8Array {
  let json = Buffer.from(JSON.stringify(bankHeader(bank, meta)), 'utf8');
  const pad = (16 - ((PREFIX + json.length) % 16)) % 16;
  if (pad > 0) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const dataBytes = bank.features.byteLength;
  const out = new Uint8Array(PREFIX + json.length + dataBytes + DIGEST);
  out.set(BANK_MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, BANK_FORMAT_VERSION, true);
  view.setUint32(12, json.length, true);
  out.set(json, PREFIX);
  out.set(new Uint8Array(bank.features.buffer, bank.features.byteOffset, dataBytes), PREFIX + json.length); // little-endian hosts
  const digest = createHash('sha256').update(out.subarray(0, out.length - DIGEST)).digest();
  out.set(digest, out.length - DIGEST);
  return out;
}

/** Writes the bank atomically (a reader never sees a partial file). */
export async function saveBank(file: string, bank: MemoryBanks, meta: BankMeta = {}): Promise<void> {
  await writeFileAtomic(file, encodeBank(bank, meta));
}

/** What the caller expects a bank to hold; any field given must match the header. */
export interface ExpectedBank extends BankMeta {
  dim?: number;
}

/**
 * Reads a bank file, verifying its checksum and header; with `expected`, also that it was built from the same
 * embedder / layer / pooling / dimension as the features about to be scored.
 */
export async function loadBank(file: string, expected: ExpectedBank = {}): Promise<MemoryBanks> {
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw fileError(file, 'no such bank file', 'NOT_FOUND');
    if (code === 'EISDIR') throw fileError(file, 'is a directory, expected a bank file');
    throw err;
  }
  const bank = decodeBank(bytes, file);
  checkExpected(bank, expected, file);
  return bank;
}

export function checkExpected(bank: MemoryBanks, expected: ExpectedBank, file: string): void {
  const actual: Record<string, unknown> = { ...bank.meta, dim: bank.dim };
  for (const key of ['embedder', 'layer', 'pooling', 'dim'] as const) {
    const want = expected[key];
    if (want === undefined || want === null) continue;
    if (actual[key] !== want) {
      throw fileError(file, `the bank was built with ${key} ${JSON.stringify(actual[key] ?? null)}, but ${JSON.stringify(want)} is expected`, 'BAD_INPUT', {
        field: key,
        expected: String(want),
      });
    }
  }
}

function corrupt(file: string, problem: string, field?: string): GenrepError {
  return fileError(file, problem, 'CORRUPT', field ? { field } : {});
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

export function decodeBank(bytes: Uint8Array, file = '<bank>'): MemoryBanks {
  if (bytes.length < PREFIX || !BANK_MAGIC.every((b, i) => bytes[i] === b)) {
    throw fileError(file, 'not a GenRep bank file (magic \\x89GRBANK\\n missing)', 'BAD_INPUT', { expected: 'a .grbank file' });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== BANK_FORMAT_VERSION) throw fileError(file, `bank format version ${version} is not supported (this build reads ${BANK_FORMAT_VERSION})`, 'UNSUPPORTED', { field: 'version' });
  const headerLength = view.getUint32(12, true);
  if (PREFIX + headerLength + DIGEST > bytes.length) {
    throw corrupt(file, `truncated: the header alone needs ${PREFIX + headerLength + DIGEST} bytes, the file has ${bytes.length}`, 'header');
  }
  let header: BankFileHeader;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(PREFIX, PREFIX + headerLength)).toString('utf8')) as BankFileHeader;
  } catch {
    throw corrupt(file, 'the JSON header is unreadable', 'header');
  }
  if (typeof header !== 'object' || header === null || header.format !== 'genrep-bank') throw corrupt(file, "header 'format' is not 'genrep-bank'", 'format');
  if (!isCount(header.dim) || header.dim === 0) throw corrupt(file, `header 'dim' must be a positive integer, got ${JSON.stringify(header.dim)}`, 'dim');
  if (header.dtype !== 'float32') throw corrupt(file, `header 'dtype' must be 'float32', got ${JSON.stringify(header.dtype)}`, 'dtype');
  const rows = header.counts?.rows;
  if (!isCount(rows) || rows === 0) throw corrupt(file, "header 'counts.rows' must be a positive integer", 'counts.rows');
  const expected = PREFIX + headerLength + rows * header.dim * 4 + DIGEST;
  if (bytes.length < expected) throw corrupt(file, `truncated: ${rows} rows × ${header.dim} float32 need a ${expected}-byte file, it has ${bytes.length} bytes`, 'data');
  if (bytes.length > expected) throw corrupt(file, `${bytes.length - expected} unexpected bytes after the data (expected ${expected} bytes)`, 'data');
  const digest = createHash('sha256').update(bytes.subarray(0, expected - DIGEST)).digest();
  if (!digest.equals(Buffer.from(bytes.subarray(expected - DIGEST)))) {
    throw corrupt(file, 'checksum mismatch: the file is corrupt (SHA-256 of its contents does not match the one stored)', 'sha256');
  }

  // The checksum vouches for the bytes; these checks catch files written by something other than saveBank.
  const kinds: BankKind[] = ['domain', 'section', 'pooled'];
  if (!kinds.includes(header.kind)) throw corrupt(file, `header 'kind' must be one of ${kinds.join(', ')}`, 'kind');
  if (!Array.isArray(header.groups) || header.groups.some((g) => typeof g !== 'string')) throw corrupt(file, "header 'groups' must be a list of names", 'groups');
  const rowGroup = new Int32Array(rows);
  let r = 0;
  for (const run of Array.isArray(header.rowGroups) ? header.rowGroups : []) {
    if (!Array.isArray(run) || !isCount(run[0]) || !isCount(run[1]) || run[0] >= header.groups.length || r + run[1] > rows) {
      throw corrupt(file, "header 'rowGroups' is malformed", 'rowGroups');
    }
    rowGroup.fill(run[0], r, r + run[1]);
    r += run[1];
  }
  if (r !== rows) throw corrupt(file, `header 'rowGroups' covers ${r} rows, 'counts.rows' says ${rows}`, 'rowGroups');
  const members: number[][] = header.groups.map(() => []);
  for (let i = 0; i < rows; i++) members[rowGroup[i]].push(i);
  const groups: BankGroup[] = header.groups.map((name, g) => ({ name, rows: Int32Array.from(members[g]) }));
  for (const g of groups) {
    if (header.counts[g.name] !== g.rows.length) throw corrupt(file, `header 'counts.${g.name}' is ${header.counts[g.name]}, the rows say ${g.rows.length}`, `counts.${g.name}`);
  }
  if (header.kind === 'domain' && (header.groups.length !== 2 || header.groups[0] !== 'source' || header.groups[1] !== 'target')) {
    throw corrupt(file, "a domain bank's groups must be ['source', 'target']", 'groups');
  }
  if (!isCount(header.kn) || header.kn === 0) throw corrupt(file, "header 'kn' must be a positive integer", 'kn');
  const mixup = header.mixup ?? null;
  if (mixup !== null && (!isCount(mixup.ks) || mixup.ks === 0 || !(mixup.lambda >= 0 && mixup.lambda <= 1) || header.kind !== 'domain')) {
    throw corrupt(file, "header 'mixup' must hold a positive integer 'ks' and 'lambda' in [0, 1] on a domain bank", 'mixup');
  }
  if (mixup !== null && mixup.ks > groups[0].rows.length) throw corrupt(file, `header 'mixup.ks' = ${mixup.ks} exceeds the ${groups[0].rows.length} source rows`, 'mixup.ks');
  const index: IndexKind = header.index === 'hnsw' ? 'hnsw' : 'exact';

  const data = new Float32Array(rows * header.dim);
  new Uint8Array(data.buffer).set(bytes.subarray(PREFIX + headerLength, expected - DIGEST));
  const meta: BankMeta = { embedder: header.embedder ?? null, layer: header.layer ?? null, pooling: header.pooling ?? null };
  const bank = new MemoryBanks(
    header.kind,
    data,
    header.dim,
    groups,
    rowGroup,
    header.kn,
    mixup && groups[1].rows.length > 0 ? { ks: mixup.ks, lambda: mixup.lambda } : null,
    index,
    { ...DEFAULT_HNSW, ...header.hnsw },
    meta,
    file,
  );
  if (mixup !== null && header.counts.augmented !== bank.counts().augmented) {
    throw corrupt(file, `header 'counts.augmented' is ${header.counts.augmented}, K_s and the target rows give ${bank.counts().augmented}`, 'counts.augmented');
  }
  for (const entry of header.inductiveStats ?? []) {
    if (!isCount(entry.kn)) continue;
    const stats = groups.map((g) => entry.banks?.[g.name] ?? { mean: NaN, std: NaN });
    bank.cache.inductive.set(entry.kn, { kn: entry.kn, stats, looDistances: [] });
  }
  return bank;
}
