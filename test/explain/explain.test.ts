import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWavPcm16, readWav } from '../../worker/src/audio';
import { BeatsEmbedder, createEmbedder, fbankStatistics } from '../../worker/src/embedders';
import { attribute } from '../../worker/src/explain/attribute';
import { beatsDecomposition, fbankStatsDecomposition } from '../../worker/src/explain/decompose';
import { decomposeClip, explainClipWithBank } from '../../worker/src/explain/explainClip';
import { buildBankFromDataset, scoreFilesWithBank } from '../../worker/src/experiments/banks';
import { buildBanks, loadBank, saveBank, type MemoryBanks } from '../../worker/src/scoring';
import { resolveSettings, type Settings } from '../../worker/src/settings';
import type { DnMode, Domain } from '../../worker/src/protocol/vocabulary';
import { writeTinyDataset } from '../helpers/tinyDataset';
import { fanBankRecipe } from '../helpers/tinyRuns';
import { GoldenSet } from '../helpers/golden';
import { cosine, TINY_CHECKPOINT } from '../beats/helpers';

let dir: string;
const DOMAINS: Domain[] = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'source' : 'target'));
const settings = (): Settings =>
  resolveSettings({ runConfig: { cacheDir: path.join(dir, 'cache') }, env: process.env });
const testClip = (kind: 'normal' | 'anomaly', i: number): string =>
  path.join(dir, 'data', 'fan', 'test', `section_00_source_test_${kind}_000${i}_spd_200.wav`);

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-explain-'));
  writeTinyDataset(path.join(dir, 'data'), { machines: ['fan'] });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

describe('explain against a saved fbank-stats bank', () => {
  for (const K_s of [0, 10]) {
    it(`splits the distance exactly, scores as scoreFiles and names the rows (MemMixup K_s = ${K_s})`, async () => {
      const out = path.join(dir, `fan-${K_s}.grbank`);
      await buildBankFromDataset({ ...fanBankRecipe(dir, out, K_s), settings: settings() });
      const banks = await loadBank(out);
      expect(banks.meta.rowNames).toHaveLength(35);
      expect(banks.meta.rowNames?.[0]).toMatch(/^fan\/train\/.*\.wav$/);
      for (const dn of ['none', 'inductive'] as const) {
        const clip = testClip('anomaly', 1);
        const e = await explainClipWithBank({ bankFile: out, clip, dn, settings: settings() });
        const scored = await scoreFilesWithBank({ bankFile: out, files: [clip], dn, settings: settings() });
        expect(rel(e.score, scored.files[0]!.score)).toBeLessThan(1e-5);
        const target = dn === 'none' ? e.distance : e.distance / e.dnStats!.std;
        expect(rel(sum(e.grid.values) + e.grid.residual, target)).toBeLessThan(1e-10);
        expect(Math.abs(e.grid.residual) / target).toBeLessThan(1e-9);
        expect(rel(sum(e.perTime), target)).toBeLessThan(1e-6);
        expect(rel(sum(e.perBand), target)).toBeLessThan(1e-6);
        if (dn === 'inductive') expect(rel(e.score, target - e.dnStats!.mean / e.dnStats!.std)).toBeLessThan(1e-5);
        expect(e.grid.times).toBe(998);
        expect(e.grid.bands).toBe(128);
        expect(e.grid.values).toHaveLength(998 * 128);
        expect(e.grid.decomposition).toBe('linearised');
        expect(e.grid.bandHz[0]![0]).toBeCloseTo(20, 6);
        expect(e.grid.bandHz[127]![1]).toBeCloseTo(8000, 6);
        const n = e.neighbours[0]!;
        expect(n.distance).toBeCloseTo(e.distance, 9);
        if (n.mix) expect(n.name).toBe(`mix(${n.mix.target}, ${n.mix.source}, λ=0.9)`);
        else expect(banks.meta.rowNames).toContain(n.name);
      }
    });
  }

  it('writes MemMixup provenance beside the row names', async () => {
    const out = path.join(dir, 'fan-prov.grbank');
    const built = await buildBankFromDataset({ ...fanBankRecipe(dir, out, 2), settings: settings() });
    const rows = built.header.mixupRows ?? [];
    expect(rows).toHaveLength(built.header.counts['augmented']!);
    const banks = await loadBank(out);
    rows.forEach(([t, s], a) => {
      expect(banks.mixup!.targets[Math.floor(a / 2)]).toBe(t);
      expect(banks.mixup!.sources[a]).toBe(s);
    });
  });
});

/** Training rows from real fbank-stats features of the tiny dataset's clips, as plain banks. */
async function fbankRows(files: string[]): Promise<Float32Array> {
  const out = new Float32Array(files.length * 256);
  for (const [i, f] of files.entries()) out.set(fbankStatistics((await readWav(f)).samples), i * 256);
  return out;
}

