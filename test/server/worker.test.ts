import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ProgressType } from 'vscode-jsonrpc/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_ERROR_CODES } from '../../worker/src/protocol/errors';
import {
  WORKER_REQUESTS,
  type DatasetFound,
  type WorkDoneProgressValue,
  type WorkerStatus,
} from '../../worker/src/protocol/workerProtocol';
import { FIXTURES } from '../helpers/golden';
import { writeTinyDataset } from '../helpers/tinyDataset';
import { fanBankRecipe } from '../helpers/tinyRuns';
import { rejectionOf, startWorker, stopWorker, type TestWorker } from './workerProcess';

let dir: string;
let worker: TestWorker;
const statuses: WorkerStatus[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-server-'));
  writeTinyDataset(path.join(dir, 'data'), {
    machines: ['fan', 'pump'],
    trainSource: 12,
    trainTarget: 3,
    testPerGroup: 3,
  });
  worker = await startWorker({ settings: { cacheDir: path.join(dir, 'cache') } });
  worker.connection.onNotification('genrep/status', (s: WorkerStatus) => statuses.push(s));
});

afterAll(async () => {
  if (worker) expect(await stopWorker(worker)).toEqual({ code: 0, signal: null });
  rmSync(dir, { recursive: true, force: true });
});

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function writeConfig(name: string, config: Record<string, unknown>): string {
  const file = path.join(dir, name);
  writeFileSync(
    file,
    JSON.stringify(
      {
        dataset: { root: 'data' },
        embedder: 'fbank-stats',
        mixup: { K_s: 5, lambda: 0.9 },
        output: `out-${name}`,
        ...config,
      },
      null,
      2,
    ),
  );
  return file;
}

