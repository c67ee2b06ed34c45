import { createHash, type Hash } from 'node:crypto';
import { fileError, GenrepError } from '../errors';
import { writeFileAtomic } from '../io/atomicWrite';
import { openRegularFile, READ_CHUNK_BYTES, readFully, type OpenFile } from '../io/regularFile';
import type { BankFileHeader, BankFileMixup } from '../protocol/bankHeader';
import type { DnStats, MemMixup } from '../protocol/vocabulary';
import { at } from '../util/at';
import { MemoryBanks } from './banks';
import { bankNameProblem, checkHeaderContent, checkHeaderLayout, type CheckedHeader } from './bankHeaderCheck';
import type { BankMeta } from './types';
import { finiteSquaredNorms } from './validate';
// Kept for experiments/banks.ts, which takes the header type from the scoring index.
export type { BankFileHeader } from '../protocol/bankHeader';

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
 * MemMixup rows are not stored: they are rebuilt from the rows and the header's K_s and λ on load. Reading trusts
 * nothing in the file: every length is checked against the file's size before anything is allocated, and every
 * header field is range-checked (bankHeaderCheck.ts) before it reaches the scoring code or hnswlib-node.
 */

export const BANK_MAGIC = Uint8Array.from([0x89, 0x47, 0x52, 0x42, 0x41, 0x4e, 0x4b, 0x0a]);
export const BANK_FORMAT_VERSION = 1;
const PREFIX = 16;
const DIGEST = 32;
/**
 * Largest header accepted. A saved header is a few hundred bytes plus ~8 per run of rows of one bank, so even a
 * million alternating section rows stay far below it.
 */
const MAX_HEADER_BYTES = 64 * 1024 * 1024;

/**
 * MemMixup as format 1 writes it: K_s spelled `ks`, the keys in this order, so files stay byte-identical to those
 * written before the vocabulary was renamed (bankHeaderCheck.ts reads it back into a MemMixup).
 */
export function bankFileMixup(mixup: MemMixup): BankFileMixup {
  return { ks: mixup.K_s, lambda: mixup.lambda };
}

function runs(rowGroup: Int32Array): [number, number][] {
  const out: [number, number][] = [];
  for (const g of rowGroup) {
    const last = out.at(-1);
    if (last && last[0] === g) last[1]++;
    else out.push([g, 1]);
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
    // Written only when known, so banks without them keep the header (and bytes) they always had.
    ...(typeof m.machineType === 'string' ? { machineType: m.machineType } : {}),
    ...(typeof m.section === 'string' ? { section: m.section } : {}),
    dim: bank.dim,
    dtype: 'float32',
    kind: bank.kind,
    groups: bank.groups.map((g) => g.name),
    rowGroups: runs(bank.rowGroup),
    counts: bank.counts(),
    kn: bank.kn,
    mixup: bank.mixupGroup >= 0 && bank.mixupOptions ? bankFileMixup(bank.mixupOptions) : null,
    index: bank.index,
    hnsw: bank.hnswOptions,
  };
  // Statistics that inductive DN would refuse (zero spread) are left out rather than saved.
  const usable = (ind: { stats: DnStats[] }): boolean =>
    bank.groups.every((_, i) => {
      if (bank.bankSize(i) === 0) return true;
      const { mean, std } = at(ind.stats, i, 'inductive statistics');
      return mean >= 0 && Number.isFinite(mean) && std > 0 && Number.isFinite(std);
    });
  const inductive = [...bank.cache.inductive.values()].filter(usable).map((ind) => ({
    kn: ind.kn,
    banks: Object.fromEntries(
      bank.groups.flatMap((g, i) =>
        bank.bankSize(i) > 0 ? [[g.name, at(ind.stats, i, 'inductive statistics')] as const] : [],
      ),
    ),
  }));
  if (inductive.length > 0) header.inductiveStats = inductive;
  // Last, and only for banks built from a dataset, so every other bank keeps the bytes it always had.
  if (m.rowNames && m.rowNames.length === bank.rows) {
    header.rowNames = m.rowNames;
    const table = bank.mixupGroup >= 0 ? bank.mixup : null;
    if (table) {
      header.mixupRows = Array.from(table.sources, (s, a): [number, number] => [
        at(table.targets, Math.floor(a / table.K_s), 'MemMixup targets'),
        s,
      ]);
    }
  }
  return header;
}

export function encodeBank(bank: MemoryBanks, meta: BankMeta = {}): Uint8Array {
  checkSavable(bank);
  const text = JSON.stringify(bankHeader(bank, meta));
  checkReadsBack(text);
  let json = Buffer.from(text, 'utf8');
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
  const digest = createHash('sha256')
    .update(out.subarray(0, out.length - DIGEST))
    .digest();
  out.set(digest, out.length - DIGEST);
  return out;
}

