import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunProfile } from '../../worker/src/cli/runProfile';
import { readJson, runCli, tempDir } from '../helpers/cli';
import { FIXTURES } from '../helpers/golden';
import { writeTinyDataset } from '../helpers/tinyDataset';

const tmp = tempDir('genrep-cli-profile-');
const data = tmp.file('data');
// 2 machine types × (4 source + 2 target training clips + 2 test groups × 2 domains × 1 clip).
const CLIPS = 2 * (4 + 2 + 4);

function config(name: string, embedder: string, extra: Record<string, unknown> = {}): string {
  const file = tmp.file(`${name}.genrep.json`);
  const body = {
    name,
    dataset: { root: data, layout: 'dcase2023' },
    embedder,
    K_n: 1,
    mixup: { K_s: 2, lambda: 0.9 },
    dn: 'transductive',
    layerSelection: { mode: 'fixed', layer: 1 },
    layers: [1],
    cacheDir: tmp.file(`cache-${name}`),
    output: tmp.file(`out-${name}`),
    ...extra,
  };
  writeFileSync(file, JSON.stringify(body));
  return file;
}

async function profiledRun(cfg: string, profile: string, extra: string[] = []): Promise<RunProfile> {
  const run = await runCli(['run', cfg, '--quiet', '--profile', profile, ...extra]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return readJson<RunProfile>(profile);
}

beforeAll(() => writeTinyDataset(data, { trainSource: 4, trainTarget: 2, testPerGroup: 1 }));
afterAll(() => tmp.cleanup());

describe('genrep run --profile', () => {
  it('breaks a cold run into its extraction stages, and a warm run into the cache lookup alone', async () => {
    const cfg = config('stats', 'fbank-stats');
    const cold = await profiledRun(cfg, tmp.file('cold.json'), ['--threads', '1']);
    expect(cold.genrepProfile).toBe(1);
    expect(cold.threads).toBe(1);
    expect(cold.clips).toEqual({ fromCache: 0, extracted: CLIPS });
    expect(Object.keys(cold.extraction)).toEqual(['lookup', 'read', 'decode', 'embedOther', 'cacheWrite']);
    for (const stage of Object.values(cold.extraction)) {
      expect(stage.clips).toBe(CLIPS);
      expect(stage.seconds).toBeGreaterThanOrEqual(0);
    }
    const run = cold.run!;
    expect(run.totalSec).toBeGreaterThanOrEqual(run.extractSec);
    expect(cold.peakRssBytes).toBeGreaterThan(10 * 2 ** 20);
    expect(cold.cpuSeconds.user).toBeGreaterThan(0);

    const warm = await profiledRun(cfg, tmp.file('warm.json'));
    expect(warm.clips).toEqual({ fromCache: CLIPS, extracted: 0 });
    expect(Object.keys(warm.extraction)).toEqual(['lookup']);
    expect(warm.extraction.lookup?.clips).toBe(CLIPS);
  });

  it("times an ONNX encoder's front-end and graph apart, one clip each", async () => {
    const tinyBeats = path.join(FIXTURES, 'golden-beats-tiny', 'checkpoint.pt');
    const profile = await profiledRun(config('beats', tinyBeats), tmp.file('beats.json'));
    expect(Object.keys(profile.extraction)).toEqual([
      'lookup',
      'read',
      'decode',
      'frontEnd',
      'encoder',
      'embedOther',
      'cacheWrite',
    ]);
    expect(profile.extraction.frontEnd?.clips).toBe(CLIPS);
    expect(profile.extraction.encoder?.clips).toBe(CLIPS);
    expect(profile.extraction.encoder?.seconds).toBeGreaterThan(0);
  });

  it('refuses a --threads that is not a positive integer, naming the option', async () => {
    const run = await runCli(['run', config('bad', 'fbank-stats'), '--threads', '0']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/--threads '0': expected a positive integer/);
  });
});
