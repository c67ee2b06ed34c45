import { createHash } from 'node:crypto';
import type { HostileCase } from '../corpus';

/**
 * Hostile banks for test/hostile (see test/fixtures/hostile/README.md). Each is a small bank file written here byte
 * by byte, independently of encodeBank (so the committed bytes do not move when the writer changes), with its
 * SHA-256 recomputed: the checksum is valid and only the header or the rows are hostile. The base bank is a domain
 * bank of 20 source + 4 target rows of 4 dimensions with MemMixup K_s = 3 and the HNSW index, so HNSW parameters
 * reach hnswlib-node as they would in a real bank.
 */

export const BANK_DIM = 4;
export const BANK_ROWS = 24;
const TARGET_ROWS = [5, 11, 17, 23];

/** Row values from a fixed integer sequence (no transcendental functions, so every platform makes the same bytes). */
export function validBankRows(): Float32Array {
  const rows = new Float32Array(BANK_ROWS * BANK_DIM);
  let s = 0x9e3779b9;
  for (let i = 0; i < rows.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    rows[i] = ((s >>> 8) / (1 << 24)) * 4 - 2 + (TARGET_ROWS.includes(Math.floor(i / BANK_DIM)) ? 1 : 0);
  }
  return rows;
}

/** The header as JSON data, with the parts the cases edit typed loosely enough to hold hostile values. */
export interface BankHeaderJson {
  counts: Record<string, unknown>;
  rowGroups: unknown;
  mixup: Record<string, unknown>;
  hnsw: Record<string, unknown>;
  inductiveStats: { kn: unknown; banks: Record<string, Record<string, unknown>> }[];
  [key: string]: unknown;
}

export function validBankHeader(): BankHeaderJson {
  const domains = Array.from({ length: BANK_ROWS }, (_, r) => (TARGET_ROWS.includes(r) ? 1 : 0));
  const rowGroups: [number, number][] = [];
  for (const d of domains) {
    const last = rowGroups[rowGroups.length - 1];
    if (last && last[0] === d) last[1]++;
    else rowGroups.push([d, 1]);
  }
  return {
    format: 'genrep-bank',
    embedder: 'hostile-test',
    layer: 1,
    pooling: 'temporal',
    dim: BANK_DIM,
    dtype: 'float32',
    kind: 'domain',
    groups: ['source', 'target'],
    rowGroups,
    counts: {
      rows: BANK_ROWS,
      source: BANK_ROWS - TARGET_ROWS.length,
      target: TARGET_ROWS.length,
      augmented: TARGET_ROWS.length * 3,
    },
    kn: 1,
    mixup: { ks: 3, lambda: 0.9 },
    index: 'hnsw',
    hnsw: { m: 16, efConstruction: 200, efSearch: 200, randomSeed: 100 },
    inductiveStats: [{ kn: 1, banks: { source: { mean: 1.25, std: 0.5 }, target: { mean: 1.5, std: 0.5 } } }],
  };
}

/**
 * The .grbank layout (docs/scoring.md): magic, version 1, header length, space-padded JSON header, float32 rows,
 * SHA-256 of everything before it. `headerText` replaces the JSON with raw bytes; `headerLength` overrides the
 * length field, and the checksum covers the overridden field, so only the length lies.
 */
export function bankBytes(
  header: unknown,
  rows: Float32Array,
  options: { headerText?: Uint8Array; headerLength?: number } = {},
): Uint8Array {
  let json = options.headerText ? Buffer.from(options.headerText) : Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (16 - ((16 + json.length) % 16)) % 16;
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const prefix = Buffer.alloc(16);
  Buffer.from([0x89, 0x47, 0x52, 0x42, 0x41, 0x4e, 0x4b, 0x0a]).copy(prefix, 0);
  prefix.writeUInt32LE(1, 8);
  prefix.writeUInt32LE(options.headerLength ?? json.length, 12);
  const body = Buffer.concat([prefix, json, Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength)]);
  return new Uint8Array(Buffer.concat([body, createHash('sha256').update(body).digest()]));
}

export function validBankBytes(): Uint8Array {
  return bankBytes(validBankHeader(), validBankRows());
}

function edited(edit: (h: BankHeaderJson) => void): Uint8Array {
  const h = validBankHeader();
  edit(h);
  return bankBytes(h, validBankRows());
}

function withRow(row: number, col: number, value: number): Uint8Array {
  const rows = validBankRows();
  rows[row * BANK_DIM + col] = value;
  return bankBytes(validBankHeader(), rows);
}

/**
 * A section bank as the writer before the reserved-name check wrote it: `counts` built by assigning each section's
 * count to counts[name] — a section `rows` overwrote the total, `augmented` was overwritten by the MemMixup count,
 * and `__proto__` set the object's prototype, so its count never reached the file.
 */
function sectionNamed(name: string): Uint8Array {
  const names = ['id_00', name].sort();
  const rowGroups: [number, number][] = [
    [0, 12],
    [1, 12],
  ];
  const counts: Record<string, number> = { rows: BANK_ROWS };
  for (const n of names) counts[n] = 12;
  counts['augmented'] = 0;
  const h = {
    ...validBankHeader(),
    kind: 'section',
    groups: names,
    rowGroups,
    counts,
    mixup: null,
    inductiveStats: undefined,
  };
  return bankBytes(h, validBankRows());
}

