import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ProgressType } from 'vscode-jsonrpc/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeExit,
  WorkerSupervisor,
  type Clock,
  type CrashReport,
  type ExitInfo,
  type Launcher,
  type WorkerState,
} from '../../extension/src/supervisor';
import type { WorkDoneProgressValue } from '../../worker/src/protocol/workerProtocol';
import { writeTinyDataset } from '../helpers/tinyDataset';
import { CLIP_BY_CLIP_RUN } from '../helpers/tinyRuns';
import { nodeLauncher, rejectionOf } from '../server/workerProcess';

describe('WorkerSupervisor with the real worker process', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-supervisor-'));
    writeTinyDataset(path.join(dir, 'data'), {
      machines: ['fan'],
      trainSource: 40,
      trainTarget: 4,
      testPerGroup: 6,
      seconds: 4,
    });
    writeFileSync(path.join(dir, 'run.genrep.json'), JSON.stringify(CLIP_BY_CLIP_RUN));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('restarts a killed worker, reports the crash, and the new worker answers', async () => {
    const launcher = nodeLauncher();
    const crashes: CrashReport[] = [];
    const states: WorkerState[] = [];
    const supervisor = new WorkerSupervisor(launcher, {
      onCrash: (c) => crashes.push(c),
      onState: (s) => states.push(s),
    });
    const first = await supervisor.start();
    expect(supervisor.state).toBe('running');

    process.kill(first.pid, 'SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const second = await waitFor(() => supervisor.current);
    expect(second.pid).not.toBe(first.pid);
    expect(crashes).toEqual([
      { exit: { code: null, signal: 'SIGKILL' }, crashesInWindow: 1, willRestart: true, delayMs: 0 },
    ]);
    expect(states).toEqual(['starting', 'running', 'restarting', 'running']);
    expect(describeExit(crashes[0]!.exit)).toBe('was killed (SIGKILL)');

    const models = await second.request('genrep/listModels', {});
    expect(models.models.map((m) => m.name)).toContain('beats');
    await supervisor.stop();
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(launcher.launched).toHaveLength(2);
    expect(supervisor.state).toBe('stopped');
  });

  it('restarts a worker that ended itself over a broken message frame, and the new worker answers', async () => {
    const crashes: CrashReport[] = [];
    const supervisor = new WorkerSupervisor(nodeLauncher(), { onCrash: (c) => crashes.push(c) });
    const first = await supervisor.start();
    first.child.stdin!.write('Content-Length: -5\r\n\r\n{}');
    expect(await first.exited).toEqual({ code: 65, signal: null });
    expect(first.stderr.join('')).toMatch(/^genrep worker: broken message frame: Content-Length "-5"/m);
    const second = await waitFor(() => supervisor.current);
    expect(second.pid).not.toBe(first.pid);
    expect(crashes).toEqual([{ exit: { code: 65, signal: null }, crashesInWindow: 1, willRestart: true, delayMs: 0 }]);
    expect(describeExit(crashes[0]!.exit)).toBe('exited with code 65');
    expect((await second.request('genrep/listModels', {})).models.length).toBeGreaterThan(0);
    await supervisor.stop();
  });

  it('survives a worker crash in the middle of a run: the request fails, and the next run on the restarted worker works', async () => {
    const supervisor = new WorkerSupervisor(nodeLauncher());
    const first = await supervisor.ready();
    const configFile = path.join(dir, 'run.genrep.json');
    const sub = first.connection.onProgress(new ProgressType<WorkDoneProgressValue>(), 'doomed', (v) => {
      if (v.kind === 'report' && v.stage === 'extract' && (v.done ?? 0) > 0) process.kill(first.pid, 'SIGKILL');
    });
    const err = await rejectionOf(first.request('genrep/run', { configFile, workDoneToken: 'doomed' }));
    sub.dispose();
    expect(String(err.message)).toMatch(/closed|disposed/i);

    const second = await waitFor(() => supervisor.current);
    expect(second.pid).not.toBe(first.pid);
    const outcome = await second.request('genrep/run', { configFile });
    expect(outcome.cache.hits).toBeGreaterThan(0); // what the crashed run had finished was kept
    expect(outcome.cache.hits + outcome.cache.extracted).toBe(40 + 4 + 24);
    await supervisor.stop();
  });
});

