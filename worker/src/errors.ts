/**
 * One error type for everything the worker reports to a person. The code and the structured data survive the trip
 * to the CLI (one line on stderr) and to the editor (a JSON-RPC error's `data`), so neither side parses messages.
 */
export type ErrorCode =
  | 'NOT_FOUND' // a file or directory that does not exist
  | 'BAD_INPUT' // input that exists but is malformed or out of range
  | 'UNSUPPORTED' // well-formed input using a feature we do not implement
  | 'CORRUPT' // a file whose bytes contradict its own header
  | 'UNSAFE' // content refused for security (forbidden pickle global, path escaping a root)
  | 'CANCELLED'
  | 'INTERNAL';

export interface ErrorData {
  /** The file the problem is in, as the user gave it. */
  file?: string;
  /** A JSON pointer or field name inside that file. */
  field?: string;
  /** What was expected, in words, where it helps. */
  expected?: string;
}

export class GenrepError extends Error {
  override readonly name = 'GenrepError';
  constructor(
    message: string,
    readonly code: ErrorCode,
    readonly data: ErrorData = {},
  ) {
    super(message);
  }
}

/** Prefixes the message with the file, the way compilers do, so each error line says where. */
export function fileError(file: string, problem: string, code: ErrorCode = 'BAD_INPUT', extra: Omit<ErrorData, 'file'> = {}): GenrepError {
  return new GenrepError(`${file}: ${problem}`, code, { file, ...extra });
}
