import type { CancellationToken } from 'vscode-jsonrpc';
import { GenrepError } from '../errors';
import type {
  JobInfo,
  JobStage,
  ProgressToken,
  WorkDoneProgressValue,
  WorkerMethod,
  WorkerStatus,
} from '../protocol/workerProtocol';

/**
 * Long requests (runs, bank builds, scoring, downloads) are jobs: they run one at a time, since each already uses
 * every core and two runs filling the same feature cache would only race; each gets an AbortSignal tied to the
 * request's CancellationToken (so `$/cancelRequest` stops it at the next clip) and reports through LSP work-done
 * progress when the client passed a token.
 */
export interface JobProgress {
  stage: JobStage;
  done: number;
  total: number;
  message: string;
}

export interface JobContext {
  signal: AbortSignal;
  /** Throttled: reports reach the client at most every PROGRESS_INTERVAL_MS, except stage changes and the last. */
  progress(p: JobProgress): void;
}

export interface JobSink {
  progress(token: ProgressToken, value: WorkDoneProgressValue): void;
  status(status: WorkerStatus): void;
}

/** How much of a job's bar each stage fills: feature extraction is where the time goes. */
const STAGE_SPAN: Record<JobStage, [number, number]> = {
  queued: [0, 0],
  discover: [0, 2],
  extract: [2, 88],
  bank: [88, 95],
  score: [88, 98],
  write: [98, 100],
  download: [0, 100],
};
const PROGRESS_INTERVAL_MS = 100;

export function percentageOf(p: JobProgress): number {
  const [from, to] = STAGE_SPAN[p.stage];
  const fraction = p.total > 0 ? Math.min(1, Math.max(0, p.done / p.total)) : 0;
  return Math.round(from + (to - from) * fraction);
}

interface Job {
  info: JobInfo;
  controller: AbortController;
}

export class JobRunner {
  private nextId = 1;
  private readonly jobs: Job[] = [];
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly sink: JobSink) {}

  /** The jobs now known: the running one first, then those waiting. */
  status(): WorkerStatus {
    return { state: this.jobs.length > 0 ? 'busy' : 'idle', jobs: this.jobs.map((j) => j.info) };
  }

  async run<T>(
    method: WorkerMethod,
    title: string,
    token: CancellationToken,
    workDoneToken: ProgressToken | undefined,
    body: (ctx: JobContext) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    const cancelListener = token.onCancellationRequested(() => controller.abort());
    if (token.isCancellationRequested) controller.abort();
    const job: Job = { info: { id: this.nextId++, method, title }, controller };
    const send = (value: WorkDoneProgressValue): void => {
      if (workDoneToken !== undefined) this.sink.progress(workDoneToken, value);
    };

    // Take a place in the line; the previous job's end (success or failure) lets the next one start.
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    this.jobs.push(job);
    this.sink.status(this.status());
    const waiting = this.jobs.length > 1;
    send({
      kind: 'begin',
      title,
      cancellable: true,
      percentage: 0,
      ...(waiting ? { message: 'waiting for the running job to finish' } : {}),
    });
    try {
      await Promise.race([previous, aborted(controller.signal)]);
      if (controller.signal.aborted) throw new GenrepError(`${title}: cancelled`, 'CANCELLED');
      let lastSent = 0;
      let lastStage: JobStage | undefined;
      const result = await body({
        signal: controller.signal,
        progress: (p) => {
          const now = Date.now();
          if (p.stage === lastStage && p.done < p.total && now - lastSent < PROGRESS_INTERVAL_MS) return;
          lastSent = now;
          lastStage = p.stage;
          send({
            kind: 'report',
            message: p.message,
            percentage: percentageOf(p),
            stage: p.stage,
            done: p.done,
            total: p.total,
          });
        },
      });
      send({ kind: 'end', message: 'done' });
      return result;
    } catch (err) {
      send({ kind: 'end', message: controller.signal.aborted ? 'cancelled' : 'failed' });
      throw err;
    } finally {
      cancelListener.dispose();
      this.jobs.splice(this.jobs.indexOf(job), 1);
      // A job cancelled while waiting must not let the next one overtake the job still running ahead of it.
      void previous.then(release);
      this.sink.status(this.status());
    }
  }
}

/** Resolves when the signal aborts (never, otherwise): lets a queued job leave the line when cancelled. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
