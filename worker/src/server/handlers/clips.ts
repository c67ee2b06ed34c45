import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { GenrepError } from '../../errors';
import type {
  ClipAudioParams,
  ClipAudioResult,
  SpectrogramParams,
  SpectrogramResult,
} from '../../protocol/workerProtocol';
import * as tasks from './clipTasks';
import type { ThreadError } from '../../util/threadError';

/**
 * genrep/spectrogram and genrep/clipAudio, run on a worker thread so that a long clip (seconds of resampling and
 * fbank) never holds up the worker's event loop: other requests, progress and cancellations keep flowing while it
 * runs. Tasks go to the thread one at a time, so a burst of requests costs one clip's memory, not one per request.
 * The thread starts on first use and is restarted if it dies.
 */
export interface ClipTaskRequest {
  id: number;
  method: 'spectrogram' | 'clipAudio';
  params: unknown;
}

export type ClipTaskReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: ThreadError };

const THREAD_MAIN = path.join(__dirname, 'clipThread.js');

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

let thread: Worker | undefined;
const pending = new Map<number, Pending>();
let nextId = 1;
/** The tail of the queue: each task starts when the one before it has settled. */
let queue: Promise<unknown> = Promise.resolve();

function startThread(): Worker {
  const worker = new Worker(THREAD_MAIN);
  // An idle clip thread must not keep the worker process alive after the editor says exit.
  worker.unref();
  worker.on('message', (reply: ClipTaskReply) => {
    const waiting = pending.get(reply.id);
    if (!waiting) return;
    pending.delete(reply.id);
    if (reply.ok) waiting.resolve(reply.result);
    else if (reply.error.code) waiting.reject(new GenrepError(reply.error.message, reply.error.code, reply.error.data));
    else waiting.reject(Object.assign(new Error(reply.error.message), { stack: reply.error.stack ?? '' }));
  });
  const fail = (why: string): void => {
    if (thread === worker) thread = undefined;
    for (const [id, waiting] of pending) {
      pending.delete(id);
      const message = `the clip thread stopped (${why}); the next request starts a new one`;
      waiting.reject(new GenrepError(message, 'INTERNAL'));
    }
  };
  worker.on('error', (err) => fail(err.message));
  worker.on('exit', (code) => fail(`exit code ${code}`));
  return worker;
}

function runOnThread<T>(method: ClipTaskRequest['method'], params: unknown): Promise<T> {
  const run = queue.then(
    () =>
      new Promise<T>((resolve, reject) => {
        thread ??= startThread();
        const id = nextId++;
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        thread.postMessage({ id, method, params } satisfies ClipTaskRequest);
      }),
  );
  queue = run.catch(() => undefined);
  return run;
}

/**
 * Run from TypeScript sources (vitest importing this module) there is no compiled thread script: the tasks then
 * run in-process, which changes when they run, not what they return.
 */
const threaded = existsSync(THREAD_MAIN);

export function spectrogram(params: SpectrogramParams): Promise<SpectrogramResult> {
  return threaded ? runOnThread<SpectrogramResult>('spectrogram', params) : tasks.spectrogram(params);
}

export function clipAudio(params: ClipAudioParams): Promise<ClipAudioResult> {
  return threaded ? runOnThread<ClipAudioResult>('clipAudio', params) : tasks.clipAudio(params);
}
