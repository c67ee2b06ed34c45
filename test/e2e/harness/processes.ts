import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

/** A child started in its own process group, so that teardown ends it and everything it started. */
export interface GroupProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<number | null>;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the leader is gone. */
  stop(graceMs?: number): Promise<void>;
}

const liveGroups = new Set<number>();

// A crashed or interrupted test must not leave code-server or chromium running: kill what is left on the way out.
process.once('exit', () => {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

export function spawnGroup(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string },
): GroupProcess {
  const log = openSync(options.logFile, 'a');
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  const pid = child.pid;
  liveGroups.add(pid);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      liveGroups.delete(pid);
      resolve(code);
    });
    child.once('error', () => {
      liveGroups.delete(pid);
      resolve(null);
    });
  });
  return {
    child,
    pid,
    exited,
    async stop(graceMs = 5_000) {
      killGroup(pid, 'SIGTERM');
      const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
      if ((await Promise.race([exited, timer])) === 'timeout') killGroup(pid, 'SIGKILL');
      // Children that ignored SIGTERM while the leader exited (extension hosts, language servers).
      killGroup(pid, 'SIGKILL');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
      liveGroups.delete(pid);
    },
  };
}
