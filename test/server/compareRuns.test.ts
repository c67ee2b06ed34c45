import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../worker/src/config/loadConfig';
import { runExperiment } from '../../worker/src/experiments/run';
import { JSON_RPC_CODES, WORKER_ERROR_CODES } from '../../worker/src/protocol/errors';
import { resolveSettings } from '../../worker/src/settings';
import { tempDir } from '../helpers/cli';
import { writeTinyDataset } from '../helpers/tinyDataset';
import { rejectionOf, startWorker, stopWorker, type TestWorker } from './workerProcess';

const tmp = tempDir('genrep-compare-server-');
let worker: TestWorker;
let resultsFile: string;

beforeAll(async () => {
  writeTinyDataset(path.join(tmp.dir, 'data'));
  const file = tmp.file('one.genrep.json');
  const text = JSON.stringify({
    name: 'one',
    dataset: { root: 'data' },
    embedder: 'fbank-stats',
    mixup: { K_s: 10, lambda: 0.9 },
    output: 'one',
  });
  writeFileSync(file, text);
  const loaded = parseRunConfig(text, file);
  resultsFile = (await runExperiment(loaded, resolveSettings({ runConfig: loaded.config, env: process.env })))
    .resultsFile;
  worker = await startWorker({ settings: { cacheDir: tmp.file('cache') } });
}, 120_000);

afterAll(async () => {
  if (worker) await stopWorker(worker);
  tmp.cleanup();
});

describe('genrep/compareRuns', () => {
  it('compares results.json files over the protocol', async () => {
    const result = await worker.request('genrep/compareRuns', { files: [resultsFile, resultsFile] });
    expect(result.runs.map((r) => r.label)).toEqual(['one (one)', 'one (one)']);
    const main = result.pairs[0]!.variants[0]!;
    expect(main.machines.map((m) => m.machineType)).toEqual(['fan', 'pump']);
    expect(main.overall.delta.auc).toBe(0);
    expect(main.changed).toEqual([]);
    expect(result.pairs[0]!.configDiff).toEqual([]);
  });

  it('refuses params without files, and names a file that is not there', async () => {
    const bad = await rejectionOf(worker.request('genrep/compareRuns', {} as never));
    expect(bad.code).toBe(JSON_RPC_CODES.INVALID_PARAMS);
    const missing = tmp.file('missing/results.json');
    const err = await rejectionOf(worker.request('genrep/compareRuns', { files: [resultsFile, missing] }));
    expect(err.code).toBe(WORKER_ERROR_CODES.NOT_FOUND);
    expect(err.message).toContain(missing);
  });
});
