import { parentPort, workerData } from 'node:worker_threads';
import { setGramBackend } from '../scoring';
import { computeCell, type CellResult } from './scoreMachineLayer';
import type { ScoreReply, ScoreRequest, ScoreThreadData } from './scorePool';
import { toThreadError } from '../util/threadError';

/**
 * A scoring thread's entry point (scorePool.ts): computes the checked cells the pool hands it, one message per cell,
 * and answers with the result — its arrays moved back, not copied — or the error (a GenrepError keeps its code and
 * data; anything else is reported as a bug, with its stack).
 */
const port = parentPort;
if (!port) throw new Error('scoreThread.js runs as a worker thread, started by experiments/scorePool.ts');

const data = workerData as ScoreThreadData;
// The main thread's Gram backend: the two backends agree to ~1e-15, not bit for bit.
setGramBackend(data.gram.choice, data.gram.options);

/** The result's arrays that own their whole buffer: moved; a view into a larger buffer (a reused block) is copied. */
function buffersOf(result: CellResult): ArrayBuffer[] {
  const arrays = [result.score, result.d_source, result.d_target].filter((a) => a !== null);
  const whole = arrays.filter((a) => a.byteOffset === 0 && a.byteLength === a.buffer.byteLength);
  return [...new Set(whole.map((a) => a.buffer as ArrayBuffer))];
}

port.on('message', (request: ScoreRequest) => {
  computeCell(request.task).then(
    (result) => port.postMessage({ ok: true, result } satisfies ScoreReply, buffersOf(result)),
    (err: unknown) => port.postMessage({ ok: false, error: toThreadError(err) } satisfies ScoreReply),
  );
});