/**
 * The header about to be written, read back as loadBank will read it: whatever a bank built through the API holds
 * (a negative layer, a dimension beyond MAX_BANK_DIM), no file is written that would then be refused.
 */
function checkReadsBack(text: string): void {
  const where = 'the bank being saved';
  try {
    const header = JSON.parse(text) as Record<string, unknown>;
    const { rows, dim } = checkHeaderLayout(header, where);
    checkHeaderContent(header, rows, dim, where);
  } catch (err) {
    if (!(err instanceof GenrepError)) throw err;
    throw new GenrepError(`cannot save the bank, it would not read back: ${err.message}`, 'BAD_INPUT', {
      field: err.data.field,
    });
  }
}

/**
 * Refuses banks whose names could not be read back from a file (see RESERVED_BANK_NAMES), before anything is
 * written or computed.
 */
export function checkSavable(bank: MemoryBanks, file?: string): void {
  for (const g of bank.groups) {
    const problem = bankNameProblem(g.name);
    if (problem) {
      const message = `cannot save the bank: ${problem}`;
      throw file !== undefined
        ? fileError(file, message, 'BAD_INPUT', { field: 'groups' })
        : new GenrepError(message, 'BAD_INPUT', { field: 'groups' });
    }
  }
}

/** Writes the bank atomically (a reader never sees a partial file). */
export async function saveBank(file: string, bank: MemoryBanks, meta: BankMeta = {}): Promise<void> {
  checkSavable(bank, file);
  await writeFileAtomic(file, encodeBank(bank, meta));
}

/** What the caller expects a bank to hold; any field given must match the header. */
export interface ExpectedBank extends BankMeta {
  dim?: number;
}

/**
 * Reads a bank file, verifying its checksum and header; with `expected`, also that it was built from the same
 * embedder / layer / pooling / dimension as the features about to be scored. The file is read in pieces: the
 * header first, checked against the file's size, then the rows straight into their array while hashing, so
 * memory stays at the rows' size and files over 2 GiB read like any other.
 */
export async function loadBank(file: string, expected: ExpectedBank = {}): Promise<MemoryBanks> {
  const open = await openRegularFile(file, 'a .grbank bank file');
  let bank: MemoryBanks;
  try {
    bank = await readOpenBank(open, file);
  } finally {
    await open.handle.close().catch(() => undefined);
  }
  checkExpected(bank, expected, file);
  return bank;
}

export function checkExpected(bank: MemoryBanks, expected: ExpectedBank, file: string): void {
  const actual: Record<string, unknown> = { ...bank.meta, dim: bank.dim };
  for (const key of ['embedder', 'layer', 'pooling', 'dim'] as const) {
    const want = expected[key];
    if (want === undefined || want === null) continue;
    if (actual[key] !== want) {
      const built = JSON.stringify(actual[key] ?? null);
      const problem = `the bank was built with ${key} ${built}, but ${JSON.stringify(want)} is expected`;
      throw fileError(file, problem, 'BAD_INPUT', { field: key, expected: String(want) });
    }
  }
}

function corrupt(file: string, problem: string, field?: string): GenrepError {
  return fileError(file, problem, 'CORRUPT', field ? { field } : {});
}

/** Magic, version and header length from the first 16 bytes, the length checked against the file's size. */
function readPrefix(prefix: Uint8Array, fileSize: number, file: string): number {
  if (prefix.length < PREFIX || !BANK_MAGIC.every((b, i) => prefix[i] === b)) {
    throw fileError(file, 'not a GenRep bank file (magic \\x89GRBANK\\n missing)', 'BAD_INPUT', {
      expected: 'a .grbank file',
    });
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const version = view.getUint32(8, true);
  if (version !== BANK_FORMAT_VERSION) {
    const problem = `bank format version ${version} is not supported (this build reads ${BANK_FORMAT_VERSION})`;
    throw fileError(file, problem, 'UNSUPPORTED', { field: 'version' });
  }
  const headerLength = view.getUint32(12, true);
  if (PREFIX + headerLength + DIGEST > fileSize) {
    throw corrupt(
      file,
      `truncated: the header alone needs ${PREFIX + headerLength + DIGEST} bytes, the file has ${fileSize}`,
      'header',
    );
  }
  if (headerLength > MAX_HEADER_BYTES) {
    throw corrupt(
      file,
      `header length ${headerLength} exceeds the ${MAX_HEADER_BYTES} bytes a header may have`,
      'header',
    );
  }
  return headerLength;
}

interface Layout {
  header: Record<string, unknown>;
  rows: number;
  dim: number;
  dataStart: number;
  /** The file size the header implies. */
  size: number;
}

/** Parses the header and checks that the file has exactly the size it implies (nothing allocated beyond the header). */
function readLayout(headerBytes: Uint8Array, fileSize: number, file: string): Layout {
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(headerBytes).toString('utf8'));
  } catch (err) {
    throw corrupt(
      file,
      `the JSON header is unreadable (${err instanceof Error ? err.message : String(err)})`,
      'header',
    );
  }
  const { rows, dim } = checkHeaderLayout(header, file);
  const dataStart = PREFIX + headerBytes.length;
  const size = dataStart + rows * dim * 4 + DIGEST;
  if (fileSize < size) {
    throw corrupt(
      file,
      `truncated: ${rows} rows × ${dim} float32 need a ${size}-byte file, it has ${fileSize} bytes`,
      'data',
    );
  }
  if (fileSize > size) {
    throw corrupt(
      file,
      `${fileSize - size} unexpected byte${fileSize - size === 1 ? '' : 's'} after the data (expected ${size} bytes)`,
      'data',
    );
  }
  return { header: header as Record<string, unknown>, rows, dim, dataStart, size };
}

