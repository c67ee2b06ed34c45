import { fileError, type GenrepError } from '../errors';
import { at } from '../util/at';
import type { BankKind, DnStats, HnswOptions, MemMixup } from '../protocol/vocabulary';
import type { BankGroup, MemoryBanksInit } from './banks';
import { DEFAULT_HNSW, domainGroups, groupRows } from './banks';
import type { BankMeta } from './types';
import { describeValue, hnswProblem, MAX_AUGMENTED_ROWS } from './validate';

/**
 * A bank file's JSON header read as data, not trusted: the checksum only proves the bytes are the ones written,
 * and a header edited with the checksum recomputed (or written by another program) reaches hnswlib-node, the
 * MemMixup table and the z-scores. Every field is range-checked here and every failure names the file and the
 * field (`counts.target`, `inductiveStats[0].banks.source.std`).
 */

/** Largest dimension a bank may have (BEATs features are 768 × 8 = 6144); bounds the size arithmetic below. */
export const MAX_BANK_DIM = 1 << 24;
/** Row ids are int32 (neighbour ids, the row → bank map). */
const MAX_ROWS = 0x7fff_ffff;
/** Largest float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Names a bank cannot have in a file: `rows` and `augmented` are keys of the header's `counts` beside the bank
 * names, and `__proto__` is not an ordinary key of a JavaScript object. Refused when saving (reading such a file
 * back could not tell the counts apart), so no file is ever written that cannot be read.
 */
export const RESERVED_BANK_NAMES: readonly string[] = ['rows', 'augmented', '__proto__'];

const RESERVED_LIST = RESERVED_BANK_NAMES.map((n) => `'${n}'`).join(', ');

/** Why `name` cannot name a bank in a file, or null. */
export function bankNameProblem(name: string): string | null {
  if (name.length === 0) return 'a bank name must not be empty';
  if (!RESERVED_BANK_NAMES.includes(name)) return null;
  const why = `${RESERVED_LIST} clash with keys of the header's counts`;
  return `the section name '${name}' is reserved in bank files (${why}); rename the section`;
}

/**
 * What a bank file's header describes, checked: everything MemoryBanks needs except the rows themselves (and the
 * origin, which is the file), plus the inductive statistics saved with them.
 */
