/**
 * Whether a process with this pid is running on this machine. Signal 0 checks existence without sending anything;
 * EPERM means it exists but belongs to someone else. A reused pid reads as alive, so callers that clean up after a
 * dead process pair this with an age limit or tell the user which file to delete.
 */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
