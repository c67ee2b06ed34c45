import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { GenrepError } from '../../worker/src/errors';
import { BANK_MAGIC, buildBanks, decodeBank, Domain, encodeBank, inductiveStats, loadBank, saveBank, scoreMachine } from '../../worker/src/scoring';
import { tempDir } from '../helpers/cli';
import { gaussian } from './random';

const dim = 8;
const train = gaussian(60, dim, 31);
const domains: Domain[] = Array.from({ length: 60 }, (_, i) => (i % 10 === 3 ? 'target' : 'source'));
const test = gaussian(9, dim, 32, 0.3);
const tmp = tempDir('genrep-bank-');
afterAll(() => tmp.cleanup());

function bank() {
  return buildBanks({ train, dim, trainDomains: domains, kn: 2, mixup: { ks: 5, lambda: 0.8 }, meta: { embedder: 'beats_ft1', layer: 4, pooling: 'temporal' } });
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

  it('lays out magic, version, padded JSON header with embedder/layer/pooling/dim/counts, float32 rows, SHA-256', async () => {
    const bytes = encodeBank(bank());
    expect(Array.from(bytes.subarray(0, 8))).toEqual(Array.from(BANK_MAGIC));
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(view.getUint32(8, true)).toBe(1);
    const h = view.getUint32(12, true);
    expect((16 + h) % 16).toBe(0);
    const header = JSON.parse(Buffer.from(bytes.subarray(16, 16 + h)).toString('utf8'));
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
    flipped[bytes.length - 200] ^= 0x10;
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
    await expectError(() => scoreMachine({ banks: loaded, test: wrong, testDim: dim + 1, dnMode: 'none', names: { test: 'new.npy' } }), 'BAD_INPUT', /new.npy: .*9 dimensions.*dim.grbank.*8/);
  });

  it('checks the header against what the caller expects (embedder, layer, pooling, dim)', async () => {
    const file = tmp.file('meta.grbank');
    await saveBank(file, bank());
    await expect(loadBank(file, { embedder: 'beats_ft1', layer: 4, pooling: 'temporal', dim })).resolves.toBeDefined();
    await expect(loadBank(file, { layer: 5 })).rejects.toThrow(/meta.grbank: the bank was built with layer 4, but 5 is expected/);
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
    const header = JSON.parse(readFileSync(file).subarray(16, 16 + readFileSync(file).readUInt32LE(12)).toString('utf8'));
    expect(header.inductiveStats[0].banks.source).toEqual(stats[0]);
    const loaded = await loadBank(file);
    expect(loaded.cache.inductive.get(2)!.looDistances).toEqual([]);
    expect((await inductiveStats(loaded, 2)).stats).toEqual(stats);
  });
});
