import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExplainResult } from '../../worker/src/protocol/explain';
import type { RunResults } from '../../worker/src/protocol/results';
import { tempDir } from '../helpers/cli';
import { runCliProcess } from '../helpers/cliProcess';

// Spawns the built CLI (worker/bin/genrep.js): run `npx tsc -b` first.
const tmp = tempDir('genrep-explain-cli-');
const data = tmp.file('data');
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

async function genrep(args: string[]): Promise<string> {
  const r = await runCliProcess(args, { timeoutMs: 60_000 });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

function checkExplanation(file: string): ExplainResult {
  const e = JSON.parse(readFileSync(file, 'utf8')) as ExplainResult;
  const target = e.dnStats ? e.distance / e.dnStats.std : e.distance;
  expect(Math.abs(sum(e.grid.values) + e.grid.residual - target) / target).toBeLessThan(1e-10);
  expect(e.grid.values).toHaveLength(e.grid.times * e.grid.bands);
  expect(e.perTime).toHaveLength(e.grid.times);
  expect(e.perBand).toHaveLength(e.grid.bands);
  expect(e.neighbours.length).toBeGreaterThanOrEqual(1);
  expect(e.neighbours[0]!.name).toMatch(/^fan\/train\/.*\.wav$|^mix\(/);
  return e;
}

beforeAll(async () => {
  await genrep(['synth', '--out', data, '--machines', 'fan', '--clips', '20,3,4', '--duration', '2', '--seed', '1']);
}, 60_000);
afterAll(() => tmp.cleanup());

describe('genrep explain', () => {
  it('explains a run clip with the score the run reported', async () => {
    const config = tmp.file('run.json');
    const dn = 'transductive';
    writeFileSync(
      config,
      JSON.stringify({
        name: 'explain',
        dataset: { root: data },
        embedder: 'fbank-stats',
        output: tmp.file('out'),
        cacheDir: tmp.file('cache'),
        dn,
        K_n: 2,
        mixup: { K_s: 3, lambda: 0.9 },
      }),
    );
    await genrep(['run', config]);
    const resultsFile = tmp.file('out/results.json');
    const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as RunResults;
    const clip = results.variants[0]!.machines[0]!.files.find((f) => f.label === 'anomaly')!;
    const out = tmp.file('run-explain.json');
    const printed = await genrep(['explain', '--results', resultsFile, '--clip', clip.name, '--out', out]);
    expect(printed).toMatch(/score -?\d/);
    expect(printed).toMatch(/nearest normal clip: /);
    const e = checkExplanation(out);
    expect(e.score).toBe(clip.score);
    expect(e.dn).toBe(dn);
    expect(e.K_n).toBe(2);
    expect(e.neighbours).toHaveLength(2);
    expect(e.source).toEqual({ resultsFile, variant: results.variants[0]!.id, machineType: 'fan' });
  }, 120_000);

  it('explains a WAV file against a bank built from the dataset', async () => {
    const bank = tmp.file('fan.grbank');
    await genrep([
      'bank',
      'build',
      '--root',
      data,
      '--machine-type',
      'fan',
      '--out',
      bank,
      '--cache-dir',
      tmp.file('cache'),
    ]);
    const run = JSON.parse(readFileSync(tmp.file('out/results.json'), 'utf8')) as RunResults;
    const file = run.variants[0]!.machines[0]!.files[0]!.path;
    const out = tmp.file('bank-explain.json');
    await genrep(['explain', '--bank', bank, file, '--out', out, '--cache-dir', tmp.file('cache')]);
    const e = checkExplanation(out);
    expect(e.dn).toBe('inductive');
    expect(e.source).toEqual({ bankFile: bank });
    const scored = JSON.parse(
      await genrep(['score', '--bank', bank, file, '--json', '--cache-dir', tmp.file('cache')]),
    ) as { files: { score: number }[] };
    expect(Math.abs(e.score - scored.files[0]!.score)).toBeLessThan(1e-9);
  }, 120_000);
});
