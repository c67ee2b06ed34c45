import { promises as fsp, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { fileError } from '../errors';
import { fsError } from './fsErrors';

/**
 * Reading input files piece by piece instead of with readFile: readFile stops at 2 GiB (ERR_FS_FILE_TOO_LARGE) and
 * allocates whatever a file's size says before looking at it, while a reader that knows the size first can check
 * every length field against it and allocate only what the header and the size together allow.
 */
export interface OpenFile {
  handle: FileHandle;
  size: number;
}

/**
 * Opens a regular file for reading. Devices, pipes and sockets are refused: their size says nothing about what
 * they hold, /dev/zero would never end, and opening a FIFO blocks until someone writes to it — so the path is
 * checked before it is opened, and the handle's size taken after.
 */
export async function openRegularFile(file: string, expected: string): Promise<OpenFile> {
  let handle: FileHandle;
  try {
    checkRegular(await fsp.stat(file), file, expected);
    handle = await fsp.open(file, 'r');
  } catch (err) {
    throw fsError(err, file, { action: 'open', expected });
  }
  try {
    const stats = await handle.stat();
    checkRegular(stats, file, expected);
    return { handle, size: stats.size };
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw fsError(err, file, { expected });
  }
}

function checkRegular(stats: Stats, file: string, expected: string): void {
  if (stats.isDirectory()) throw fileError(file, `is a directory, expected ${expected}`, 'BAD_INPUT', { expected });
  if (!stats.isFile()) {
    const problem = `is not a regular file (a device, pipe or socket), expected ${expected}`;
    throw fileError(file, problem, 'BAD_INPUT', { expected });
  }
}

/**
 * Fills `into` from `position` on. A file that ends early (it shrank after its size was read) is reported as
 * truncated rather than leaving zeros in the array.
 */
export async function readFully(open: OpenFile, into: Uint8Array, position: number, file: string): Promise<void> {
  let done = 0;
  while (done < into.length) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await open.handle.read(into, done, into.length - done, position + done));
    } catch (err) {
      throw fsError(err, file);
    }
    if (bytesRead === 0) throw fileError(file, `truncated: ended at byte ${position + done} while reading`, 'CORRUPT');
    done += bytesRead;
  }
}

/** Bytes per read: large enough that the per-call overhead vanishes, small enough to stay out of the peak RSS. */
export const READ_CHUNK_BYTES = 8 * 1024 * 1024;