export interface CheckedHeader extends Omit<MemoryBanksInit, 'features' | 'origin'> {
  inductive: { kn: number; stats: DnStats[] }[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, lo: number, hi: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
const own = (o: Json, key: string): unknown => (Object.hasOwn(o, key) ? o[key] : undefined);

function bad(file: string, field: string, problem: string): GenrepError {
  return fileError(file, `header '${field}' ${problem}`, 'CORRUPT', { field });
}

/**
 * The fields that fix the file's size (checked before the data is read or allocated): format, dim, dtype and
 * counts.rows. Returns the rows and dimension.
 */
export function checkHeaderLayout(header: unknown, file: string): { rows: number; dim: number } {
  if (!isObject(header) || header['format'] !== 'genrep-bank') throw bad(file, 'format', "is not 'genrep-bank'");
  const dim = own(header, 'dim');
  if (!isInt(dim, 1, MAX_BANK_DIM)) {
    throw bad(file, 'dim', `must be an integer in 1..${MAX_BANK_DIM}, got ${describeValue(dim)}`);
  }
  if (header['dtype'] !== 'float32') {
    throw bad(file, 'dtype', `must be 'float32', got ${describeValue(header['dtype'])}`);
  }
  const counts = own(header, 'counts');
  if (!isObject(counts)) throw bad(file, 'counts', `must be an object of row counts, got ${describeValue(counts)}`);
  // Before counts.rows is trusted: a writer that let a section be called 'rows' wrote that section's count there.
  const groups = own(header, 'groups');
  const reserved = Array.isArray(groups) ? groups.findIndex((g) => RESERVED_BANK_NAMES.includes(g as string)) : -1;
  if (reserved >= 0) {
    throw bad(
      file,
      `groups[${reserved}]`,
      `is '${String((groups as unknown[])[reserved])}', a name reserved in bank files (${RESERVED_LIST}), so its ` +
        'counts cannot be told apart; rename the section and save the bank again',
    );
  }
  const rows = own(counts, 'rows');
  if (!isInt(rows, 1, MAX_ROWS)) {
    throw bad(file, 'counts.rows', `must be an integer in 1..${MAX_ROWS}, got ${describeValue(rows)}`);
  }
  return { rows, dim };
}

/** Every other field, against each other and against the layout (call checkHeaderLayout first). */
export function checkHeaderContent(header: Json, rows: number, dim: number, file: string): CheckedHeader {
  const kinds: BankKind[] = ['domain', 'section', 'pooled'];
  const kind = header['kind'] as BankKind;
  if (!kinds.includes(kind)) throw bad(file, 'kind', `must be one of ${kinds.join(', ')}, got ${describeValue(kind)}`);
  const names = checkGroupNames(header['groups'], kind, rows, file);
  const { groups, rowGroup } = checkRowGroups(header['rowGroups'], names, rows, file);

  const counts = header['counts'] as Json;
  for (const g of groups) {
    if (own(counts, g.name) !== g.rows.length) {
      throw bad(
        file,
        `counts.${g.name}`,
        `is ${describeValue(own(counts, g.name))}, the row runs give ${g.rows.length}`,
      );
    }
  }
  const mixup = checkMixup(header['mixup'], kind, groups, file);
  // buildBanks drops MemMixup when there is no target row to augment; so does loading.
  const targets = mixup ? domainGroups(groups).target.rows.length : 0;
  const active = mixup && targets > 0 ? mixup : null;
  const augmented = active ? targets * active.K_s : 0;
  if (own(counts, 'augmented') !== augmented) {
    throw bad(
      file,
      'counts.augmented',
      `is ${describeValue(own(counts, 'augmented'))}, K_s and the target rows give ${augmented}`,
    );
  }
  const known = new Set(['rows', 'augmented', ...names]);
  const stray = Object.keys(counts).find((k) => !known.has(k));
  if (stray !== undefined) throw bad(file, `counts.${stray}`, 'counts rows of no bank in the header');

  const sizes = groups.map((g, i) => g.rows.length + (active && i === 1 ? augmented : 0));
  const smallest = Math.min(...groups.filter((g) => g.rows.length > 0).map((g) => g.rows.length));
  const kn = header['kn'];
  if (!isInt(kn, 1, smallest)) {
    throw bad(file, 'kn', `must be an integer in 1..${smallest} (the smallest bank's rows), got ${describeValue(kn)}`);
  }

  const index = header['index'];
  if (index !== 'exact' && index !== 'hnsw') {
    throw bad(file, 'index', `must be 'exact' or 'hnsw', got ${describeValue(index)}`);
  }
  const hnswRaw = header['hnsw'] ?? {};
  if (!isObject(hnswRaw)) {
    throw bad(file, 'hnsw', `must be an object of HNSW parameters, got ${describeValue(hnswRaw)}`);
  }
  // A missing parameter takes its default, as it always has; a present one must be in range before hnswlib sees it.
  const hnsw = { ...DEFAULT_HNSW };
  for (const key of Object.keys(DEFAULT_HNSW) as (keyof HnswOptions)[]) {
    if (Object.hasOwn(hnswRaw, key)) (hnsw as Record<string, unknown>)[key] = hnswRaw[key];
  }
  const problem = hnswProblem(hnsw);
  if (problem) throw bad(file, `hnsw.${problem.field}`, problem.problem);

  return {
    kind,
    dim,
    groups,
    rowGroup,
    kn,
    mixup: active,
    index,
    hnsw,
    meta: { ...checkMeta(header, file), ...checkRowNames(header, rows, file) },
    inductive: checkInductiveStats(header['inductiveStats'], groups, sizes, dim, file),
  };
}

function checkGroupNames(value: unknown, kind: BankKind, rows: number, file: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((g) => typeof g !== 'string')) {
    throw bad(file, 'groups', `must be a non-empty list of bank names, got ${describeValue(value)}`);
  }
  const names = value as string[];
  // A bank needs a row, except the target bank of a domain bank (DN 'none' scores against the source bank alone).
  if (names.length > Math.max(rows, 2)) throw bad(file, 'groups', `names ${names.length} banks for ${rows} rows`);
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (name.length === 0) throw bad(file, `groups[${i}]`, 'is empty; a bank needs a name');
    if (seen.has(name)) throw bad(file, `groups[${i}]`, `repeats the bank name ${describeValue(name)}`);
    seen.add(name);
  });
  if (kind === 'domain' && (names.length !== 2 || names[0] !== 'source' || names[1] !== 'target')) {
    throw bad(file, 'groups', "of a domain bank must be ['source', 'target']");
  }
  if (kind === 'pooled' && names.length !== 1) throw bad(file, 'groups', 'of a pooled bank must name one bank');
  return names;
}

