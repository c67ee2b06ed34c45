import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { GenrepError } from '../errors';
import { gramBackendChoice, type GramBackendChoice, type GramBackendOptions } from '../scoring';
import { throwIfCancelled } from './extract';
import { computeCell, type CellResult, type CellTask } from './scoreMachineLayer';
import type { ThreadError } from '../util/threadError';

/**
 * Independent grid cells scored on a pool of worker threads (scoreThread.ts), one cell per thread at a time. The
 * caller's job list runs lazily: a cell's rows are gathered and its config checked (scoreGrid.ts) only when a thread
 * is free for it, so no more than pool-size cells' features are in flight, and a config error is raised in this thread
 * in the order a sequential run meets it. Results are the same bits in-process and on a thread: one code path
 * (computeCell), one Gram backend choice (passed to each thread), and each thread's ONNX Runtime session single-threaded.
 */
export interface CellJob<K> {
  key: K;
  task: CellTask;
  /** Buffers of `task` no later job reads: moved to the thread instead of copied. */
  transfer: ArrayBuffer[];
  /** The cell in words, for an error from its thread. */
  name: string;
}

export interface ScoreCellsOptions<K> {
  /** Scoring threads (settings.threads); undefined = every core up to 8; 1 scores here, one cell after another. */
  threads: number | undefined;
  /** How many jobs there are: no more threads start than cells. */
  total: number;
  signal: AbortSignal | undefined;
  /** Each finished cell, in the order cells finish. */
  onDone: (key: K, result: CellResult) => void;
}

/** What the pool sends each thread when it starts it. */
export interface ScoreThreadData {
  gram: { choice: GramBackendChoice; options: GramBackendOptions };
}

export interface ScoreRequest {
  task: CellTask;
}

export type ScoreReply = { ok: true; result: CellResult } | { ok: false; error: ThreadError };

const THREAD_MAIN = path.join(__dirname, 'scoreThread.js');

/**
 * Run from TypeScript sources (vitest importing this module) there is no compiled thread script: cells are then
 * scored in-process, which changes when they run, not what they return.
 */
const threaded = existsSync(THREAD_MAIN);

/**
 * Without a `threads` setting the pool stops at 8: each thread holds ~90 MB (its heap, an ONNX Runtime session, Gram
 * blocks), which on a 64-core server would be ~6 GB for seconds of scoring. An explicit `threads` is taken as given.
 */
const DEFAULT_MAX_THREADS = 8;

/** Scoring threads started and not yet exited in this process: none once a grid has finished, failed or stopped. */
const live = new Set<Worker>();

export function scoreThreadsRunning(): number {
  return live.size;
}

/** Threads for `cells` cells: the setting (undefined = every core up to 8), never more than the cells, at least 1. */
export function scorePoolSize(threads: number | undefined, cells: number): number {
  return Math.max(1, Math.min(threads ?? Math.min(availableParallelism(), DEFAULT_MAX_THREADS), cells));
}

export async function scoreCells<K>(jobs: Iterable<CellJob<K>>, options: ScoreCellsOptions<K>): Promise<void> {
  const size = scorePoolSize(options.threads, options.total);
  if (size > 1 && threaded) {
    await scoreOnThreads(jobs, size, options);
    return;
  }
  for (const job of jobs) options.onDone(job.key, await computeCell(job.task));
}

