/**
 * One error type for everything the worker reports to a person. The code and the structured data survive the trip
 * to the CLI (one line on stderr) and to the editor (a JSON-RPC error's `data`), so neither side parses messages.
 */
import type { ErrorCode } from './protocol/errors';
// Kept for importers that still take the code type from here (server/handlers/clips.ts, models/download.ts,
// checkpoint/pickle.ts); new code imports it from protocol/errors.
export type { ErrorCode } from './protocol/errors';

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
    // Messages echo names taken from files (pickle globals, paths, JSON keys): escaped here, once, so a hostile
    // file cannot forge output lines or send terminal escape sequences through an error. `data` keeps the raw
    // path, since the editor opens it.
    super(escapeControl(message));
  }
}

/**
 * C0 and C1 control characters (and DEL) written as visible escapes: `\n`, `\t`, `\x1b`, `\u009b`. Everything
 * printable, including non-ASCII letters, passes unchanged.
 */
export function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Prefixes the message with the file, the way compilers do, so each error line says where. */
export function fileError(
  file: string,
  problem: string,
  code: ErrorCode = 'BAD_INPUT',
  extra: Omit<ErrorData, 'file'> = {},
): GenrepError {
  return new GenrepError(`${file}: ${problem}`, code, { file, ...extra });
}
