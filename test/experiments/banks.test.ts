import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildBankFromDataset, listBanks, scoreFilesWithBank } from '../../worker/src/experiments/banks';
import { buildBanks, saveBank } from '../../worker/src/scoring';
import { resolveSettings, type Settings } from '../../worker/src/settings';
import { writeTinyDataset } from '../helpers/tinyDataset';
import { fanBankRecipe } from '../helpers/tinyRuns';
import { FIXTURES } from '../helpers/golden';
import { genrepRejection } from '../helpers/errors';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-banks-'));
  writeTinyDataset(path.join(dir, 'data'), { machines: ['fan'] });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The test's own cache folder over the environment, as the worker resolves a request's folders. */
function settings(): Settings {
  return resolveSettings({ runConfig: { cacheDir: path.join(dir, 'cache') }, env: process.env });
}

describe('memory bank files for the editor', () => {
  it('builds a bank from a machine type and scores new clips with it; anomalies score higher', async () => {
    const out = path.join(dir, 'banks', 'fan-L1.grbank');
    const built = await buildBankFromDataset({ ...fanBankRecipe(dir, out, 10), settings: settings() });
    expect(built.rows).toEqual({ source: 30, target: 5 });
    expect(built.header.inductiveStats?.length).toBe(1);
    const test = path.join(dir, 'data', 'fan', 'test');
    const normals = [0, 1, 2].map((i) => path.join(test, `section_00_source_test_normal_000${i}_spd_200.wav`));
    const anomalies = [0, 1, 2].map((i) => path.join(test, `section_00_source_test_anomaly_000${i}_spd_200.wav`));
    const scored = await scoreFilesWithBank({
      bankFile: out,
      files: [...normals, ...anomalies],
      dn: 'inductive',
      settings: settings(),
    });
    expect(scored.files).toHaveLength(6);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(scored.files.slice(3).map((f) => f.score))).toBeGreaterThan(
      mean(scored.files.slice(0, 3).map((f) => f.score)),
    );
    expect(Number.isFinite(scored.threshold)).toBe(true);
    // The training clips' leave-one-out scores travel with the result: one per bank row, the threshold among them.
    const train = scored.trainScores ?? [];
    expect(train).toHaveLength(35);
    expect(scored.threshold).toBeGreaterThanOrEqual(Math.min(...train));
    expect(scored.threshold).toBeLessThanOrEqual(Math.max(...train));
    const listed = await listBanks(path.join(dir, 'banks'));
    expect(listed.map((b) => path.basename(b.file))).toEqual(['fan-L1.grbank']);
    expect(listed[0]!.header!.embedder).toMatch(/^fbank-stats/);
  });

  it('refuses files that are not WAVs and a bank built with another embedder', async () => {
    const out = path.join(dir, 'banks', 'fan-L1.grbank');
    await expect(
      scoreFilesWithBank({ bankFile: out, files: [path.join(dir, 'notes.txt')], dn: 'none', settings: settings() }),
    ).rejects.toThrow(/notes\.txt: is not a \.wav file/);
    // The tiny BEATs-shaped checkpoint of the golden fixtures stands in for "another embedder".
    const tinyBeats = path.join(FIXTURES, 'golden-beats-tiny', 'checkpoint.pt');
    const wav = path.join(dir, 'data', 'fan', 'test', 'section_00_source_test_normal_0000_spd_200.wav');
    await expect(
      scoreFilesWithBank({
        bankFile: out,
        files: [wav],
        dn: 'none',
        embedder: tinyBeats,
        settings: settings(),
      }),
    ).rejects.toThrow(
      /fan-L1\.grbank: was built with embedder 'fbank-stats[^']*', but the selected embedder is 'beats/,
    );
  });

  it('records the machine type and section, and refuses clips of another type unless allowed', async () => {
    const out = path.join(dir, 'banks', 'fan-L1.grbank');
    const [listed] = await listBanks(path.join(dir, 'banks'));
    expect(listed?.header).toMatchObject({ machineType: 'fan', section: '00' });
    // A pump clip (the same sound, in a pump dataset's folder): refused before any feature is extracted.
    const fanClip = path.join(dir, 'data', 'fan', 'test', 'section_00_source_test_normal_0000_spd_200.wav');
    const pumpDir = path.join(dir, 'other', 'pump', 'test');
    mkdirSync(pumpDir, { recursive: true });
    const pumpClip = path.join(pumpDir, 'section_00_source_test_normal_0000_spd_200.wav');
    copyFileSync(fanClip, pumpClip);
    const refused = await genrepRejection(
      scoreFilesWithBank({ bankFile: out, files: [fanClip, pumpClip], dn: 'none', settings: settings() }),
    );
    expect(refused.code).toBe('BAD_INPUT');
    expect(refused.data).toMatchObject({ file: out, field: 'allowOtherMachineType', expected: 'fan' });
    expect(refused.message).toMatch(
      /fan-L1\.grbank: is a memory bank of machine type 'fan', but 1 file is of machine type 'pump' \(section_00_source_test_normal_0000_spd_200\.wav: outside every dataset root: machine type pump from the folder above test\/, the rest from the DCASE 2023 file name\)/,
    );
    // Inside a dataset root the root decides, so the same refusal names the root.
    const inRoot = await genrepRejection(
      scoreFilesWithBank({
        bankFile: out,
        files: [pumpClip],
        dn: 'none',
        datasetRoots: [path.join(dir, 'other')],
        settings: settings(),
      }),
    );
    expect(inRoot.message).toMatch(/in dataset root .*other: machine type pump from its folder/);
    const allowed = await scoreFilesWithBank({
      bankFile: out,
      files: [pumpClip],
      dn: 'none',
      allowOtherMachineType: true,
      settings: settings(),
    });
    expect(allowed.files).toHaveLength(1);
    expect(allowed.bank.machineType).toBe('fan');
    // A file whose type nothing says is scored: nothing says it differs.
    const loose = path.join(dir, 'other', 'take.wav');
    copyFileSync(fanClip, loose);
    const unknown = await scoreFilesWithBank({ bankFile: out, files: [loose], dn: 'none', settings: settings() });
    expect(unknown.files).toHaveLength(1);
  });

  it('builds a bank of one section when asked, and refuses a section that is not there', async () => {
    const out = path.join(dir, 'banks-section', 'fan-s00.grbank');
    const built = await buildBankFromDataset({ ...fanBankRecipe(dir, out, 5), section: '00', settings: settings() });
    expect(built.header).toMatchObject({ machineType: 'fan', section: '00' });
    const missing = await genrepRejection(
      buildBankFromDataset({ ...fanBankRecipe(dir, out, 5), section: '07', settings: settings() }),
    );
    expect(missing.message).toMatch(/07/);
  });

  it('lists an unreadable bank with its error instead of hiding it', async () => {
    writeFileSync(path.join(dir, 'banks', 'broken.grbank'), 'garbage');
    const listed = await listBanks(path.join(dir, 'banks'));
    const broken = listed.find((b) => b.file.endsWith('broken.grbank'))!;
    expect(broken.header).toBeNull();
    expect(broken.error).toMatch(/broken\.grbank/);
  });

  it('refuses a bank whose header names a layer or pooling the embedder cannot produce, naming the bank', async () => {
    const wav = path.join(dir, 'data', 'fan', 'test', 'section_00_source_test_normal_0000_spd_200.wav');
    const train = Float32Array.from({ length: 12 * 256 }, (_, i) => Math.sin(i));
    for (const [meta, pattern] of [
      [
        { layer: 7, pooling: 'temporal' },
        /layer7\.grbank: was built from layer 7, but fbank-stats:v1 has layers 1\.\.1/,
      ],
      [
        { layer: 1, pooling: 'mean-of-max' },
        /pooling\.grbank: was built with pooling 'mean-of-max', which the embedder cannot produce/,
      ],
    ] as const) {
      const file = path.join(dir, 'banks', meta.layer === 7 ? 'layer7.grbank' : 'pooling.grbank');
      await saveBank(file, buildBanks({ train, dim: 256, meta: { embedder: 'fbank-stats:v1', ...meta } }));
      await expect(
        scoreFilesWithBank({ bankFile: file, files: [wav], dn: 'none', settings: settings() }),
      ).rejects.toThrow(pattern);
    }
  });
});
