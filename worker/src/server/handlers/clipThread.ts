import { parentPort } from 'node:worker_threads';
import { clipAudio, spectrogram } from './clipTasks';
import type { ClipTaskReply, ClipTaskRequest } from './clips';
import { toThreadError } from '../../util/threadError';

/**
 * The clip thread's entry point: runs the per-clip tasks the worker hands it, one message per task, and answers
 * with the result or the error (a GenrepError keeps its code and data; anything else is reported as a bug).
 */
const TASKS = { spectrogram, clipAudio } as const;

const port = parentPort;
if (!port) throw new Error('clipThread.js runs as a worker thread, started by handlers/clips.ts');

port.on('message', (request: ClipTaskRequest) => {
  const task = TASKS[request.method] as (params: unknown) => Promise<unknown>;
  task(request.params).then(
    (result) => port.postMessage({ id: request.id, ok: true, result } satisfies ClipTaskReply),
    (err: unknown) =>
      port.postMessage({ id: request.id, ok: false, error: toThreadError(err) } satisfies ClipTaskReply),
  );
});