/** A launcher of pretend workers whose exits the test triggers. */
function fakeLauncher(options: { failLaunches?: number } = {}) {
  let failures = options.failLaunches ?? 0;
  const exits: ((info: ExitInfo) => void)[] = [];
  const stopped: number[] = [];
  let next = 1;
  const launcher: Launcher<{ id: number }> = {
    launch(onExit) {
      if (failures > 0) {
        failures--;
        return Promise.reject(new Error('spawn ENOENT'));
      }
      exits.push(onExit);
      return Promise.resolve({ id: next++ });
    },
    stop(w) {
      stopped.push(w.id);
      exits[w.id - 1]?.({ code: 0, signal: null }); // a stopped worker exits too; that must not count as a crash
      return Promise.resolve();
    },
  };
  const crash = (id: number, code = 70): void => {
    const exit = exits[id - 1];
    if (!exit) throw new Error(`worker ${id} was never launched`);
    exit({ code, signal: null });
  };
  return { launcher, crash, stopped };
}

function fakeClock(): Clock & { sleeps: number[]; advance(ms: number): void } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: (ms) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
    advance: (ms) => (now += ms),
  };
}

describe('WorkerSupervisor restart policy', () => {
  const policy = { maxCrashes: 3, windowMs: 60_000, backoffMs: [0, 100, 1000] };

  /** A started supervisor over a fake launcher and clock, with the crash reports it gives. */
  async function startedSupervisor() {
    const fake = fakeLauncher();
    const clock = fakeClock();
    const crashes: CrashReport[] = [];
    const supervisor = new WorkerSupervisor(fake.launcher, { onCrash: (c) => crashes.push(c) }, policy, clock);
    await supervisor.start();
    /** Crashes worker `id` and waits until its replacement is the current worker. */
    const crashAndAwaitRestart = async (id: number): Promise<void> => {
      fake.crash(id);
      await waitFor(() => supervisor.current?.id === id + 1 || undefined);
    };
    return { fake, clock, crashes, supervisor, crashAndAwaitRestart };
  }

  it('backs off between restarts and gives up after too many crashes within the window', async () => {
    const { fake, clock, crashes, supervisor, crashAndAwaitRestart } = await startedSupervisor();
    for (let id = 1; id <= 3; id++) await crashAndAwaitRestart(id);
    expect(clock.sleeps).toEqual([100, 1000]); // the first restart is immediate
    fake.crash(4);
    await waitFor(() => supervisor.state === 'failed' || undefined);
    expect(crashes.map((c) => [c.crashesInWindow, c.willRestart])).toEqual([
      [1, true],
      [2, true],
      [3, true],
      [4, false],
    ]);
    await expect(supervisor.ready()).rejects.toThrow(/crashed repeatedly/);
    // The user's restart forgets the history and starts afresh.
    expect((await supervisor.restart()).id).toBe(5);
    expect(supervisor.state).toBe('running');
  });

  it('forgets crashes older than the window', async () => {
    const { clock, crashes, crashAndAwaitRestart } = await startedSupervisor();
    for (let id = 1; id <= 6; id++) {
      clock.advance(61_000);
      await crashAndAwaitRestart(id);
    }
    expect(crashes.every((c) => c.crashesInWindow === 1 && c.willRestart)).toBe(true);
  });

  it('does not restart a worker it stopped on purpose', async () => {
    const fake = fakeLauncher();
    const supervisor = new WorkerSupervisor(fake.launcher, {}, policy, fakeClock());
    await supervisor.start();
    await supervisor.stop();
    expect(fake.stopped).toEqual([1]);
    await new Promise((r) => setTimeout(r, 10));
    expect(supervisor.state).toBe('stopped');
    expect((await supervisor.ready()).id).toBe(2); // ready() starts it again on demand
  });

  it('counts launches that fail outright and retries them', async () => {
    const fake = fakeLauncher({ failLaunches: 2 });
    const errors: unknown[] = [];
    const supervisor = new WorkerSupervisor(
      fake.launcher,
      { onLaunchError: (e) => errors.push(e) },
      policy,
      fakeClock(),
    );
    expect((await supervisor.start()).id).toBe(1);
    expect(errors).toHaveLength(2);
  });

  it('gives up on a launcher that can never start, with the cause in the error', async () => {
    const fake = fakeLauncher({ failLaunches: 100 });
    const supervisor = new WorkerSupervisor(fake.launcher, {}, policy, fakeClock());
    await expect(supervisor.start()).rejects.toThrow(/crashed 4 times .*spawn ENOENT/);
    expect(supervisor.state).toBe('failed');
  });
});

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}
