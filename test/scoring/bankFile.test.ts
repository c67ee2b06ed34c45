import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { GenrepError } from '../../worker/src/errors';
import type { BankFileHeader } from '../../worker/src/protocol/bankHeader';
import type { Domain } from '../../worker/src/protocol/vocabulary';
import {
  BANK_MAGIC,
  bankHeader,
  buildBanks,
  buildHnsw,
  decodeBank,
  encodeBank,
  inductiveStats,
  loadBank,
  saveBank,
  scoreMachine,
} from '../../worker/src/scoring';
import { tempDir } from '../helpers/cli';
import { gaussian } from './random';

const dim = 8;
const train = gaussian(60, dim, 31);
const domains: Domain[] = Array.from({ length: 60 }, (_, i) => (i % 10 === 3 ? 'target' : 'source'));
const test = gaussian(9, dim, 32, 0.3);
const tmp = tempDir('genrep-bank-');
afterAll(() => tmp.cleanup());

function bank() {
  return buildBanks({
    train,
    dim,
    trainDomains: domains,
    kn: 2,
    mixup: { K_s: 5, lambda: 0.8 },
    meta: { embedder: 'beats_ft1', layer: 4, pooling: 'temporal' },
  });
}

async function expectError(fn: () => unknown, code: string, pattern: RegExp): Promise<void> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GenrepError);
    expect((err as GenrepError).code).toBe(code);
    expect((err as GenrepError).message).toMatch(pattern);
    return;
  }
  throw new Error('expected an error');
}

