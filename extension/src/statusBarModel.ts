import type { WorkerStatus } from '../../worker/src/protocol/workerProtocol';
import type { WorkerState } from './supervisor';

/** What the status-bar item says for each worker state (pure, so the wording is tested without an editor). */
export interface StatusBarView {
  text: string;
  tooltip: string;
  /** The command a click runs. */
  command: 'genrep.showLog' | 'genrep.restartWorker';
  /** Shown with the error background. */
  error: boolean;
}

export interface StatusInput {
  state: WorkerState;
  status?: WorkerStatus;
  pid?: number;
  /** The last crash, in words ("exited with code 70"). */
  lastCrash?: string;
}

export function statusBarView(input: StatusInput): StatusBarView {
  const pid = input.pid !== undefined ? ` (pid ${input.pid})` : '';
  const crash = input.lastCrash ? `\nLast crash: the worker ${input.lastCrash}` : '';
  switch (input.state) {
    case 'stopped':
      return {
        text: '$(circle-slash) GenRep',
        tooltip: 'GenRep worker: stopped. It starts with the next GenRep command.',
        command: 'genrep.showLog',
        error: false,
      };
    case 'starting':
      return {
        text: '$(sync~spin) GenRep',
        tooltip: 'GenRep worker: starting…',
        command: 'genrep.showLog',
        error: false,
      };
    case 'restarting':
      return {
        text: '$(sync~spin) GenRep: restarting',
        tooltip: `GenRep worker: restarting after a crash${crash}`,
        command: 'genrep.showLog',
        error: false,
      };
    case 'failed':
      return {
        text: '$(error) GenRep: worker stopped',
        tooltip: `GenRep worker: crashed repeatedly and was not restarted. Click to restart it.${crash}`,
        command: 'genrep.restartWorker',
        error: true,
      };
    case 'running': {
      const jobs = input.status?.jobs ?? [];
      if (input.status?.state === 'busy' && jobs.length > 0) {
        const waiting = jobs.length > 1 ? ` (+${jobs.length - 1} waiting)` : '';
        return {
          text: `$(sync~spin) GenRep: busy${waiting}`,
          tooltip: `GenRep worker${pid}: ${jobs.map((j) => j.title).join('\n')}${crash}`,
          command: 'genrep.showLog',
          error: false,
        };
      }
      return {
        text: '$(pulse) GenRep',
        tooltip: `GenRep worker${pid}: ready${crash}`,
        command: 'genrep.showLog',
        error: false,
      };
    }
  }
}
