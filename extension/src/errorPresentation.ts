import type { WorkerErrorData } from '../../worker/src/protocol/errors';
import type { Range } from '../../worker/src/protocol/positions';

/**
 * Turns a failed worker request into what the user sees: one precise sentence (the worker's message already names
 * the file, the line:column and the JSON pointer), where to jump to, and the actions that fix it. One function, so
 * every command reports failures alike (the anchors' "one function maps codes to actions").
 */
export type FailureAction =
  'openLocation' | 'showLog' | 'restartWorker' | 'downloadCheckpoint' | 'selectEmbedder' | 'buildBank' | 'retry';

export interface FailureView {
  severity: 'error' | 'warning' | 'info';
  message: string;
  /** The file and range to open for 'openLocation'. */
  location?: { file: string; range?: Range };
  actions: FailureAction[];
  /** The run was cancelled by the user: nothing to fix. */
  cancelled: boolean;
  /** The worker died under the request (it is being restarted). */
  workerLost: boolean;
}

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  data?: unknown;
}

const REQUEST_CANCELLED = -32800;
const INVALID_PARAMS = -32602;
const INTERNAL_ERROR = -32603;
/** vscode-jsonrpc: pending requests rejected because the connection was disposed, or sent on a closed one. */
const CONNECTION_LOST = new Set([-32097, -32096]);

export function presentFailure(what: string, err: unknown): FailureView {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as ErrorLike;
  const code = typeof e.code === 'number' ? e.code : undefined;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const data = (typeof e.data === 'object' && e.data !== null ? e.data : {}) as Partial<WorkerErrorData>;
  const base = { cancelled: false, workerLost: false };

  if (code === REQUEST_CANCELLED || data.code === 'CANCELLED' || (err instanceof Error && err.name === 'Canceled')) {
    return { ...base, severity: 'info', message: `${what} cancelled.`, actions: [], cancelled: true };
  }
  if (
    (code !== undefined && CONNECTION_LOST.has(code)) ||
    /connection (got disposed|is closed)|client is not running|connection is disposed/i.test(message)
  ) {
    return {
      ...base,
      severity: 'error',
      message: `${what} failed: the GenRep worker stopped while working on it. It is being restarted; run the command again.`,
      actions: ['retry', 'showLog'],
      workerLost: true,
    };
  }
  if (code === INTERNAL_ERROR || data.code === 'INTERNAL') {
    return {
      ...base,
      severity: 'error',
      message: `${what} failed with an internal error: ${message}`,
      actions: ['showLog', 'restartWorker'],
    };
  }
  if (code === INVALID_PARAMS) {
    return {
      ...base,
      severity: 'error',
      message: `${what} failed: the worker refused the request (${message}). The extension and worker may be out of step; see the log.`,
      actions: ['showLog'],
    };
  }

  const actions: FailureAction[] = [];
  let location: FailureView['location'];
  if (data.file !== undefined && (data.range !== undefined || /\.jsonc?$/i.test(data.file))) {
    location = { file: data.file, ...(data.range ? { range: data.range } : {}) };
    actions.push('openLocation');
  }
  if (data.field === 'embedder' && data.file !== undefined && /\.grbank$/i.test(data.file))
    actions.push('selectEmbedder', 'buildBank');
  if (data.code === 'NOT_FOUND' && data.file !== undefined && /\.pt$/i.test(data.file))
    actions.push('downloadCheckpoint');
  if (data.code === 'CORRUPT' || data.code === 'UNSAFE') actions.push('showLog');
  return {
    ...base,
    severity: 'error',
    message: `${what} failed: ${message}`,
    ...(location ? { location } : {}),
    actions,
  };
}