describe('the worker process over stdio', () => {
  it('answers initialize with its pid, protocol version and every method', () => {
    expect(worker.initialize.genrep.pid).toBe(worker.pid);
    expect(worker.initialize.genrep.protocolVersion).toBe(1);
    expect(worker.initialize.genrep.methods.sort()).toEqual(Object.keys(WORKER_REQUESTS).sort());
    expect(worker.initialize.capabilities).toEqual({});
  });

  it('lists a dataset by machine type, split and domain, and reports a missing root without failing the others', async () => {
    const missing = path.join(dir, 'gone');
    const { datasets } = await worker.request('genrep/listDatasets', { roots: [path.join(dir, 'data'), missing] });
    expect(datasets.map((d) => d.status)).toEqual(['ok', 'missing']);
    const found = datasets[0] as DatasetFound;
    expect(found.layout).toBe('dcase2023');
    expect(found.machines.map((m) => m.machineType)).toEqual(['fan', 'pump']);
    const fan = found.machines[0]!;
    expect(fan.train.filter((c) => c.domain === 'source')).toHaveLength(12);
    expect(fan.train.filter((c) => c.domain === 'target')).toHaveLength(3);
    expect(fan.test.filter((c) => c.label === 'anomaly')).toHaveLength(6);
    expect(datasets[1]).toMatchObject({ root: missing, error: { code: 'NOT_FOUND' } });
  });

  it('refuses malformed params with InvalidParams naming the field', async () => {
    const err = await rejectionOf(worker.request('genrep/listDatasets', { roots: 'not-a-list' } as never));
    expect(err.code).toBe(-32602);
    expect(err.message).toMatch(/\/roots: must be array/);
    expect(err.data).toMatchObject({ code: 'BAD_INPUT', field: '/roots' });
  });

  it('runs an experiment with work-done progress from begin to end and the job in genrep/status', async () => {
    const configFile = writeConfig('ok.genrep.json', {});
    const values: WorkDoneProgressValue[] = [];
    const token = 'run-1';
    const sub = worker.connection.onProgress(new ProgressType<WorkDoneProgressValue>(), token, (v) => values.push(v));
    const outcome = await worker.request('genrep/run', { configFile, workDoneToken: token });
    sub.dispose();
    expect(existsSync(outcome.resultsFile)).toBe(true);
    expect(existsSync(outcome.reportFile)).toBe(true);
    expect(outcome.machineTypes).toEqual(['fan', 'pump']);
    expect(outcome.overall?.auc).toBeGreaterThan(0.5);
    expect(values[0]).toMatchObject({ kind: 'begin', cancellable: true });
    expect(values.at(-1)).toMatchObject({ kind: 'end', message: 'done' });
    const stages = values.flatMap((v) => (v.kind === 'report' && v.stage ? [v.stage] : []));
    expect(stages).toContain('extract');
    expect(stages).toContain('write');
    const percentages = values.flatMap((v) =>
      v.kind === 'report' && v.percentage !== undefined ? [v.percentage] : [],
    );
    expect(percentages).toEqual([...percentages].sort((a, b) => a - b));
    expect(statuses.some((s) => s.state === 'busy' && s.jobs[0]?.method === 'genrep/run')).toBe(true);
    expect(statuses.at(-1)).toEqual({ state: 'idle', jobs: [] });

    const { results } = await worker.request('genrep/results', { file: outcome.resultsFile });
    expect(results.variants[0]!.machines.map((m) => m.machineType)).toEqual(['fan', 'pump']);
  });

  it('turns a config problem into BAD_INPUT with the file, the JSON pointer and its range', async () => {
    const configFile = writeConfig('badlayer.genrep.json', { layers: [1, 7] });
    const err = await rejectionOf(worker.request('genrep/run', { configFile }));
    expect(err.code).toBe(WORKER_ERROR_CODES.BAD_INPUT);
    expect(err.data).toMatchObject({ code: 'BAD_INPUT', file: configFile, field: '/layers/1' });
    // Where JSON.stringify(…, 2) put the 7: alone on its line, indented by two levels.
    const line = readFileSync(configFile, 'utf8')
      .split('\n')
      .findIndex((l) => l === '    7');
    expect(line).toBeGreaterThan(0);
    expect(err.data['range']).toEqual({ start: { line, character: 4 }, end: { line, character: 5 } });
  });

  it('names a config file that does not exist', async () => {
    const configFile = path.join(dir, 'nope.genrep.json');
    const err = await rejectionOf(worker.request('genrep/run', { configFile }));
    expect(err.code).toBe(WORKER_ERROR_CODES.NOT_FOUND);
    expect(err.data).toMatchObject({ code: 'NOT_FOUND', file: configFile });
  });

  it('gives a clip as a downsampled log-mel spectrogram and as playable 16-bit WAV bytes', async () => {
    const clip = path.join(dir, 'data', 'fan', 'test', 'section_00_source_test_anomaly_0000_spd_200.wav');
    const spec = await worker.request('genrep/spectrogram', { file: clip, maxFrames: 40 });
    expect(spec.bins).toBe(128);
    expect(spec.frames).toBeLessThanOrEqual(40);
    const data = new Float32Array(Buffer.from(spec.data, 'base64').buffer.slice(0));
    expect(data.length).toBe(spec.frames * spec.bins);
    expect(Math.max(...data)).toBeCloseTo(spec.max, 5);
    expect(spec.durationSec).toBeCloseTo(1, 5);
    // 1 s at 10 ms per frame = 98 frames → averaged in steps of 3 → 33 rows of 30 ms.
    expect(spec.frameShiftMs).toBe(30);
    const audio = await worker.request('genrep/clipAudio', { file: clip });
    const wav = Buffer.from(audio.wav, 'base64');
    expect(wav.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect(wav.length).toBe(44 + 16000 * 2);
    expect(audio).toMatchObject({ sampleRate: 16000, truncated: false });
  });

  it('builds a memory bank, lists it and scores new files with it', async () => {
    const out = path.join(dir, 'banks', 'fan-L1.grbank');
    const built = await worker.request('genrep/buildBank', fanBankRecipe(dir, out, 5));
    expect(built.rows).toEqual({ source: 12, target: 3 });
    expect(built.header).toMatchObject({ machineType: 'fan', section: '00' });
    const { banks } = await worker.request('genrep/listBanks', {
      dirs: [path.join(dir, 'banks'), path.join(dir, 'no-banks-here')],
    });
    expect(banks.map((b) => b.file)).toEqual([out]);
    expect(banks[0]!.header).toMatchObject({ machineType: 'fan', section: '00' });
    const test = (name: string): string => path.join(dir, 'data', 'fan', 'test', name);
    const files = [
      test('section_00_source_test_normal_0000_spd_200.wav'),
      test('section_00_source_test_anomaly_0000_spd_200.wav'),
    ];
    const scored = await worker.request('genrep/scoreFiles', { bankFile: out, files, dn: 'inductive' });
    expect(scored.files.map((f) => f.path)).toEqual(files);
    expect(scored.files[1]!.score).toBeGreaterThan(scored.files[0]!.score);
    expect(scored.bank.embedder).toMatch(/^fbank-stats/);
    // The bank's leave-one-out training scores reach the panel (the strip plot's context row): one per bank row.
    expect(scored.trainScores).toHaveLength(15);
    expect(scored.trainScores!.every((x) => Number.isFinite(x))).toBe(true);
  });

  it('refuses selected files that are not WAVs, naming the file', async () => {
    const notes = path.join(dir, 'notes.txt');
    writeFileSync(notes, 'not audio');
    const disguised = path.join(dir, 'disguised.wav');
    writeFileSync(disguised, 'not audio either');
    const bankFile = path.join(dir, 'banks', 'fan-L1.grbank');
    const err = await rejectionOf(worker.request('genrep/scoreFiles', { bankFile, files: [notes], dn: 'none' }));
    expect(err.code).toBe(WORKER_ERROR_CODES.BAD_INPUT);
    expect(err.data).toMatchObject({ file: notes });
    expect(err.message).toMatch(/notes\.txt: is not a \.wav file/);
    const err2 = await rejectionOf(worker.request('genrep/scoreFiles', { bankFile, files: [disguised], dn: 'none' }));
    expect(err2.data).toMatchObject({ file: disguised });
  });

  it('resolves clips against the roots, refuses a pump clip for the fan bank unless allowed, and logs each job', async () => {
    const logs: string[] = [];
    const listener = worker.connection.onNotification('window/logMessage', (m: { message: string }) =>
      logs.push(m.message),
    );
    const bankFile = path.join(dir, 'banks', 'fan-L1.grbank');
    const root = path.join(dir, 'data');
    const pumpClip = path.join(root, 'pump', 'test', 'section_00_source_test_normal_0000_spd_250.wav');
    const loose = path.join(dir, 'loose.wav');
    const { clips } = await worker.request('genrep/resolveClips', { files: [pumpClip, loose], roots: [root] });
    expect(clips).toMatchObject([
      { path: pumpClip, how: 'dataset', root, machineType: 'pump', section: '00', domain: 'source', split: 'test' },
      { path: loose, how: 'unknown', machineType: null },
    ]);
    const err = await rejectionOf(
      worker.request('genrep/scoreFiles', { bankFile, files: [pumpClip], dn: 'none', datasetRoots: [root] }),
    );
    expect(err.code).toBe(WORKER_ERROR_CODES.BAD_INPUT);
    expect(err.data).toMatchObject({ file: bankFile, field: 'allowOtherMachineType', expected: 'fan' });
    expect(err.message).toMatch(/machine type 'fan', but 1 file is of machine type 'pump'/);
    const scored = await worker.request('genrep/scoreFiles', {
      bankFile,
      files: [pumpClip],
      dn: 'none',
      datasetRoots: [root],
      allowOtherMachineType: true,
    });
    expect(scored.bank).toMatchObject({ machineType: 'fan', section: '00' });
    const pumpBank = path.join(dir, 'banks', 'pump-L1.grbank');
    await worker.request('genrep/buildBank', { ...fanBankRecipe(dir, pumpBank, 5), machineType: 'pump' });
    listener.dispose();
    const building = `building the pump memory bank from ${root} (layer 1) into ${pumpBank}`;
    expect(logs).toContain(`${building}: started`);
    expect(logs).toContainEqual(
      expect.stringMatching(
        new RegExp(`^${escape(building)}: saved, 12 source \\+ 3 target clips, embedder fbank-stats`),
      ),
    );
    const scoring = `scoring 1 file against ${bankFile}`;
    expect(logs).toContainEqual(expect.stringMatching(new RegExp(`^${escape(scoring)}: started$`)));
    expect(logs).toContainEqual(
      expect.stringMatching(new RegExp(`^${escape(scoring)}: failed: .*machine type 'pump'`)),
    );
    expect(logs).toContainEqual(
      expect.stringMatching(
        new RegExp(`^${escape(scoring)}: [01] of 1 flagged as anomalous \\(threshold .*\\) \\(\\d+\\.\\d s\\)$`),
      ),
    );
  });

  it('refuses a bank built with another embedder than the one selected', async () => {
    const bankFile = path.join(dir, 'banks', 'fan-L1.grbank');
    const clip = path.join(dir, 'data', 'fan', 'test', 'section_00_source_test_normal_0000_spd_200.wav');
    // The tiny BEATs-shaped checkpoint of the golden fixtures stands in for "another embedder".
    const embedder = path.join(FIXTURES, 'golden-beats-tiny', 'checkpoint.pt');
    const err = await rejectionOf(
      worker.request('genrep/scoreFiles', { bankFile, files: [clip], dn: 'none', embedder }),
    );
    expect(err.code).toBe(WORKER_ERROR_CODES.BAD_INPUT);
    expect(err.data).toMatchObject({ code: 'BAD_INPUT', file: bankFile, field: 'embedder' });
    expect(err.data['expected']).toMatch(/^fbank-stats/);
  });
});