export const cases: HostileCase[] = [
  {
    file: 'banks/hnsw-m0.grbank',
    note:
      'hnsw.m = 0 with a valid checksum: hnswlib-node dereferenced an empty link list, score-features died ' +
      'with SIGSEGV (exit 139) and so did the worker on genrep/scoreFiles.',
    bytes: () => edited((h) => (h.hnsw['m'] = 0)),
  },
  {
    file: 'banks/hnsw-m1.grbank',
    note:
      'hnsw.m = 1: hnswlib divides by log(1) = 0 for the level multiplier; "internal error: Hnswlib Error: Not ' +
      'enough memory: addPoint failed to allocate linklist".',
    bytes: () => edited((h) => (h.hnsw['m'] = 1)),
  },
  {
    file: 'banks/hnsw-efconstruction-string.grbank',
    note: 'hnsw.efConstruction = "x": hnswlib-node\'s own TypeError surfaced as an internal error.',
    bytes: () => edited((h) => (h.hnsw['efConstruction'] = 'x')),
  },
  {
    file: 'banks/rows-nan.grbank',
    note:
      'Bank row 7, column 2 is NaN: its distances were NaN, never below the search bound, so the row was ' +
      'silently left out of every kNN search.',
    bytes: () => withRow(7, 2, NaN),
  },
  {
    file: 'banks/rows-inf.grbank',
    note: 'Bank row 23 (a target row), column 0 is -Infinity: the row was silently skipped like a NaN row.',
    bytes: () => withRow(23, 0, -Infinity),
  },
  {
    file: 'banks/stats-null.grbank',
    note:
      'Inductive statistics {mean: null, std: null} (what NaN becomes in JSON): scored as NaN or refused with ' +
      'a misleading "zero spread".',
    bytes: () => edited((h) => (h.inductiveStats[0]!.banks['source'] = { mean: null, std: null })),
  },
  {
    file: 'banks/stats-mean-string.grbank',
    note: 'Inductive mean "x": every z-score was NaN, printed as null, exit 0.',
    bytes: () => edited((h) => (h.inductiveStats[0]!.banks['target']!['mean'] = 'x')),
  },
  {
    file: 'banks/stats-std-negative.grbank',
    note: 'Inductive std -0.5: z-scores with flipped sign, or a misleading "zero spread" error.',
    bytes: () => edited((h) => (h.inductiveStats[0]!.banks['source']!['std'] = -0.5)),
  },
  {
    file: 'banks/stats-std-zero.grbank',
    note: 'Inductive std 0: division by zero.',
    bytes: () => edited((h) => (h.inductiveStats[0]!.banks['target']!['std'] = 0)),
  },
  {
    file: 'banks/stats-huge.grbank',
    note: 'Inductive mean 1e300, std 1e-300: every z-score overflowed to -Infinity, all scores null, exit 0.',
    bytes: () => edited((h) => (h.inductiveStats[0]!.banks['source'] = { mean: 1e300, std: 1e-300 })),
  },
  {
    file: 'banks/stats-std-denormal.grbank',
    note:
      'Inductive std 5e-324 with a plausible mean: passes a range check, but (d - mean) / std overflows at ' +
      'scoring time.',
    bytes: () => edited((h) => (h.inductiveStats[0]!.banks['source']!['std'] = 5e-324)),
  },
  {
    file: 'banks/rows-claimed-1000.grbank',
    note: 'Header claims 1000 rows (counts and runs consistent), the file holds 24.',
    bytes: () =>
      edited((h) => {
        h.counts['rows'] = 1000;
        h.counts['source'] = 996;
        h.rowGroups = [
          [0, 996],
          [1, 4],
        ];
      }),
  },
  {
    file: 'banks/header-length-4gib.grbank',
    note: 'Header length field 0xFFFFFFF0 in a 1 KB file: must be refused before anything that size is allocated.',
    bytes: () => bankBytes(validBankHeader(), validBankRows(), { headerLength: 0xfffffff0 }),
  },
  {
    file: 'banks/mixup-ks-negative.grbank',
    note: 'mixup.ks = -3 in the header.',
    bytes: () => edited((h) => (h.mixup['ks'] = -3)),
  },
  {
    file: 'banks/section-rows.grbank',
    note:
      "A section named 'rows', as the old writer saved it (its count overwrote counts.rows): written with exit " +
      '0, unreadable.',
    bytes: () => sectionNamed('rows'),
  },
  {
    file: 'banks/section-augmented.grbank',
    note:
      "A section named 'augmented', as the old writer saved it (the MemMixup count overwrote it): written with " +
      'exit 0, unreadable.',
    bytes: () => sectionNamed('augmented'),
  },
  {
    file: 'banks/section-proto.grbank',
    note:
      "A section named '__proto__', as the old writer saved it (the count set the prototype and never reached " +
      'the file): unreadable.',
    bytes: () => sectionNamed('__proto__'),
  },
];
