import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { fileError, GenrepError } from '../errors';
import type { ErrorCode } from '../protocol/errors';

/**
 * The one mapping from a filesystem failure to the one line a person reads. Every read, write and mkdir in the
 * worker that can meet a user's path goes through here, so ENOSPC or EROFS never reaches the terminal as a stack.
 */
export type FsAction = 'read' | 'write' | 'create' | 'open';

interface Problem {
  problem: string;
  code: ErrorCode;
}

const PROBLEMS: Record<string, (action: FsAction, expected?: string) => Problem> = {
  ENOENT: () => ({ problem: 'no such file or directory', code: 'NOT_FOUND' }),
  ENOTDIR: () => ({ problem: 'a parent in the path is not a directory', code: 'NOT_FOUND' }),
  EISDIR: (_a, expected) => ({
    problem: `is a directory${expected ? `, expected ${expected}` : ''}`,
    code: 'BAD_INPUT',
  }),
  EACCES: (a) => ({ problem: `permission denied (cannot ${a} it)`, code: 'BAD_INPUT' }),
  EPERM: (a) => ({ problem: `operation not permitted (cannot ${a} it)`, code: 'BAD_INPUT' }),
  EROFS: () => ({ problem: 'is on a read-only filesystem', code: 'BAD_INPUT' }),
  ENOSPC: () => ({
    problem: 'no space left on the device; free some space and run again (nothing was half-written)',
    code: 'BAD_INPUT',
  }),
  EDQUOT: () => ({
    problem: 'disk quota exceeded; free some space and run again (nothing was half-written)',
    code: 'BAD_INPUT',
  }),
  EEXIST: () => ({ problem: 'already exists and is not a directory', code: 'BAD_INPUT' }),
  ENAMETOOLONG: () => ({ problem: 'the path is too long', code: 'BAD_INPUT' }),
  ELOOP: () => ({ problem: 'too many levels of symbolic links', code: 'BAD_INPUT' }),
  EMFILE: () => ({ problem: 'too many open files', code: 'BAD_INPUT' }),
  ENFILE: () => ({ problem: 'too many open files in the system', code: 'BAD_INPUT' }),
  EIO: () => ({ problem: 'input/output error from the device', code: 'BAD_INPUT' }),
  EBUSY: () => ({ problem: 'the device or file is busy', code: 'BAD_INPUT' }),
  EXDEV: () => ({ problem: 'cannot move across filesystems', code: 'BAD_INPUT' }),
  ENXIO: () => ({ problem: 'no such device', code: 'BAD_INPUT' }),
  EINVAL: (a) => ({ problem: `cannot ${a} it here (invalid argument: a pseudo-filesystem?)`, code: 'BAD_INPUT' }),
  ERR_FS_FILE_TOO_LARGE: () => ({ problem: 'is too large to read at once (over 2 GiB)', code: 'BAD_INPUT' }),
  ERR_STRING_TOO_LONG: () => ({ problem: 'is too large to read as text', code: 'BAD_INPUT' }),
};

export function errnoCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True for the errors that fsError turns into one line. */
export function isFsError(err: unknown): boolean {
  const code = errnoCode(err);
  return code !== undefined && code in PROBLEMS;
}

export interface FsErrorOptions {
  /** What was being done to the path (default 'read'); named in messages such as "permission denied (cannot …)". */
  action?: FsAction;
  /** What the path should be ("a WAV file"): named when it is a directory, and passed on as the error's `expected`. */
  expected?: string;
  /**
   * The problem's words for some errno codes, replacing the ones here (the error code and the path still come from
   * here): for messages that people and tests already match, e.g. a missing input file's "no such file".
   */
  wording?: Readonly<Partial<Record<string, string>>>;
}

/** For a path that names an input file: "no such file" rather than "no such file or directory". */
export const MISSING_FILE_WORDING: Readonly<Partial<Record<string, string>>> = {
  ENOENT: 'no such file',
  ENOTDIR: 'no such file (a parent in the path is not a directory)',
};

/**
 * `file: problem` for a filesystem error, naming the path it happened on (the error's own path when it is more
 * precise, e.g. a parent directory). A GenrepError passes through; anything that is not a filesystem error too.
 */
export function fsError(err: unknown, file: string, options: FsErrorOptions = {}): GenrepError {
  if (err instanceof GenrepError) return err;
  const code = errnoCode(err);
  const describe = code !== undefined ? PROBLEMS[code] : undefined;
  const where = (err as NodeJS.ErrnoException | undefined)?.path ?? file;
  if (!describe) {
    const message = err instanceof Error ? err.message : String(err);
    return fileError(where, `cannot ${options.action ?? 'read'} it: ${message}`, 'BAD_INPUT');
  }
  const { problem, code: errorCode } = describe(options.action ?? 'read', options.expected);
  const words = (code !== undefined ? options.wording?.[code] : undefined) ?? problem;
  return fileError(where, words, errorCode, options.expected ? { expected: options.expected } : {});
}

/** Pseudo-filesystems where nothing of ours can be written; refused before any mkdir so it fails at once. */
const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];

/**
 * mkdir -p that fails fast with one line: Node's recursive mkdir loops forever under /proc (it retries ENOENT on a
 * parent it cannot create), so missing components are created one at a time from the deepest existing ancestor.
 */
export async function ensureDir(dir: string): Promise<void> {
  const absolute = path.resolve(dir);
  if (PSEUDO_ROOTS.some((root) => absolute === root || absolute.startsWith(`${root}/`))) {
    throw fileError(
      dir,
      `is under ${absolute.split('/').slice(0, 2).join('/')}, a pseudo-filesystem where files cannot be written`,
      'BAD_INPUT',
      {
        expected: 'a directory on a real filesystem',
      },
    );
  }
  const missing: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      const stats = await fsp.stat(current);
      if (!stats.isDirectory())
        throw fsError(Object.assign(new Error('not a directory'), { code: 'EEXIST', path: current }), current, {
          action: 'create',
        });
      break;
    } catch (err) {
      if (err instanceof GenrepError) throw err;
      if (errnoCode(err) !== 'ENOENT') throw fsError(err, current, { action: 'create' });
      const parent = path.dirname(current);
      missing.push(current);
      if (parent === current) break;
      current = parent;
    }
  }
  for (const component of missing.reverse()) {
    try {
      await fsp.mkdir(component);
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') {
        const stats = await fsp.stat(component).catch(() => undefined);
        if (stats?.isDirectory()) continue; // another process made it first
      }
      throw fsError(err, component, { action: 'create' });
    }
  }
}