describe('the grid sums to the kNN distance for every K_n and DN mode', () => {
  let banks: (kn: number, mix: boolean) => MemoryBanks;
  let test: Float32Array;
  let waves: Float32Array[];
  let trainWave: Float32Array;
  beforeAll(async () => {
    // Ten distinct training rows (the training clips' first ten), source/target alternating.
    const trainDir = path.join(dir, 'data', 'fan', 'train');
    const files = readdirSync(trainDir)
      .sort()
      .slice(0, 10)
      .map((f) => path.join(trainDir, f));
    const rows = await fbankRows(files);
    trainWave = (await readWav(files[1]!)).samples;
    banks = (kn, mix) =>
      buildBanks({
        train: rows,
        dim: 256,
        trainDomains: DOMAINS,
        kn,
        mixup: mix ? { K_s: 2, lambda: 0.9 } : null,
      });
    waves = await Promise.all([3, 4].map(async (i) => (await readWav(testClip('anomaly', i))).samples));
    test = new Float32Array(2 * 256);
    waves.forEach((w, i) => test.set(fbankStatistics(w), i * 256));
  });

  it('names MemMixup rows as the mix of the two clips, with the provenance of the table', async () => {
    const b = banks(1, true);
    const names = Array.from({ length: 10 }, (_, i) => `fan/train/clip${i}.wav`);
    // Training row 1 (a target clip) explained against its own banks: the target bank wins at distance 0.
    const d = fbankStatsDecomposition(trainWave);
    const target = b.groups.findIndex((g) => g.name === 'target');
    const a = await attribute(d, {
      banks: b,
      dn: 'none',
      scored: { features: fbankStatistics(trainWave), row: 0 },
      neighbours: b.bankSize(target),
      rowNames: names,
    });
    expect(a.bank).toBe('target');
    expect(a.neighbours[0]!.name).toBe(names[1]);
    const table = b.mixup!;
    const members = b.group(target).rows.length;
    const mixes = a.neighbours.filter((n) => n.mix);
    expect(mixes).toHaveLength(table.sources.length);
    for (const n of mixes) {
      const k = n.row - members;
      const t = names[table.targets[Math.floor(k / table.K_s)]!]!;
      const src = names[table.sources[k]!]!;
      expect(n.name).toBe(`mix(${t}, ${src}, λ=0.9)`);
      expect(n.mix).toEqual({ target: t, source: src, lambda: 0.9 });
    }
  });

  for (const kn of [1, 3]) {
    for (const dn of ['none', 'inductive', 'transductive'] as DnMode[]) {
      for (const mix of [false, true]) {
        it(`K_n ${kn}, DN ${dn}, MemMixup ${mix}`, async () => {
          const b = banks(kn, mix);
          for (const meanOnly of [true, false]) {
            const d = fbankStatsDecomposition(waves[1]!, meanOnly);
            if (meanOnly) {
              // The mean half alone: a bank of the first 128 dimensions, split exactly.
              const half = buildBanks({
                train: Float32Array.from(
                  { length: 10 * 128 },
                  (_, k) => b.features[Math.floor(k / 128) * 256 + (k % 128)]!,
                ),
                dim: 128,
                trainDomains: DOMAINS,
                kn,
                mixup: mix ? { K_s: 2, lambda: 0.9 } : null,
              });
              const features = Float32Array.from(d.pooled);
              const a = await attribute(d, {
                banks: half,
                dn: dn === 'transductive' ? 'none' : dn,
                kn,
                scored: { features, row: 0 },
              });
              const target = a.dnStats ? a.distance / a.dnStats.std : a.distance;
              expect(rel(sum(a.grid.values), target)).toBeLessThan(1e-10);
              expect(a.grid.decomposition).toBe('exact');
              continue;
            }
            const a = await attribute(d, { banks: b, dn, kn, scored: { features: test, row: 1 } });
            const target = a.dnStats ? a.distance / a.dnStats.std : a.distance;
            expect(rel(sum(a.grid.values) + a.grid.residual, target)).toBeLessThan(1e-10);
            expect(Math.abs(a.grid.residual) / target).toBeLessThan(1e-9);
            expect(a.neighbours).toHaveLength(kn);
            expect(rel(a.distance, sum(a.neighbours.map((n) => n.distance)) / kn)).toBeLessThan(1e-10);
            // Scoring reads the float32 row, the grid its float64 sum: they agree to float32 rounding of d, over σ.
            if (a.dnStats) {
              const { mean, std } = a.dnStats;
              expect(Math.abs(a.score - (a.distance - mean) / std)).toBeLessThan((1e-6 * (a.distance + mean)) / std);
            } else expect(rel(a.score, a.distance)).toBeLessThan(1e-5);
          }
        });
      }
    }
  }
});