function checkRowGroups(
  value: unknown,
  names: string[],
  rows: number,
  file: string,
): { groups: BankGroup[]; rowGroup: Int32Array } {
  if (!Array.isArray(value)) {
    throw bad(file, 'rowGroups', `must be a list of [bank index, row count] runs, got ${describeValue(value)}`);
  }
  const rowGroup = new Int32Array(rows);
  let r = 0;
  value.forEach((run: unknown, i) => {
    if (!Array.isArray(run) || run.length !== 2 || !isInt(run[0], 0, names.length - 1) || !isInt(run[1], 1, rows - r)) {
      throw bad(
        file,
        `rowGroups[${i}]`,
        `must be [bank index 0..${names.length - 1}, row count 1..${rows - r}], got ${describeValue(run)}`,
      );
    }
    rowGroup.fill(run[0], r, r + run[1]);
    r += run[1];
  });
  if (r !== rows) throw bad(file, 'rowGroups', `covers ${r} rows, 'counts.rows' says ${rows}`);
  const members = groupRows(rowGroup, names.length);
  return { groups: names.map((name, g) => ({ name, rows: at(members, g, 'bank members') })), rowGroup };
}

/** The header's MemMixup, spelled `{ks, lambda}` on disk (BankFileMixup), as a MemMixup. */
function checkMixup(value: unknown, kind: BankKind, groups: BankGroup[], file: string): MemMixup | null {
  if (value === null || value === undefined) return null;
  if (kind !== 'domain') {
    throw bad(file, 'mixup', `must be null on a ${kind} bank (MemMixup needs source and target banks)`);
  }
  if (!isObject(value)) throw bad(file, 'mixup', `must be {ks, lambda} or null, got ${describeValue(value)}`);
  const { source, target } = domainGroups(groups);
  const sources = source.rows.length;
  const ks = own(value, 'ks');
  if (!isInt(ks, 1, sources)) {
    throw bad(file, 'mixup.ks', `must be an integer in 1..${sources} (the source rows), got ${describeValue(ks)}`);
  }
  const lambda = own(value, 'lambda');
  if (typeof lambda !== 'number' || !(lambda >= 0 && lambda <= 1)) {
    throw bad(file, 'mixup.lambda', `must be a number in [0, 1], got ${describeValue(lambda)}`);
  }
  if (target.rows.length * ks > MAX_AUGMENTED_ROWS) {
    throw bad(
      file,
      'mixup.ks',
      `gives ${target.rows.length} × ${ks} MemMixup rows, more than the ${MAX_AUGMENTED_ROWS} supported`,
    );
  }
  return { K_s: ks, lambda };
}

function checkMeta(header: Json, file: string): BankMeta {
  const text = (field: string): string | null => {
    const v = header[field] ?? null;
    if (v !== null && typeof v !== 'string') throw bad(file, field, `must be a name or null, got ${describeValue(v)}`);
    return v;
  };
  const layer = header['layer'] ?? null;
  if (layer !== null && !isInt(layer, 0, Number.MAX_SAFE_INTEGER)) {
    throw bad(file, 'layer', `must be a non-negative integer or null, got ${describeValue(layer)}`);
  }
  // Optional names (absent in banks written before they were recorded): kept out of the meta when absent, so the
  // header read back is the header written.
  const optional = (field: 'machineType' | 'section'): BankMeta => {
    if (!Object.hasOwn(header, field)) return {};
    const v = header[field];
    if (typeof v !== 'string' || v === '') throw bad(file, field, `must be a non-empty name, got ${describeValue(v)}`);
    return { [field]: v };
  };
  return {
    embedder: text('embedder'),
    layer,
    pooling: text('pooling'),
    ...optional('machineType'),
    ...optional('section'),
  };
}

