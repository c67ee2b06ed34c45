import { GenrepError, type ErrorCode, type ErrorData } from '../errors';

/**
 * An error as a worker thread posts it back (structured clone keeps no class): a GenrepError's message, code and data;
 * anything else — a bug — its message and stack instead of a code. Used by the clip thread and the scoring threads.
 */
export interface ThreadError {
  message: string;
  code?: ErrorCode;
  data?: ErrorData;
  stack?: string | undefined;
}

export function toThreadError(err: unknown): ThreadError {
  if (err instanceof GenrepError) return { message: err.message, code: err.code, data: err.data };
  if (err instanceof Error) return { message: err.message, stack: err.stack };
  return { message: String(err) };
}
