import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CancellationTokenSource, ProgressType } from 'vscode-jsonrpc/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FBANK_STATS_DIM } from '../../worker/src/embedders';
import { WORKER_ERROR_CODES } from '../../worker/src/protocol/errors';
import type { WorkDoneProgressValue } from '../../worker/src/protocol/workerProtocol';
import { writeTinyDataset } from '../helpers/tinyDataset';
import { CLIP_BY_CLIP_RUN } from '../helpers/tinyRuns';
import { rejectionOf, startWorker, stopWorker, type TestWorker } from './workerProcess';

const MACHINES = ['fan', 'pump'];
const TRAIN_SOURCE = 60;
const TRAIN_TARGET = 4;
const TEST_PER_GROUP = 6;
const CLIPS = MACHINES.length * (TRAIN_SOURCE + TRAIN_TARGET + 4 * TEST_PER_GROUP);

let dir: string;
let worker: TestWorker;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-cancel-'));
  writeTinyDataset(path.join(dir, 'data'), {
    machines: MACHINES,
    trainSource: TRAIN_SOURCE,
    trainTarget: TRAIN_TARGET,
    testPerGroup: TEST_PER_GROUP,
    seconds: 4,
  });
  worker = await startWorker();
});

afterAll(async () => {
  if (worker) await stopWorker(worker);
  rmSync(dir, { recursive: true, force: true });
});

function filesUnder(root: string): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return out;
  }
  for (const name of entries) {
    const p = path.join(root, name);
    out = statSync(p).isDirectory() ? [...out, ...filesUnder(p)] : [...out, p];
  }
  return out;
}

describe('cancelling a run through $/cancelRequest', () => {
  it('stops during feature extraction, leaves only complete cache entries, and a re-run completes from them', async () => {
    const configFile = path.join(dir, 'cancel.genrep.json');
    // batchSize 1: the worker checks for cancellation between clips, and each clip is cached as soon as it is done.
    writeFileSync(configFile, JSON.stringify(CLIP_BY_CLIP_RUN));
    const cacheDir = path.join(dir, 'cache');

    const source = new CancellationTokenSource();
    const progress: WorkDoneProgressValue[] = [];
    const sub = worker.connection.onProgress(new ProgressType<WorkDoneProgressValue>(), 'cancel-me', (v) => {
      progress.push(v);
      // Cancel as soon as extraction has cached something: the job is now in the middle of its clips.
      if (v.kind === 'report' && v.stage === 'extract' && (v.done ?? 0) > 0) source.cancel();
    });
    const err = await rejectionOf(
      worker.request('genrep/run', { configFile, workDoneToken: 'cancel-me' }, source.token),
    );
    sub.dispose();
    expect(err.code).toBe(WORKER_ERROR_CODES.CANCELLED);
    expect(progress.at(-1)).toEqual({ kind: 'end', message: 'cancelled' });

    const files = filesUnder(cacheDir);
    const entries = files.filter((f) => f.endsWith('.f32'));
    // Stopped mid-extraction: some clips cached, not all of them.
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.length).toBeLessThan(CLIPS);
    // No temporary files left behind, and every entry is whole (one clip's float32 feature vector).
    expect(files.filter((f) => f.endsWith('.tmp') || f.endsWith('.part'))).toEqual([]);
    for (const f of entries) expect(statSync(f).size, f).toBe(FBANK_STATS_DIM * 4);
    expect(filesUnder(path.join(dir, 'out')).filter((f) => f.endsWith('results.json'))).toEqual([]);

    // The worker is still healthy, and the re-run reuses what the cancelled one finished.
    const outcome = await worker.request('genrep/run', { configFile });
    expect(outcome.cache).toEqual({ hits: entries.length, extracted: CLIPS - entries.length });
    expect(filesUnder(cacheDir).filter((f) => f.endsWith('.f32'))).toHaveLength(CLIPS);
  });

  it('takes a job waiting behind another out of the line when it is cancelled, and the worker keeps going', async () => {
    const configFile = path.join(dir, 'cancel.genrep.json');
    const first = worker.request('genrep/run', { configFile });
    const source = new CancellationTokenSource();
    const second = worker.request('genrep/run', { configFile }, source.token);
    source.cancel();
    expect((await rejectionOf(second)).code).toBe(WORKER_ERROR_CODES.CANCELLED);
    expect((await first).cache.extracted).toBe(0);
  });
});