function allocateRows(layout: Layout, file: string): Float32Array {
  try {
    return new Float32Array(layout.rows * layout.dim);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw fileError(
      file,
      `${layout.rows} rows × ${layout.dim} float32 are more than this process can allocate`,
      'BAD_INPUT',
      { field: 'counts.rows' },
    );
  }
}

function checkDigest(hash: Hash, stored: Uint8Array, file: string): void {
  if (!hash.digest().equals(Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength))) {
    throw corrupt(
      file,
      'checksum mismatch: the file is corrupt (SHA-256 of its contents does not match the one stored)',
      'sha256',
    );
  }
}

async function readOpenBank(open: OpenFile, file: string): Promise<MemoryBanks> {
  const prefix = new Uint8Array(Math.min(PREFIX, open.size));
  await readFully(open, prefix, 0, file);
  const headerLength = readPrefix(prefix, open.size, file);
  const headerBytes = new Uint8Array(headerLength);
  await readFully(open, headerBytes, PREFIX, file);
  const layout = readLayout(headerBytes, open.size, file);
  const data = allocateRows(layout, file);
  const hash = createHash('sha256').update(prefix).update(headerBytes);
  const bytes = new Uint8Array(data.buffer); // the rows are little-endian float32, as are the hosts Node runs on
  for (let at = 0; at < bytes.length; at += READ_CHUNK_BYTES) {
    const piece = bytes.subarray(at, Math.min(bytes.length, at + READ_CHUNK_BYTES));
    await readFully(open, piece, layout.dataStart + at, file);
    hash.update(piece);
  }
  const stored = new Uint8Array(DIGEST);
  await readFully(open, stored, layout.size - DIGEST, file);
  checkDigest(hash, stored, file);
  return assemble(layout, data, file);
}

/** A bank from bytes already in memory (tests, tools); loadBank reads files without holding them twice. */
export function decodeBank(bytes: Uint8Array, file = '<bank>'): MemoryBanks {
  const headerLength = readPrefix(bytes.subarray(0, PREFIX), bytes.length, file);
  const layout = readLayout(bytes.subarray(PREFIX, PREFIX + headerLength), bytes.length, file);
  checkDigest(
    createHash('sha256').update(bytes.subarray(0, layout.size - DIGEST)),
    bytes.subarray(layout.size - DIGEST, layout.size),
    file,
  );
  const data = allocateRows(layout, file);
  new Uint8Array(data.buffer).set(bytes.subarray(layout.dataStart, layout.size - DIGEST));
  return assemble(layout, data, file);
}

/**
 * The checksum vouches for the bytes; the header checks catch files written by something other than saveBank (or
 * edited with the checksum recomputed), and the rows are checked finite — a NaN row would otherwise drop out of
 * every nearest-neighbour search without a word (NaN is never smaller than the current bound).
 */
function assemble(layout: Layout, data: Float32Array, file: string): MemoryBanks {
  const h: CheckedHeader = checkHeaderContent(layout.header, layout.rows, layout.dim, file);
  const norms = finiteSquaredNorms(data, layout.rows, layout.dim, file, { row: 'bank row', what: "a bank's rows" });
  const bank = new MemoryBanks({
    kind: h.kind,
    features: data,
    dim: h.dim,
    groups: h.groups,
    rowGroup: h.rowGroup,
    kn: h.kn,
    mixup: h.mixup,
    index: h.index,
    hnsw: h.hnsw,
    meta: h.meta,
    origin: file,
  });
  bank.cache.norms = norms;
  for (const { kn, stats } of h.inductive) bank.cache.inductive.set(kn, { kn, stats, looDistances: [] });
  return bank;
}