describe('BEATs tiny checkpoint: exact temporal split', () => {
  it('the tokens pool to the golden temporal features and the grid sums to the distance', async () => {
    const golden = new GoldenSet('golden-beats-tiny');
    const wave = golden.f32('beats/input_wave').data;
    const clips = [0, 1, 2].map((i) => wave.slice(i * 160000, (i + 1) * 160000));
    const embedder = await createEmbedder(
      { kind: 'beats', checkpoint: TINY_CHECKPOINT },
      { cacheDir: path.join(dir, 'beats-cache'), threads: 1, device: 'cpu' },
    );
    try {
      if (!(embedder instanceof BeatsEmbedder)) throw new Error('expected the BEATs embedder');
      const beats = embedder;
      const tokens = await beats.tokens(clips[2]!, 2);
      expect([tokens.times, tokens.bands, tokens.channels]).toEqual([62, 8, 64]);
      const d = beatsDecomposition(tokens);
      const ref = golden.f32('beats/pooled_temporal/layer2').data.subarray(2 * 512, 3 * 512);
      expect(cosine(Float32Array.from(d.pooled), ref)).toBeGreaterThanOrEqual(0.99999);
      const [train] = await embedder.embed(clips.slice(0, 2), { layers: [2], pooling: 'temporal' });
      const [feature] = await embedder.embed([clips[2]!], { layers: [2], pooling: 'temporal' });
      // The token graph's mean over time is the pooled graph's output, to float32 rounding.
      d.pooled.forEach((x, k) => expect(Math.abs(x - feature![k]!)).toBeLessThan(1e-5 * (1 + Math.abs(x))));
      for (const kn of [1, 2]) {
        const b = buildBanks({ train: train!, dim: 512, kn });
        const a = await attribute(d, { banks: b, dn: 'none', kn, scored: { features: feature!, row: 0 } });
        expect(rel(sum(a.grid.values), a.distance)).toBeLessThan(1e-9);
        expect(rel(a.score, a.distance)).toBeLessThan(1e-5);
        expect(a.grid.decomposition).toBe('exact');
        expect(a.grid.bandHz).toHaveLength(8);
        expect(a.grid.timeSeconds[0]).toBeCloseTo(0.0875, 9);
      }
    } finally {
      await embedder.dispose();
    }
  }, 60_000);
});

describe('BEATs tiny checkpoint: a saved bank explained end to end', () => {
  it('scores as scoreFiles, splits exactly under none and inductive DN, names the rows', async () => {
    const golden = new GoldenSet('golden-beats-tiny');
    const wave = golden.f32('beats/input_wave').data;
    const three = [0, 1, 2].map((i) => wave.slice(i * 160000, (i + 1) * 160000));
    // Four distinct training clips (two of them altered) so the leave-one-out distances have a spread for DN.
    const clips = [three[0]!, three[1]!, three[0]!.map((x) => 0.5 * x), three[1]!.slice().reverse(), three[2]!];
    const files = clips.map((c, i) => {
      const f = path.join(dir, `beats-${i}.wav`);
      writeFileSync(f, encodeWavPcm16(c, 16000));
      return f;
    });
    const NAMES = ['a/one.wav', 'a/two.wav', 'a/three.wav', 'a/four.wav'];
    const embedderConfig = { kind: 'beats' as const, checkpoint: TINY_CHECKPOINT };
    const embedder = await createEmbedder(
      { kind: 'beats', checkpoint: TINY_CHECKPOINT },
      { cacheDir: path.join(dir, 'cache'), threads: 1, device: 'cpu' },
    );
    const read = async (f: string): Promise<Float32Array> => (await readWav(f)).samples;
    let train: Float32Array | undefined;
    try {
      [train] = await embedder.embed(await Promise.all(files.slice(0, 4).map(read)), {
        layers: [1],
        pooling: 'temporal',
      });
    } finally {
      await embedder.dispose();
    }
    const bank = buildBanks({
      train: train!,
      dim: 512,
      meta: { embedder: embedder.id, layer: 1, pooling: 'temporal', rowNames: NAMES },
    });
    const bankFile = path.join(dir, 'beats.grbank');
    await saveBank(bankFile, bank);
    for (const dn of ['none', 'inductive'] as const) {
      const e = await explainClipWithBank({
        bankFile,
        clip: files[4]!,
        dn,
        embedder: embedderConfig,
        settings: settings(),
      });
      const scored = await scoreFilesWithBank({
        bankFile,
        files: [files[4]!],
        dn,
        embedder: embedderConfig,
        settings: settings(),
      });
      expect(rel(e.score, scored.files[0]!.score)).toBeLessThan(1e-5);
      const target = e.dnStats ? e.distance / e.dnStats.std : e.distance;
      expect(rel(sum(e.grid.values), target)).toBeLessThan(1e-9);
      expect(e.grid.decomposition).toBe('exact');
      expect([e.grid.times, e.grid.bands]).toEqual([62, 8]);
      expect(NAMES).toContain(e.neighbours[0]!.name);
    }
  }, 60_000);
});

describe('what explain refuses', () => {
  it('refuses spectral and spatial pooling, which keep no time × band grid', async () => {
    const embedder = await createEmbedder({ kind: 'fbank-stats' }, {});
    for (const pooling of ['spectral', 'spatial'] as const) {
      await expect(decomposeClip(embedder, new Float32Array(16000), 1, pooling)).rejects.toThrow(
        new RegExp(`pooling '${pooling}' cannot be split over time and frequency`),
      );
    }
  });
});
