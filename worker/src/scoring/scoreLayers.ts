import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ErrorCode, ErrorData, GenrepError } from '../errors';
import { buildBanks, BuildBanksOptions } from './banks';
import { MachineScores, scoreMachine, ScoreMachineOptions } from './scoreMachine';

/**
 * Scores one machine type at every layer (the GenRep pipeline runs independently per layer, spec §3), spreading
 * layers over worker threads: each layer's work is a few large matrix products, so layers parallelise perfectly.
 */

/** One layer's features. Arrays over a SharedArrayBuffer reach worker threads without being copied. */
export interface LayerFeatures {
  train: Float32Array;
  test: Float32Array;
}

/** Everything about one layer's scoring except its features; plain data so it can cross to a worker thread. */
export type LayerJobOptions = Omit<BuildBanksOptions, 'train'> & Pick<ScoreMachineOptions, 'dnMode' | 'threshold' | 'testDim'>;

export interface ScoreLayersOptions extends LayerJobOptions {
  layers: LayerFeatures[];
  /** Worker threads; default min(2, available cores). 1 scores in this thread. */
  threads?: number;
  /** Called as each layer finishes (index into `layers`). */
  onLayerDone?: (layer: number) => void;
}

export interface ScoreLayersResult {
  layers: MachineScores[];
  /** Threads actually used (1 when the compiled worker script is not available, e.g. under a TS test runner). */
  threads: number;
}

export interface LayerJob {
  id: number;
  train: Float32Array;
  test: Float32Array;
  options: LayerJobOptions;
}

export type LayerReply = { id: number; result: MachineScores } | { id: number; error: { message: string; code: ErrorCode; data: ErrorData } };

/** One layer, in whatever thread calls it. */
export function scoreLayerJob(job: LayerJob): MachineScores {
  const { dnMode, threshold, testDim, ...bankOptions } = job.options;
  const banks = buildBanks({ ...bankOptions, train: job.train });
  return scoreMachine({ banks, test: job.test, dnMode, threshold, testDim, names: bankOptions.names });
}

const WORKER_SCRIPT = path.join(__dirname, 'layerWorker.js');

export function defaultThreads(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(2, cores));
}

export async function scoreLayers(options: ScoreLayersOptions): Promise<ScoreLayersResult> {
  const { layers, threads: requested, onLayerDone, ...jobOptions } = options;
  const threads = Math.min(layers.length, requested ?? defaultThreads(), existsSync(WORKER_SCRIPT) ? Infinity : 1);
  const results: MachineScores[] = new Array(layers.length);
  if (threads <= 1) {
    for (let i = 0; i < layers.length; i++) {
      results[i] = scoreLayerJob({ id: i, ...layers[i], options: jobOptions });
      onLayerDone?.(i);
      await new Promise((resolve) => setImmediate(resolve)); // let I/O and progress output through between layers
    }
    return { layers: results, threads: 1 };
  }
  const workers = Array.from({ length: threads }, () => new Worker(WORKER_SCRIPT));
  try {
    let next = 0;
    await Promise.all(
      workers.map(async (worker) => {
        while (next < layers.length) {
          const i = next++;
          results[i] = await runOnWorker(worker, { id: i, ...layers[i], options: jobOptions });
          onLayerDone?.(i);
        }
      }),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return { layers: results, threads };
}

function runOnWorker(worker: Worker, job: LayerJob): Promise<MachineScores> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: LayerReply): void => {
      if (reply.id !== job.id) return;
      cleanup();
      if ('error' in reply) reject(new GenrepError(reply.error.message, reply.error.code, reply.error.data));
      else resolve(reply.result);
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.postMessage(job);
  });
}
