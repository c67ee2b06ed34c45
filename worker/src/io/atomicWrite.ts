import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import * as os from 'node:os';
import { GenrepError } from '../errors';
import { ensureDir, errnoCode, fsError } from './fsErrors';
import { pidAlive } from './pidAlive';

/**
 * Writes through a temporary sibling and renames it into place, so a reader (or a crash) sees either the old file
 * or the complete new one, never a prefix. The temp file lives in the same directory because rename is only atomic
 * within one filesystem. Every failure is one line naming `target` (not the temp file, which the user never named).
 */
export async function writeFileAtomic(
  target: string,
  data: string | Uint8Array | readonly Uint8Array[],
  options: { tagHost?: boolean } = {},
): Promise<void> {
  try {
    await ensureDir(path.dirname(target));
  } catch (err) {
    const cause = fsError(err, path.dirname(target), { action: 'create' });
    throw new GenrepError(`${target}: cannot write it: ${cause.message}`, cause.code, { ...cause.data, file: target });
  }
  const tmp = path.join(path.dirname(target), tempName(path.basename(target), options.tagHost === true));
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, 'wx');
    if (typeof data === 'string' || data instanceof Uint8Array) {
      await handle.writeFile(data);
    } else {
      for (const part of data) await handle.write(part);
    }
    injectedFailure();
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, target);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw fsError(withoutPath(err), target, { action: 'write', expected: 'a file path' });
  }
}

/**
 * `.<name>.<pid>.<12 hex>.tmp`: hidden, and it says which process wrote it, so a leftover can be told stale. With
 * `tagHost`, `.<name>.h<8 hex>.<pid>.<12 hex>.tmp`: the writer's machine too (a hash of its host name), for folders
 * that processes on several machines write (a shared feature cache), where a pid alone names no process.
 */
function tempName(base: string, tagHost: boolean): string {
  const host = tagHost ? `.${HOST_TAG}` : '';
  return `.${base}${host}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

const HOST_TAG = `h${createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8)}`;
const HOST_TAGGED = /\.(h[0-9a-f]{8})$/;

const TEMP_NAME = /^\.(.+)\.(\d+)\.[0-9a-f]{12}\.tmp$/;

/** A temporary file left by writeFileAtomic older than this is stale even if its pid is alive (reused). */
export const STALE_TEMP_MS = 15 * 60 * 1000;

export function isAtomicTemp(name: string): boolean {
  return TEMP_NAME.test(name);
}

/**
 * Removes writeFileAtomic's leftovers in `dir` (not below it): temp files whose process is gone, or older than
 * STALE_TEMP_MS. A live writer's temp file is left alone. Returns how many were removed; a folder that cannot be
 * listed is skipped (the write that follows reports the real problem). Temps that name another machine
 * (`tagHost`) are removed by age only.
 */
export async function removeStaleTemps(dir: string, now = Date.now()): Promise<number> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const match = TEMP_NAME.exec(name);
    if (!match) continue;
    const file = path.join(dir, name);
    const stats = await fsp.lstat(file).catch(() => undefined);
    if (!stats?.isFile()) continue;
    // A temp another machine wrote (its host tag not ours) is told stale by age alone: its pid means nothing here.
    const otherHost = HOST_TAGGED.exec(match[1] ?? '')?.[1] ?? HOST_TAG;
    const writerAlive = otherHost === HOST_TAG ? pidAlive(Number(match[2])) : true;
    if (writerAlive && now - stats.mtimeMs < STALE_TEMP_MS) continue;
    await fsp.rm(file, { force: true }).catch(() => undefined);
    removed++;
  }
  return removed;
}

/** The temp file's path in a system error would name a file the user never asked for; the target is named instead. */
function withoutPath(err: unknown): unknown {
  if (err instanceof GenrepError || !(err instanceof Error)) return err;
  const code = errnoCode(err);
  return Object.assign(new Error(err.message), code ? { code } : {});
}

/**
 * Test hook, off unless GENREP_TEST_ENOSPC_AT_WRITE=n is set: the n-th atomic write of this process fails with
 * ENOSPC after its data went to the temp file, as a full disk would. Lets the disk-full tests run where mounting a
 * small tmpfs is not allowed.
 */
let writesSeen = 0;
function injectedFailure(): void {
  const at = Number(process.env['GENREP_TEST_ENOSPC_AT_WRITE'] ?? 0);
  if (at > 0 && ++writesSeen === at) {
    throw Object.assign(new Error('ENOSPC: no space left on device (injected by GENREP_TEST_ENOSPC_AT_WRITE)'), {
      code: 'ENOSPC',
    });
  }
}
