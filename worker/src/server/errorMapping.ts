import { readFileSync } from 'node:fs';
import { ResponseError } from 'vscode-jsonrpc';
import { GenrepError } from '../errors';
import { WORKER_ERROR_CODES, type WorkerErrorData } from '../protocol/errors';
import type { Range } from '../protocol/positions';
import { rangeOfPointer } from './jsonLocations';

/**
 * The one place where worker failures become JSON-RPC errors. A GenrepError keeps its code and data (file, JSON
 * pointer, expectation) and gains a range when the pointer is into a JSON file, so the editor can open the file at
 * the offending value; anything else is a bug and travels as InternalError with its message only (the stack goes
 * to the log, never into the reply).
 */
export interface ErrorContext {
  /** The file a request is about (a run's config), for errors that name a field but not a file. */
  defaultFile?: string;
  /** Called with internal errors' stacks. */
  logInternal?: (text: string) => void;
}

export function toResponseError(err: unknown, context: ErrorContext = {}): ResponseError<WorkerErrorData> {
  if (err instanceof ResponseError) return err as ResponseError<WorkerErrorData>;
  if (isAbort(err)) return cancelledError();
  if (err instanceof GenrepError) {
    if (err.code === 'CANCELLED') return cancelledError(err.message);
    const data: WorkerErrorData = { code: err.code };
    const field = err.data.field;
    const file = err.data.file ?? (field?.startsWith('/') ? context.defaultFile : undefined);
    if (file !== undefined) data.file = file;
    if (field !== undefined) data.field = field;
    if (err.data.expected !== undefined) data.expected = err.data.expected;
    const range = file !== undefined ? locate(file, field, err.message) : undefined;
    if (range) data.range = range;
    return new ResponseError(WORKER_ERROR_CODES[err.code], err.message, data);
  }
  const message = err instanceof Error ? err.message : String(err);
  context.logInternal?.(err instanceof Error && err.stack ? err.stack : message);
  return new ResponseError(
    WORKER_ERROR_CODES.INTERNAL,
    `internal error: ${message} (details in the GenRep output log)`,
    { code: 'INTERNAL' },
  );
}

export function cancelledError(message = 'cancelled'): ResponseError<WorkerErrorData> {
  return new ResponseError(WORKER_ERROR_CODES.CANCELLED, message, { code: 'CANCELLED' });
}

function isAbort(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError';
}

/**
 * Where the error is in its file: the pointer's value in a JSON file, else the `file:line:col:` the message starts
 * with (the config loader's format), else nowhere.
 */
function locate(file: string, field: string | undefined, message: string): Range | undefined {
  if (field?.startsWith('/') && /\.jsonc?$/i.test(file)) {
    try {
      const range = rangeOfPointer(readFileSync(file, 'utf8'), field);
      if (range) return range;
    } catch {
      // unreadable now: fall back to the message
    }
  }
  const at = message.indexOf(`${file}:`);
  if (at === 0) {
    const m = /^:(\d+):(\d+)/.exec(message.slice(file.length));
    if (m) {
      const position = { line: Number(m[1]) - 1, character: Number(m[2]) - 1 };
      return { start: position, end: position };
    }
  }
  return undefined;
}
