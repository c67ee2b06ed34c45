/**
 * `npm run bench:cores`: clips/s of BEATs extraction (full-size graph, seeded random weights, layers 1-12
 * temporal-pooled, batch 1 as the product runs it) on this machine's N cores, split different ways: one process with
 * N intra-op threads (today's default, ORT's spinning off), the same with spinning on, the same with the next clip's
 * fbank computed while the current clip runs, and every P processes × N/P threads (child processes, each its own
 * session, clips dealt round-robin), with and without the overlapped fbank. Timed from session creation to the
 * last clip; every split's features are compared byte for byte with the default's. Options: --clips N (default 40).
 */
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import type * as ConfigModule from '../worker/src/beats/config';
import type * as ConvertModule from '../worker/src/beats/convert';
import type * as RandomModule from '../worker/src/beats/randomWeights';
import type * as FbankModule from '../worker/src/fbank';
import type * as RuntimeModule from '../worker/src/onnx/runtime';
import { builtWorker } from './builtWorker';

const load = builtWorker;
const { ort } = load<typeof RuntimeModule>('onnx/runtime');
const { beatsFbank } = load<typeof FbankModule>('fbank');

const at = process.argv.indexOf('--clips');
const CLIPS = at >= 0 ? Number(process.argv[at + 1]) : 40;
const CORES = availableParallelism();

/** Clip `c`: a seeded tone plus noise, the same in every process. */
function wave(c: number): Float32Array {
  let state = 1000 + c;
  const rand = () => (state = (state * 1103515245 + 12345) >>> 0) / 4294967296;
  const f = 100 + 3000 * rand();
  return Float32Array.from(
    { length: 160000 },
    (_, t) => 0.3 * Math.sin((2 * Math.PI * f * t) / 16000) + 0.05 * (2 * rand() - 1),
  );
}

interface Job {
  model: string;
  clips: number[];
  threads: number;
  spinning: boolean;
  pipelined: boolean;
}

/** sha256 of each clip's outputs (every layer, in output order), and seconds from session creation to the last. */
async function extract(job: Job): Promise<{ hashes: string[]; seconds: number }> {
  const started = performance.now();
  const spin = job.spinning ? '1' : '0';
  const session = await ort.InferenceSession.create(job.model, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: job.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    executionProviders: ['cpu'],
    extra: { session: { intra_op: { allow_spinning: spin }, inter_op: { allow_spinning: spin } } },
    logSeverityLevel: 4,
  });
  const hashes: string[] = [];
  const fbank = (c: number) => beatsFbank(wave(c)).data;
  let next = job.clips.length > 0 ? fbank(job.clips[0]!) : undefined;
  for (let k = 0; k < job.clips.length; k++) {
    const running = session.run({ fbank: new ort.Tensor('float32', next!, [1, 998, 128]) });
    // Pipelined: the next clip's decode + fbank on the main thread while onnxruntime's threads run this one.
    if (job.pipelined) next = k + 1 < job.clips.length ? fbank(job.clips[k + 1]!) : undefined;
    const out = await running;
    if (!job.pipelined) next = k + 1 < job.clips.length ? fbank(job.clips[k + 1]!) : undefined;
    const hash = createHash('sha256');
    for (const name of session.outputNames) {
      const data = out[name]!.data as Float32Array;
      hash.update(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    }
    hashes.push(hash.digest('hex'));
  }
  await session.release();
  return { hashes, seconds: (performance.now() - started) / 1000 };
}

function child(job: Job): Promise<{ hashes: string[]; seconds: number }> {
  return new Promise((resolve, reject) => {
    const proc = fork(__filename, ['--child', JSON.stringify(job)]);
    proc.once('message', (m) => resolve(m as { hashes: string[]; seconds: number }));
    proc.once('error', reject);
    proc.once('exit', (code) => (code ? reject(new Error(`child exited ${code}`)) : undefined));
  });
}

async function main(): Promise<void> {
  const { BEATS_OFFICIAL } = load<typeof ConfigModule>('beats/config');
  const { convertBeats } = load<typeof ConvertModule>('beats/convert');
  const { randomBeatsWeights } = load<typeof RandomModule>('beats/randomWeights');
  const dir = mkdtempSync(path.join(tmpdir(), 'genrep-cores-'));
  try {
    const weights = { file: 'random.pt', cfg: { ...BEATS_OFFICIAL }, tensors: randomBeatsWeights(BEATS_OFFICIAL, 1) };
    const model = path.join(dir, 'full.onnx');
    const layers = Array.from({ length: 12 }, (_, k) => k + 1);
    writeFileSync(model, Buffer.concat(convertBeats(weights, { layers, output: 'temporal' }).parts));
    const all = Array.from({ length: CLIPS }, (_, c) => c);
    const one = (extra: Partial<Job>) => ({
      model,
      clips: all,
      threads: CORES,
      spinning: false,
      pipelined: false,
      ...extra,
    });
    console.log(
      `BEATs full size, ${CLIPS} clips, batch 1, ${CORES} cores, onnxruntime-node ${ort.env.versions.common}`,
    );
    console.log('split                                  seconds  clips/s  vs default  features');
    let reference: string[] | undefined;
    let base = 0;
    const report = (label: string, seconds: number, hashes: string[]) => {
      reference ??= hashes;
      base ||= seconds;
      const same = hashes.every((h, c) => h === reference![c]) ? 'byte-identical' : 'DIFFERENT';
      console.log(
        `${label.padEnd(38)} ${seconds.toFixed(1).padStart(7)}  ${(CLIPS / seconds).toFixed(2).padStart(7)}  ` +
          `${(base / seconds).toFixed(2).padStart(9)}×  ${same}`,
      );
    };
    // Each split in a fresh child process, so no split inherits another's warm allocator or thread pool.
    const r1 = await child(one({}));
    report(`1 process × ${CORES} threads (default)`, r1.seconds, r1.hashes);
    const r2 = await child(one({ spinning: true }));
    report(`1 process × ${CORES} threads, spinning on`, r2.seconds, r2.hashes);
    const r3 = await child(one({ pipelined: true }));
    report(`1 process × ${CORES} threads, fbank overlapped`, r3.seconds, r3.hashes);
    // Every other way to fill the cores: P processes × T threads with P·T = CORES, clips dealt round-robin.
    for (let procs = 2; procs <= CORES; procs++) {
      if (CORES % procs !== 0) continue;
      for (const pipelined of [false, true]) {
        const started = performance.now();
        const parts = await Promise.all(
          Array.from({ length: procs }, (_, p) =>
            child(one({ threads: CORES / procs, clips: all.filter((c) => c % procs === p), pipelined })),
          ),
        );
        const merged = all.map((c) => parts[c % procs]!.hashes[Math.floor(c / procs)]!);
        const label = `${procs} processes × ${CORES / procs} thread${CORES / procs > 1 ? 's' : ''}`;
        report(pipelined ? `${label}, fbank overlapped` : label, (performance.now() - started) / 1000, merged);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) {
  void extract(JSON.parse(process.argv[childAt + 1]!) as Job).then((r) => {
    process.send!(r);
    process.exit(0);
  });
} else {
  void main();
}