describe('bank files', () => {
  it('round-trip: the loaded bank scores new clips exactly as the original, in every DN mode', async () => {
    const original = bank();
    const before = await scoreMachine({ banks: original, test, dnMode: 'inductive' }); // computes inductive stats, saved below
    const file = tmp.file('m/layer4.grbank');
    await saveBank(file, original);
    expect(readdirSync(tmp.file('m'))).toEqual(['layer4.grbank']); // atomic write leaves no temp file behind
    const loaded = await loadBank(file);
    expect(loaded.origin).toBe(file);
    expect(loaded.cache.inductive.get(2)?.stats).toEqual(original.cache.inductive.get(2)?.stats);
    for (const dnMode of ['transductive', 'inductive', 'none'] as const) {
      const a = dnMode === 'inductive' ? before : await scoreMachine({ banks: original, test, dnMode });
      const b = await scoreMachine({ banks: loaded, test, dnMode });
      expect(Array.from(b.score)).toEqual(Array.from(a.score));
      expect(Array.from(b.d_target!)).toEqual(Array.from(a.d_target!));
    }
  });

  it('lays out magic, version, padded JSON header with embedder/layer/pooling/dim/counts, float32 rows, SHA-256', () => {
    const bytes = encodeBank(bank());
    expect(Array.from(bytes.subarray(0, 8))).toEqual(Array.from(BANK_MAGIC));
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(view.getUint32(8, true)).toBe(1);
    const h = view.getUint32(12, true);
    expect((16 + h) % 16).toBe(0);
    const header: unknown = JSON.parse(Buffer.from(bytes.subarray(16, 16 + h)).toString('utf8'));
    expect(header).toMatchObject({
      format: 'genrep-bank',
      embedder: 'beats_ft1',
      layer: 4,
      pooling: 'temporal',
      dim,
      kind: 'domain',
      groups: ['source', 'target'],
      counts: { rows: 60, source: 54, target: 6, augmented: 30 },
      kn: 2,
      mixup: { ks: 5, lambda: 0.8 },
    });
    expect(bytes.length).toBe(16 + h + 60 * dim * 4 + 32);
    expect(new Float32Array(bytes.slice(16 + h, 16 + h + 4).buffer)[0]).toBe(train[0]);
  });

  it('records the machine type and section after pooling only when known; old headers read back unchanged', () => {
    const headerText = (bytes: Uint8Array): string =>
      Buffer.from(bytes.subarray(16, 16 + Buffer.from(bytes).readUInt32LE(12))).toString('utf8');
    const plain = encodeBank(bank());
    expect(headerText(plain)).not.toMatch(/machineType|section"/);
    // A bank without them (every bank written before they were recorded) re-encodes to the same bytes.
    expect(Buffer.from(encodeBank(decodeBank(plain)))).toEqual(Buffer.from(plain));
    expect(bankHeader(decodeBank(plain)).machineType).toBeUndefined();

    const typed = encodeBank(bank(), { machineType: 'fan', section: '00' });
    expect(headerText(typed)).toContain('"pooling":"temporal","machineType":"fan","section":"00","dim":8,');
    const loaded = decodeBank(typed);
    expect(loaded.meta).toMatchObject({ machineType: 'fan', section: '00' });
    expect(bankHeader(loaded, loaded.meta)).toMatchObject({ machineType: 'fan', section: '00', embedder: 'beats_ft1' });
    expect(Buffer.from(encodeBank(loaded))).toEqual(Buffer.from(typed));
    // The rows are the same bytes; only the header (and so the checksum) grew.
    const rows = (b: Uint8Array): Buffer => {
      const h = Buffer.from(b).readUInt32LE(12);
      return Buffer.from(b.subarray(16 + h, b.length - 32));
    };
    expect(rows(typed)).toEqual(rows(plain));
    // A section is left out when null (a bank mixing sections), the type kept.
    expect(headerText(encodeBank(bank(), { machineType: 'pump', section: null }))).toMatch(
      /"machineType":"pump","dim"/,
    );
  });

  it("keeps format 1's spelling on disk: MemMixup's K_s is written and read as `ks`", async () => {
    const file = tmp.file('spelling.grbank');
    await saveBank(file, bank());
    const bytes = readFileSync(file);
    const text = bytes.subarray(16, 16 + bytes.readUInt32LE(12)).toString('utf8');
    expect(text).toContain('"mixup":{"ks":5,"lambda":0.8}');
    expect(text).not.toContain('K_s');
    expect((await loadBank(file)).mixupOptions).toEqual({ K_s: 5, lambda: 0.8 });
  });

  it('detects a truncated file', async () => {
    const bytes = encodeBank(bank());
    const file = tmp.file('truncated.grbank');
    writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    await expect(loadBank(file)).rejects.toThrow(/truncated.grbank: truncated/);
    await expectError(() => decodeBank(bytes.subarray(0, 40), 'short.grbank'), 'CORRUPT', /truncated/);
  });

  it('detects a corrupted byte in the rows (checksum) and in the header', async () => {
    const bytes = encodeBank(bank());
    const flipped = bytes.slice();
    flipped[bytes.length - 200]! ^= 0x10;
    await expectError(() => decodeBank(flipped, 'flip.grbank'), 'CORRUPT', /flip.grbank: checksum mismatch/);
    const badHeader = bytes.slice();
    badHeader[20] = 0x7b; // '{' inside the JSON text
    await expectError(() => decodeBank(badHeader, 'hdr.grbank'), 'CORRUPT', /hdr.grbank: .*(header|checksum)/);
  });

  it('rejects files that are not banks and unknown format versions', async () => {
    await expectError(() => decodeBank(new Uint8Array(64), 'x.npy'), 'BAD_INPUT', /not a GenRep bank file/);
    const bytes = encodeBank(bank());
    new DataView(bytes.buffer).setUint32(8, 2, true);
    await expectError(() => decodeBank(bytes, 'v2.grbank'), 'UNSUPPORTED', /version 2/);
  });

  it('refuses new features whose dimension differs from the saved bank, naming both', async () => {
    const file = tmp.file('dim.grbank');
    await saveBank(file, bank());
    const loaded = await loadBank(file);
    const wrong = gaussian(3, dim + 1, 5);
    await expectError(
      () => scoreMachine({ banks: loaded, test: wrong, testDim: dim + 1, dnMode: 'none', names: { test: 'new.npy' } }),
      'BAD_INPUT',
      /new.npy: .*9 dimensions.*dim.grbank.*8/,
    );
  });

  it('checks the header against what the caller expects (embedder, layer, pooling, dim)', async () => {
    const file = tmp.file('meta.grbank');
    await saveBank(file, bank());
    await expect(loadBank(file, { embedder: 'beats_ft1', layer: 4, pooling: 'temporal', dim })).resolves.toBeDefined();
    await expect(loadBank(file, { layer: 5 })).rejects.toThrow(
      /meta.grbank: the bank was built with layer 4, but 5 is expected/,
    );
    await expect(loadBank(file, { pooling: 'spatial' })).rejects.toMatchObject({ data: { field: 'pooling' } });
    await expect(loadBank(file, { dim: 768 })).rejects.toThrow(/dim 8/);
  });

  it('missing file → NOT_FOUND', async () => {
    await expect(loadBank(tmp.file('nope.grbank'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(existsSync(tmp.file('nope.grbank'))).toBe(false);
  });

  it('inductive statistics survive a reload without the leave-one-out pass', async () => {
    const b = bank();
    const stats = (await inductiveStats(b, 2)).stats;
    const file = tmp.file('ind.grbank');
    await saveBank(file, b);
    const header = JSON.parse(
      readFileSync(file)
        .subarray(16, 16 + readFileSync(file).readUInt32LE(12))
        .toString('utf8'),
    ) as BankFileHeader;
    expect(header.inductiveStats![0]!.banks['source']).toEqual(stats[0]);
    const loaded = await loadBank(file);
    expect(loaded.cache.inductive.get(2)!.looDistances).toEqual([]);
    expect((await inductiveStats(loaded, 2)).stats).toEqual(stats);
  });
});

describe('bank files read as data (every header field checked, the rows finite, lengths bounded)', () => {
  /** A saved bank with its header edited and the checksum recomputed — valid bytes, hostile content. */
  interface HeaderJson {
    hnsw: Record<string, unknown>;
    mixup: Record<string, unknown>;
    counts: Record<string, unknown>;
    [key: string]: unknown;
  }
  function edited(edit: (h: HeaderJson) => void, b = bank()): Uint8Array {
    const bytes = encodeBank(b);
    const h = Buffer.from(bytes).readUInt32LE(12);
    const header = JSON.parse(Buffer.from(bytes.subarray(16, 16 + h)).toString('utf8')) as HeaderJson;
    edit(header);
    let json = Buffer.from(JSON.stringify(header));
    json = Buffer.concat([json, Buffer.alloc((16 - ((16 + json.length) % 16)) % 16, 0x20)]);
    const prefix = Buffer.from(bytes.subarray(0, 16));
    prefix.writeUInt32LE(json.length, 12);
    const body = Buffer.concat([prefix, json, bytes.subarray(16 + h, bytes.length - 32)]);
    return new Uint8Array(Buffer.concat([body, createHash('sha256').update(body).digest()]));
  }

  it('names the field and the value for each out-of-range header value', async () => {
    const cases: [(h: HeaderJson) => void, string, RegExp][] = [
      [(h) => (h.hnsw['m'] = 0), 'hnsw.m', /header 'hnsw\.m' must be an integer in 2\.\.512, got 0/],
      [(h) => (h.hnsw['efSearch'] = 1.5), 'hnsw.efSearch', /got 1\.5/],
      [(h) => (h.hnsw['randomSeed'] = -1), 'hnsw.randomSeed', /in 0\.\.4294967295, got -1/],
      [(h) => (h['index'] = 'faiss'), 'index', /must be 'exact' or 'hnsw', got "faiss"/],
      [(h) => (h['kn'] = 7), 'kn', /must be an integer in 1\.\.6 \(the smallest bank's rows\), got 7/],
      [(h) => (h.mixup['lambda'] = 1.5), 'mixup.lambda', /must be a number in \[0, 1\], got 1\.5/],
      [(h) => (h.counts['target'] = 5), 'counts.target', /is 5, the row runs give 6/],
      [(h) => (h.counts['extra'] = 1), 'counts.extra', /counts rows of no bank/],
      [(h) => (h['groups'] = ['source', 'source']), 'groups[1]', /repeats the bank name "source"/],
      [(h) => (h['layer'] = -2), 'layer', /non-negative integer or null, got -2/],
      [(h) => (h['machineType'] = ''), 'machineType', /must be a non-empty name, got ""/],
      [(h) => (h['section'] = 0), 'section', /must be a non-empty name, got 0/],
      [
        (h) => (h['inductiveStats'] = [{ kn: 2, banks: { source: { mean: 1, std: 1 } } }]),
        'inductiveStats[0].banks.target',
        /must be \{mean, std\}, got nothing/,
      ],
    ];
    const b = bank();
    await inductiveStats(b, 2);
    for (const [edit, field, pattern] of cases) {
      let caught: unknown;
      try {
        decodeBank(edited(edit, b), 'e.grbank');
      } catch (err) {
        caught = err;
      }
      expect(caught, field).toBeInstanceOf(GenrepError);
      expect((caught as GenrepError).message, field).toMatch(
        new RegExp(`^e\\.grbank: header '${field.replace(/[.[\]]/g, '\\$&')}' `),
      );
      expect((caught as GenrepError).message, field).toMatch(pattern);
      expect((caught as GenrepError).data, field).toMatchObject({ file: 'e.grbank', field });
    }
  });

  it('refuses a bank whose rows are not finite, naming the row', async () => {
    const b = bank();
    const bytes = encodeBank(b);
    const h = Buffer.from(bytes).readUInt32LE(12);
    const body = Buffer.from(bytes.subarray(0, bytes.length - 32));
    body.writeFloatLE(NaN, 16 + h + (13 * dim + 5) * 4);
    const file = tmp.file('nan-row.grbank');
    writeFileSync(file, Buffer.concat([body, createHash('sha256').update(body).digest()]));
    await expect(loadBank(file)).rejects.toThrow(
      /nan-row\.grbank: bank row 13, column 5 is NaN; a bank's rows must be finite numbers/,
    );
  });

  it('reads a bank over one 8 MiB chunk piece by piece: the same rows, a flipped byte still caught', async () => {
    const big = gaussian(2100, 1024, 7); // 8.6 MB of rows
    const b = buildBanks({
      train: big,
      dim: 1024,
      trainDomains: Array.from({ length: 2100 }, (_, i) => (i % 7 ? 'source' : 'target')),
    });
    const file = tmp.file('big.grbank');
    await saveBank(file, b);
    const loaded = await loadBank(file);
    expect(Buffer.from(loaded.features.buffer).equals(Buffer.from(big.buffer))).toBe(true);
    expect(loaded.counts()).toEqual(b.counts());
    const flipped = readFileSync(file);
    flipped[flipped.length - 1000]! ^= 4;
    writeFileSync(file, flipped);
    await expect(loadBank(file)).rejects.toThrow(/big\.grbank: checksum mismatch/);
  });

  it("refuses to save sections named 'rows', 'augmented' or '__proto__'; other names round-trip", async () => {
    const sections = (name: string): string[] => Array.from({ length: 60 }, (_, i) => (i % 3 ? 'id_00' : name));
    for (const name of ['rows', 'augmented', '__proto__']) {
      const b = buildBanks({ train, dim, trainSections: sections(name) });
      const file = tmp.file(`${name}.grbank`);
      await expect(saveBank(file, b)).rejects.toThrow(
        new RegExp(`${name}\\.grbank: cannot save the bank: the section name '${name}' is reserved`),
      );
      expect(existsSync(file)).toBe(false);
      expect(() => encodeBank(b)).toThrow(/cannot save the bank/);
    }
    for (const name of ['constructor', 'toString', 'hasOwnProperty', 'source']) {
      const b = buildBanks({ train, dim, trainSections: sections(name) });
      const file = tmp.file(`${name}.grbank`);
      await saveBank(file, b);
      const loaded = await loadBank(file);
      expect(loaded.groups.map((g) => g.name)).toEqual(b.groups.map((g) => g.name));
      const a = await scoreMachine({ banks: b, test, dnMode: 'transductive' });
      expect(Array.from((await scoreMachine({ banks: loaded, test, dnMode: 'transductive' })).score)).toEqual(
        Array.from(a.score),
      );
    }
  });

  it('never writes a bank that would not read back; statistics with zero spread are left out of the file', () => {
    const b = buildBanks({ train, dim, trainDomains: domains, meta: { layer: -1 } });
    expect(() => encodeBank(b)).toThrow(/cannot save the bank, it would not read back: .*header 'layer'/);
    const flat = buildBanks({ train, dim, trainDomains: domains });
    flat.cache.inductive.set(3, {
      kn: 3,
      stats: [
        { mean: 1, std: 0 },
        { mean: 1, std: 1 },
      ],
      looDistances: [],
    });
    const loaded = decodeBank(encodeBank(flat));
    expect(loaded.cache.inductive.has(3)).toBe(false);
  });

  it('checks HNSW parameters before hnswlib-node sees them, wherever the bank comes from', () => {
    expect(() => buildBanks({ train, dim, index: 'hnsw', hnsw: { m: 0 } })).toThrow(
      /HNSW m must be an integer in 2\.\.512, got 0/,
    );
    const b = buildBanks({ train, dim, index: 'hnsw' });
    (b.hnswOptions as { m: number }).m = 1; // a MemoryBanks changed after the checks: the guard still stops it
    expect(() => buildHnsw(b)).toThrow(/HNSW m must be an integer in 2\.\.512, got 1/);
  });
});