/** `rowNames` when present: one non-empty string per row. `mixupRows` is recomputed on load, so it is not read. */
function checkRowNames(header: Json, rows: number, file: string): BankMeta {
  if (!Object.hasOwn(header, 'rowNames')) return {};
  const v = header['rowNames'];
  if (!Array.isArray(v) || v.length !== rows) {
    throw bad(file, 'rowNames', `must be a list of ${rows} clip names (one per row), got ${describeValue(v)}`);
  }
  const i = v.findIndex((n) => typeof n !== 'string' || n === '');
  if (i >= 0) throw bad(file, `rowNames[${i}]`, `must be a non-empty name, got ${describeValue(v[i])}`);
  return { rowNames: v as string[] };
}

/**
 * Inductive DN statistics: per entry a K_n and, for every non-empty bank, the mean and std of the training clips'
 * leave-one-out distances. They divide the test distances, so each must be finite, the std positive, and neither
 * beyond the largest distance two float32 rows of this dimension can have (2 · FLOAT32_MAX · √dim).
 */
function checkInductiveStats(
  value: unknown,
  groups: BankGroup[],
  sizes: number[],
  dim: number,
  file: string,
): CheckedHeader['inductive'] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw bad(file, 'inductiveStats', `must be a list of {kn, banks}, got ${describeValue(value)}`);
  }
  const limit = 2 * FLOAT32_MAX * Math.sqrt(dim);
  const largest = Math.max(...sizes);
  const seen = new Set<number>();
  return value.map((entry: unknown, i) => {
    const at = `inductiveStats[${i}]`;
    if (!isObject(entry)) throw bad(file, at, `must be {kn, banks}, got ${describeValue(entry)}`);
    const kn = own(entry, 'kn');
    if (!isInt(kn, 1, largest)) {
      throw bad(file, `${at}.kn`, `must be an integer in 1..${largest}, got ${describeValue(kn)}`);
    }
    if (seen.has(kn)) throw bad(file, `${at}.kn`, `repeats K_n = ${kn}`);
    seen.add(kn);
    const banks = own(entry, 'banks');
    if (!isObject(banks)) {
      throw bad(file, `${at}.banks`, `must be an object of per-bank statistics, got ${describeValue(banks)}`);
    }
    const names = new Set(groups.map((g) => g.name));
    const stray = Object.keys(banks).find((k) => !names.has(k));
    if (stray !== undefined) throw bad(file, `${at}.banks.${stray}`, 'is no bank of this file');
    const stats = groups.map((g, b): DnStats => {
      const s = own(banks, g.name);
      if (sizes[b] === 0) {
        if (s !== undefined) throw bad(file, `${at}.banks.${g.name}`, 'gives statistics for an empty bank');
        return { mean: NaN, std: NaN };
      }
      const where = `${at}.banks.${g.name}`;
      if (!isObject(s)) throw bad(file, where, `must be {mean, std}, got ${describeValue(s)}`);
      const mean = own(s, 'mean');
      const std = own(s, 'std');
      if (typeof mean !== 'number' || !(mean >= 0 && mean <= limit)) {
        throw bad(
          file,
          `${where}.mean`,
          `must be a distance, a number in [0, ${limit.toPrecision(3)}], got ${describeValue(mean)}`,
        );
      }
      if (typeof std !== 'number' || !(std > 0 && std <= limit)) {
        throw bad(
          file,
          `${where}.std`,
          `must be a positive number up to ${limit.toPrecision(3)} (z-scores divide by it), got ${describeValue(std)}`,
        );
      }
      return { mean, std };
    });
    return { kn, stats };
  });
}
