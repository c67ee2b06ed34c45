import type { Range } from './positions';

/** What kind of failure an error is; GenrepError (worker/src/errors.ts) carries one. */
export type ErrorCode =
  | 'NOT_FOUND' // a file or directory that does not exist
  | 'BAD_INPUT' // input that exists but is malformed or out of range
  | 'UNSUPPORTED' // well-formed input using a feature we do not implement
  | 'CORRUPT' // a file whose bytes contradict its own header
  | 'UNSAFE' // content refused for security (forbidden pickle global, path escaping a root)
  | 'CANCELLED'
  | 'INTERNAL';

/** The JSON-RPC 2.0 and LSP error codes the worker and the extension use, declared once. */
export const JSON_RPC_CODES = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** LSP's RequestCancelled. */
  REQUEST_CANCELLED: -32800,
} as const;

/**
 * How a worker failure crosses JSON-RPC: `error.code` is a number from WORKER_ERROR_CODES (JSON-RPC 2.0 leaves
 * −32000…−32099 to the implementation; a cancelled request uses LSP's RequestCancelled, −32800, so
 * vscode-languageclient recognises it), and `error.data` is a WorkerErrorData, so the editor never parses messages.
 */
export const WORKER_ERROR_CODES = {
  NOT_FOUND: -32001,
  BAD_INPUT: -32002,
  UNSUPPORTED: -32003,
  CORRUPT: -32004,
  UNSAFE: -32005,
  CANCELLED: JSON_RPC_CODES.REQUEST_CANCELLED,
  /** JSON-RPC's InternalError: a bug, not the user's input; the worker logs the stack first. */
  INTERNAL: JSON_RPC_CODES.INTERNAL_ERROR,
} as const satisfies Record<ErrorCode, number>;

export type WorkerErrorCode = ErrorCode;

export interface WorkerErrorData {
  /** GenrepError's code, by name (the numeric code is on the JSON-RPC error itself). */
  code: WorkerErrorCode;
  /** The file the problem is in (absolute where the worker knows it). */
  file?: string;
  /** A JSON pointer (`/mixup/K_s`) or a field name inside that file. */
  field?: string;
  /** What was expected, in words. */
  expected?: string;
  /** Where in `file` the problem is, when it is a JSON file and `field` is a pointer into it (0-based, LSP style). */
  range?: Range;
}

/** The inverse of WORKER_ERROR_CODES; codes another worker might send that we do not know map to INTERNAL. */
export function errorCodeName(code: number): WorkerErrorCode {
  for (const [name, value] of Object.entries(WORKER_ERROR_CODES)) if (value === code) return name as WorkerErrorCode;
  return 'INTERNAL';
}

/**
 * How the worker process ends other than after `shutdown` + `exit` (status 0): the supervisor restarts it on any of
 * them, and the extension's log says which it was.
 */
export const WORKER_EXIT_CODES = {
  /** `exit` without `shutdown`, or stdin closed: LSP's status 1. */
  UNEXPECTED_EXIT: 1,
  /** The client's byte stream could not be framed any more (a broken header, a stalled frame); EX_DATAERR. */
  BROKEN_STREAM: 65,
  /** An uncaught exception or unhandled rejection: a bug; EX_SOFTWARE. */
  INTERNAL: 70,
} as const;
