import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyDataset } from '../helpers/tinyDataset';
import { fanBankRecipe } from '../helpers/tinyRuns';
import { rejectionOf, startWorker, stopWorker, type TestWorker } from '../server/workerProcess';

// Spawns the built worker: run `npx tsc -b` first.
let dir: string;
let worker: TestWorker;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-explain-worker-'));
  writeTinyDataset(path.join(dir, 'data'), { machines: ['fan'] });
  worker = await startWorker({ settings: { cacheDir: path.join(dir, 'cache') } });
});

afterAll(async () => {
  if (worker) expect(await stopWorker(worker)).toEqual({ code: 0, signal: null });
  rmSync(dir, { recursive: true, force: true });
});

describe('genrep/explainClip', () => {
  it('explains a clip against a bank with the score scoreFiles gives it, and refuses what it cannot do', async () => {
    const bankFile = path.join(dir, 'fan.grbank');
    await worker.request('genrep/buildBank', fanBankRecipe(dir, bankFile, 5));
    const clip = path.join(dir, 'data', 'fan', 'test', 'section_00_source_test_anomaly_0000_spd_200.wav');
    const e = await worker.request('genrep/explainClip', {
      clip,
      bankFile,
      dn: 'inductive',
      neighbours: 3,
      datasetRoot: path.join(dir, 'data'),
    });
    const scored = await worker.request('genrep/scoreFiles', { bankFile, files: [clip], dn: 'inductive' });
    expect(Math.abs(e.score - scored.files[0]!.score)).toBeLessThan(1e-9);
    expect(e.neighbours).toHaveLength(3);
    for (const n of e.neighbours) {
      if (n.mix) expect(n.name).toBe(`mix(${n.mix.target}, ${n.mix.source}, λ=0.9)`);
      else expect(n.path).toBe(path.join(dir, 'data', n.name));
    }
    const err = await rejectionOf(worker.request('genrep/explainClip', { clip, bankFile, dn: 'transductive' }));
    expect(err.message).toMatch(/transductive needs a test set/);
    const none = await rejectionOf(worker.request('genrep/explainClip', { clip }));
    expect(none.message).toMatch(/give bankFile .* or resultsFile/);
  }, 60_000);
});
