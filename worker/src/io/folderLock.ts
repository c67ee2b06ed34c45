import { promises as fsp } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import { errnoCode } from './fsErrors';
import { pidAlive } from './pidAlive';

/**
 * An exclusive-create lock file: the first process to create it holds it; the file records its pid so a second
 * one can say who holds it, and so a lock left by a killed process (pid gone) can be taken over. Taking over goes
 * through a short-lived second lock (`<lock>.break`) so two processes that find the same stale lock cannot both
 * remove it and one of them delete the other's fresh lock.
 */
export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
}

export interface HeldLock {
  file: string;
  release(): Promise<void>;
}

/** A lock file still without readable content this long after it was made was left by a crash before its write. */
const UNREADABLE_STALE_MS = 10_000;
/** The breaker is held for a few milliseconds; one older than this was left by a crash. */
const BREAKER_STALE_MS = 10_000;

/** Takes the lock, or returns who holds it (a live process on this machine, or one on another machine). */
export async function tryLock(file: string): Promise<HeldLock | { heldBy: LockHolder }> {
  const token = randomBytes(8).toString('hex');
  const holder = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), token };
  const mine = `${JSON.stringify(holder)}\n`;
  for (let attempt = 0; ; attempt++) {
    if (await createExclusive(file, mine)) return { file, release: () => releaseIfMine(file, mine) };
    const seen = await readLock(file);
    if (seen === undefined) continue; // released between our create and our read
    if (!isStale(seen) || attempt >= 3) return { heldBy: seen.holder ?? { pid: 0, host: '', startedAt: '' } };
    await breakStaleLock(file, seen.raw);
  }
}

/** false when the file exists; a file we created but could not fill (a full disk) is removed again. */
async function createExclusive(file: string, content: string): Promise<boolean> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'wx');
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(content);
    await handle.close();
    return true;
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fsp.rm(file, { force: true }).catch(() => undefined);
    throw err;
  }
}

interface SeenLock {
  raw: string;
  holder: LockHolder | undefined;
  ageMs: number;
}

async function readLock(file: string): Promise<SeenLock | undefined> {
  try {
    const [raw, stats] = await Promise.all([fsp.readFile(file, 'utf8'), fsp.stat(file)]);
    return { raw, holder: parseHolder(raw), ageMs: Date.now() - stats.mtimeMs };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

function parseHolder(raw: string): LockHolder | undefined {
  try {
    const v = JSON.parse(raw) as Partial<LockHolder>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.startedAt === 'string') {
      return { pid: v.pid, host: v.host, startedAt: v.startedAt };
    }
  } catch {
    // falls through: unreadable
  }
  return undefined;
}

/** Stale: its process is gone (on this machine; another machine's pid cannot be checked), or it never got content. */
function isStale(seen: SeenLock): boolean {
  if (!seen.holder) return seen.ageMs > UNREADABLE_STALE_MS;
  return seen.holder.host === os.hostname() && !pidAlive(seen.holder.pid);
}

async function breakStaleLock(file: string, staleContent: string): Promise<void> {
  const breaker = `${file}.break`;
  try {
    await fsp.writeFile(breaker, `${process.pid}\n`, { flag: 'wx' });
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    const stats = await fsp.stat(breaker).catch(() => undefined);
    if (stats && Date.now() - stats.mtimeMs > BREAKER_STALE_MS) await fsp.rm(breaker, { force: true });
    await new Promise((resolve) => setTimeout(resolve, 20));
    return; // someone else is breaking it; the caller looks again
  }
  try {
    // Only the breaker's holder removes a stale lock, and its dead owner cannot, so the content read here is still
    // the file that is removed.
    const now = await fsp.readFile(file, 'utf8').catch(() => undefined);
    if (now === staleContent) await fsp.rm(file, { force: true });
  } finally {
    await fsp.rm(breaker, { force: true });
  }
}

async function releaseIfMine(file: string, mine: string): Promise<void> {
  const now = await fsp.readFile(file, 'utf8').catch(() => undefined);
  if (now === mine) await fsp.rm(file, { force: true }).catch(() => undefined);
}
