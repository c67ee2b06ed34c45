import { parentPort } from 'node:worker_threads';
import { GenrepError } from '../errors';
import { LayerJob, LayerReply, scoreLayerJob } from './scoreLayers';

/** Worker-thread entry for scoreLayers: scores one layer per message and sends the result back. */
parentPort?.on('message', (job: LayerJob) => {
  let reply: LayerReply;
  try {
    const result = scoreLayerJob(job);
    reply = { id: job.id, result };
    const buffers = [result.score, ...result.distances, result.trainScores].filter((a): a is Float64Array => a !== undefined).map((a) => a.buffer as ArrayBuffer);
    parentPort!.postMessage(reply, [...new Set(buffers)]);
    return;
  } catch (err) {
    const e = err instanceof GenrepError ? err : new GenrepError(err instanceof Error ? (err.stack ?? err.message) : String(err), 'INTERNAL');
    reply = { id: job.id, error: { message: e.message, code: e.code, data: e.data } };
  }
  parentPort!.postMessage(reply);
});
