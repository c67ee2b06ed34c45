import { ErrorCodes } from 'vscode-jsonrpc';
import type { JSON_RPC_CODES, WorkerErrorData } from '../../worker/src/protocol/errors';
import type { Range } from '../../worker/src/protocol/positions';

/**
 * Turns a failed worker request into what the user sees: one precise sentence (the worker's message already names
 * the file, the line:column and the JSON pointer), where to jump to, and the actions that fix it. One function, so
 * every command reports failures alike (docs/architecture.md, "The editor and the worker": one function maps codes
 * to actions).
 */
export type FailureAction =
  | 'openLocation'
  | 'showLog'
  | 'restartWorker'
  | 'downloadCheckpoint'
  | 'selectEmbedder'
  | 'buildBank'
  | 'retry'
  | 'openModelsFolder'
  | 'chooseLocalCheckpoint'
  | 'useFbankStats';

/**
 * What the failed request was, when the next step depends on it: a checkpoint download (whose way out offline is
 * putting the file in place by hand) or an experiment run (cancelled runs resume from the feature cache).
 */
export type FailureContext =
  | { kind: 'download'; name: string; file: string; modelDir: string }
  | { kind: 'run'; featuresKept?: number | undefined };

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
  /** A cancelled run: clips whose features are in the cache, so running again starts from there. */
  featuresKept?: number;
  /** Where a checkpoint download's file goes (`<modelDir>/<file>`), for its actions. */
  checkpoint?: { name: string; target: string; modelDir: string };
}

/** Each action's button; Run Again on a cancelled run says what it keeps. */
export function actionLabel(action: FailureAction, view: Pick<FailureView, 'featuresKept' | 'checkpoint'>): string {
  switch (action) {
    case 'openLocation':
      return 'Open File';
    case 'showLog':
      return 'Show Log';
    case 'restartWorker':
      return 'Restart Worker';
    case 'downloadCheckpoint':
      return 'Download Checkpoint';
    case 'selectEmbedder':
      return 'Change Embedder Setting';
    case 'buildBank':
      return 'Build Memory Bank';
    case 'retry':
      if (view.checkpoint) return 'Retry';
      return view.featuresKept !== undefined ? `Run Again (${view.featuresKept} features kept)` : 'Run Again';
    case 'openModelsFolder':
      return 'Open Models Folder';
    case 'chooseLocalCheckpoint':
      return 'Choose a Local .pt…';
    case 'useFbankStats':
      return 'Use fbank-stats';
    default: {
      const unreachable: never = action;
      return unreachable;
    }
  }
}

/**
 * Clips whose features are cached so far, from a job's progress reports: the extract stage reports after each
 * batch is written to the cache (worker/src/experiments/extract.ts), counting cache hits too. Keeps the previous
 * count for reports of other stages.
 */
export function featuresKeptAfter(
  previous: number | undefined,
  value: { kind: string; stage?: string; done?: number },
): number | undefined {
  return value.kind === 'report' && value.stage === 'extract' && typeof value.done === 'number' ? value.done : previous;
}

/** The file name a downloaded checkpoint must have in the model folder (joined with the folder's own separator). */
export function checkpointTarget(modelDir: string, file: string): string {
  const sep = modelDir.includes('\\') && !modelDir.includes('/') ? '\\' : '/';
  return `${modelDir.replace(/[\\/]+$/, '')}${sep}${file}`;
}

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  data?: unknown;
}

/**
 * The numeric codes this function tells apart. The protocol declares them (JSON_RPC_CODES), but the extension takes
 * the protocol as types only, so the values come from vscode-jsonrpc, the library that speaks JSON-RPC for us, and
 * `satisfies` checks each against the protocol's literal type: if the two ever disagreed this would not compile.
 * LSP's RequestCancelled is not in vscode-jsonrpc (and vscode-languageserver-protocol types it as a bare integer), so
 * its number is written here and held to the protocol's by the same check. Our own codes (−32001…) are told apart
 * by name, from `error.data.code` (WorkerErrorData), never by number.
 */
const CODES = {
  REQUEST_CANCELLED: -32800,
  INVALID_PARAMS: ErrorCodes.InvalidParams,
  INTERNAL_ERROR: ErrorCodes.InternalError,
} as const satisfies Pick<typeof JSON_RPC_CODES, 'REQUEST_CANCELLED' | 'INVALID_PARAMS' | 'INTERNAL_ERROR'>;
/** vscode-jsonrpc's own: pending requests rejected because the connection was disposed, or sent on a closed one. */
const CONNECTION_LOST = new Set<number>([ErrorCodes.PendingResponseRejected, ErrorCodes.ConnectionInactive]);

export function presentFailure(what: string, err: unknown, context?: FailureContext): FailureView {
  const view = presentWorkerFailure(what, err);
  if (context?.kind === 'download') return forDownload(view, context);
  if (context?.kind === 'run') return forRun(view, context);
  return view;
}

/**
 * A download that failed (offline: `getaddrinfo ENOTFOUND`, a proxy, a refused response) has a way out that needs
 * no network: the file put in the model folder by hand, a local copy chosen here, or the weight-free embedder. A
 * cancelled download resumes from its .part file.
 */
function forDownload(view: FailureView, c: Extract<FailureContext, { kind: 'download' }>): FailureView {
  const checkpoint = { name: c.name, target: checkpointTarget(c.modelDir, c.file), modelDir: c.modelDir };
  if (view.cancelled) {
    return {
      ...view,
      message: `${view.message} Retry picks up from what was downloaded so far.`,
      actions: ['retry'],
      checkpoint,
    };
  }
  if (view.workerLost) return { ...view, checkpoint };
  return {
    ...view,
    message:
      `${view.message.replace(/\.?$/, '.')} Without a connection, download ${c.file} on another machine and place ` +
      `it at ${checkpoint.target}, choose a local copy, or use fbank-stats (no weights needed).`,
    actions: ['openModelsFolder', 'chooseLocalCheckpoint', 'useFbankStats', 'retry'],
    checkpoint,
  };
}

/** A cancelled run resumes from the features it cached; a failed one has its story in the log. */
function forRun(view: FailureView, c: Extract<FailureContext, { kind: 'run' }>): FailureView {
  if (view.cancelled) {
    const kept =
      c.featuresKept !== undefined
        ? ` The features of ${c.featuresKept} clip${c.featuresKept === 1 ? '' : 's'} are cached, so running again resumes from there.`
        : ' Features extracted so far are cached, so running again resumes from there.';
    return {
      ...view,
      message: `${view.message}${kept}`,
      actions: ['retry'],
      ...(c.featuresKept !== undefined ? { featuresKept: c.featuresKept } : {}),
    };
  }
  if (view.severity === 'error' && !view.actions.includes('showLog'))
    return { ...view, actions: [...view.actions, 'showLog'] };
  return view;
}

function presentWorkerFailure(what: string, err: unknown): FailureView {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as ErrorLike;
  const code = typeof e.code === 'number' ? e.code : undefined;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const data = (typeof e.data === 'object' && e.data !== null ? e.data : {}) as Partial<WorkerErrorData>;
  const base = { cancelled: false, workerLost: false };

  if (
    code === CODES.REQUEST_CANCELLED ||
    data.code === 'CANCELLED' ||
    (err instanceof Error && err.name === 'Canceled')
  ) {
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
  if (code === CODES.INTERNAL_ERROR || data.code === 'INTERNAL') {
    return {
      ...base,
      severity: 'error',
      message: `${what} failed with an internal error: ${message}`,
      actions: ['showLog', 'restartWorker'],
    };
  }
  if (code === CODES.INVALID_PARAMS) {
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