async function scoreOnThreads<K>(
  jobs: Iterable<CellJob<K>>,
  size: number,
  options: ScoreCellsOptions<K>,
): Promise<void> {
  const { signal, onDone } = options;
  const data: ScoreThreadData = { gram: gramBackendChoice() };
  const threads: ScoreThread[] = [];
  const idle: ScoreThread[] = [];
  const inFlight = new Set<Promise<void>>();
  // The first failure in job order is the one a sequential run would have met: a later cell's failure, or a config
  // error raised while a earlier cell still ran, waits for the earlier cells to finish (they may fail first).
  let failure: { index: number; error: unknown } | undefined;
  const fail = (index: number, error: unknown): void => {
    if (!failure || index < failure.index) failure = { index, error };
  };
  // Cancelling stops dispatch; the cells already running finish first (tens of ms each). A thread is never terminated
  // in the middle of a cell: onnxruntime-node's pending run would call back into the torn-down thread and abort the
  // whole process ("terminate called after throwing an instance of 'Napi::Error'").
  try {
    const pending = jobs[Symbol.iterator]();
    for (let index = 0; !failure && !signal?.aborted; index++) {
      while (idle.length === 0 && threads.length >= size) await Promise.race(inFlight);
      if (failure || signal?.aborted) break;
      let next: IteratorResult<CellJob<K>>;
      try {
        next = pending.next();
      } catch (err) {
        fail(index, err);
        break;
      }
      if (next.done) break;
      const job = next.value;
      const thread = idle.pop() ?? startThread();
      const at = index;
      const done: Promise<void> = thread
        .run(job)
        .then((result) => onDone(job.key, result))
        .catch((err: unknown) => fail(at, err))
        .finally(() => {
          inFlight.delete(done);
          idle.push(thread);
        });
      inFlight.add(done);
    }
    await Promise.all(inFlight);
  } finally {
    await Promise.all(threads.map((t) => t.terminate()));
  }
  throwIfCancelled(signal);
  if (failure) throw failure.error;

  function startThread(): ScoreThread {
    const thread = new ScoreThread(data);
    threads.push(thread);
    return thread;
  }
}

/** One scoring thread: one cell at a time; it holds the process open only while it scores. */
class ScoreThread {
  private readonly worker: Worker;
  private waiting: { resolve: (r: CellResult) => void; reject: (err: unknown) => void; name: string } | undefined;
  private stopped: string | undefined;
  private terminating = false;

  constructor(data: ScoreThreadData) {
    this.worker = new Worker(THREAD_MAIN, { workerData: data });
    live.add(this.worker);
    this.worker.unref();
    this.worker.on('message', (reply: ScoreReply) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      this.worker.unref();
      if (!waiting) return;
      if (reply.ok) waiting.resolve(reply.result);
      else waiting.reject(replyError(reply.error, waiting.name));
    });
    this.worker.on('error', (err) => this.fail(err.message, err.stack));
    this.worker.on('exit', (code) => {
      live.delete(this.worker);
      this.fail(`exit code ${code}`);
    });
  }

  run(job: CellJob<unknown>): Promise<CellResult> {
    if (this.stopped !== undefined) return Promise.reject(this.stoppedError(job.name, this.stopped));
    // Of each test clip the thread needs only what the metrics read.
    const testClips = job.task.testClips.map((c) => ({ label: c.label, domain: c.domain }));
    const request: ScoreRequest = { task: { ...job.task, testClips } };
    return new Promise<CellResult>((resolve, reject) => {
      this.waiting = { resolve, reject, name: job.name };
      this.worker.ref();
      this.worker.postMessage(request, job.transfer);
    });
  }

  terminate(): Promise<number> {
    this.terminating = true;
    return this.worker.terminate();
  }

  private fail(why: string, stack?: string): void {
    this.stopped ??= why;
    const waiting = this.waiting;
    this.waiting = undefined;
    if (!waiting) return;
    const err = this.stoppedError(waiting.name, why);
    if (stack !== undefined) err.stack = stack;
    waiting.reject(err);
  }

  private stoppedError(name: string, why: string): GenrepError {
    if (this.terminating) return new GenrepError('cancelled', 'CANCELLED');
    return new GenrepError(`the scoring thread stopped while scoring ${name} (${why})`, 'INTERNAL');
  }
}

/** A thread's GenrepError as it was raised; anything else is a bug, reported as INTERNAL with the thread's stack. */
function replyError(error: ThreadError, name: string): GenrepError {
  if (error.code) return new GenrepError(error.message, error.code, error.data);
  const err = new GenrepError(`scoring ${name} failed in a scoring thread: ${error.message}`, 'INTERNAL');
  if (error.stack !== undefined) err.stack = error.stack;
  return err;
}
