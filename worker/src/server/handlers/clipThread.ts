import { parentPort } from 'node:worker_threads';
import { GenrepError } from '../../errors';
import { clipAudio, spectrogram } from './clipTasks';
import type { ClipTaskError, ClipTaskReply, ClipTaskRequest } from './clips';

/**
 * The clip thread's entry point: runs the per-clip tasks the worker hands it, one message per task, and answers
 * with the result or the error (a GenrepError keeps its code and data; anything else is reported as a bug).
 */
const TASKS = { spectrogram, clipAudio } as const;

function taskError(err: unknown): ClipTaskError {
  if (err instanceof GenrepError) return { message: err.message, code: err.code, data: err.data };
  if (err instanceof Error) return { message: err.message, stack: err.stack };
  return { message: String(err) };
}

const port = parentPort;
if (!port) throw new Error('clipThread.js runs as a worker thread, started by handlers/clips.ts');

port.on('message', (request: ClipTaskRequest) => {
  const task = TASKS[request.method] as (params: unknown) => Promise<unknown>;
  task(request.params).then(
    (result) => port.postMessage({ id: request.id, ok: true, result } satisfies ClipTaskReply),
    (err: unknown) => port.postMessage({ id: request.id, ok: false, error: taskError(err) } satisfies ClipTaskReply),
  );
});
