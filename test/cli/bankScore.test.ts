import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli';
import { writeTinyDataset } from '../helpers/tinyDataset';

const tmp = tempDir('genrep-cli-bank-');
const data = tmp.file('data');
const bank = tmp.file('banks/fan.grbank');
const cache = ['--cache-dir', tmp.file('cache')];
const clip = (type: string, base: number): string =>
  path.join(data, type, 'test', `section_00_source_test_anomaly_0000_spd_${base}.wav`);

beforeAll(() => writeTinyDataset(data, { trainSource: 8, trainTarget: 2, testPerGroup: 1 }));
afterAll(() => tmp.cleanup());

describe('genrep bank build and genrep score', () => {
  it('builds a bank that records its machine type, K_s capped at the source clips', async () => {
    const built = await runCli([
      'bank',
      'build',
      '--root',
      data,
      '--machine-type',
      'fan',
      '--out',
      bank,
      '--kn',
      '1',
      ...cache,
    ]);
    expect(built.stderr).not.toMatch(/^genrep:/m);
    expect(built.code).toBe(0);
    expect(built.stdout).toBe(`${bank}: fan, section 00, 8 source + 2 target clips, fbank-stats:v1 layer 1\n`);
  });

  it('scores a clip of the bank type, and refuses one of another type in one line unless allowed', async () => {
    const fan = await runCli(['score', clip('fan', 200), '--bank', bank, '--json', ...cache]);
    expect(fan.code).toBe(0);
    const result = JSON.parse(fan.stdout) as { bank: { machineType: string }; files: { path: string }[] };
    expect(result.bank.machineType).toBe('fan');
    expect(result.files.map((f) => f.path)).toEqual([clip('fan', 200)]);

    const refused = await runCli(['score', clip('pump', 250), '--bank', bank, '--dataset-root', data, ...cache]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    const lines = refused.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^genrep: .*fan\.grbank: is a memory bank of machine type 'fan', but 1 file is of machine type 'pump' .*--allow-other-machine-type\)$/,
    );

    const allowed = await runCli([
      'score',
      clip('pump', 250),
      '--bank',
      bank,
      '--dataset-root',
      data,
      '--allow-other-machine-type',
      ...cache,
    ]);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(
      /^bank: .*fan\.grbank \(fan\), threshold \S+\nscore\tdecision\tfile\n\S+\t(anomaly|normal)\t.*pump/,
    );
  });
});
