/**
 * Keeps one worker process alive: starts it, notices when it dies, restarts it with a back-off, and gives up after
 * too many crashes in a short window (a worker that dies on start would otherwise spin). Pure — no `vscode`
 * import — so the restart logic is tested against a real worker process in vitest; the extension plugs in a
 * launcher built on vscode-languageclient.
 *
 * Exits are attributed to the launch that produced them (a generation number), so the late exit of a worker that
 * was deliberately stopped or replaced never triggers a restart.
 */
export type WorkerState = 'stopped' | 'starting' | 'running' | 'restarting' | 'failed';

export interface ExitInfo {
  /** Exit code, when the process exited by itself. */
  code: number | null;
  /** The signal that killed it (SIGKILL, SIGSEGV …). */
  signal: string | null;
}

export interface CrashReport {
  exit: ExitInfo;
  /** Crashes within the policy's window, this one included. */
  crashesInWindow: number;
  willRestart: boolean;
  /** How long until the restart (0 for at once). */
  delayMs: number;
}

export interface Launcher<W> {
  /**
   * Starts a worker and resolves once it is ready (it answered `initialize`). `onExit` must be called exactly once,
   * when that process ends for whatever reason.
   */
  launch(onExit: (info: ExitInfo) => void): Promise<W>;
  /** Stops a worker politely (shutdown, exit), killing it after a grace period. */
  stop(worker: W): Promise<void>;
}

export interface RestartPolicy {
  /** More crashes than this within windowMs → state 'failed', no more automatic restarts. */
  maxCrashes: number;
  windowMs: number;
  /** Delay before the n-th restart within the window (the last entry repeats). */
  backoffMs: readonly number[];
}

/** As vscode-languageclient's default (5 restarts in 3 minutes), with a growing pause between attempts. */
export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  maxCrashes: 5,
  windowMs: 3 * 60_000,
  backoffMs: [0, 1000, 3000, 10_000],
};

export interface SupervisorEvents<W> {
  onState?(state: WorkerState, worker: W | undefined): void;
  onCrash?(report: CrashReport): void;
  /** A launch that failed outright (the process could not start or never answered initialize). */
  onLaunchError?(error: unknown): void;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

export class WorkerSupervisor<W> {
  private _state: WorkerState = 'stopped';
  private worker: W | undefined;
  private generation = 0;
  private crashes: number[] = [];
  /** The start or restart in progress, which every caller waiting for a worker shares. */
  private pending: Promise<W> | undefined;

  constructor(
    private readonly launcher: Launcher<W>,
    private readonly events: SupervisorEvents<W> = {},
    private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY,
    private readonly clock: Clock = realClock,
  ) {}

  get state(): WorkerState {
    return this._state;
  }

  get current(): W | undefined {
    return this._state === 'running' ? this.worker : undefined;
  }

  /** The running worker; starts one if stopped, waits for a start or restart in progress. Rejects in 'failed'. */
  async ready(): Promise<W> {
    if (this._state === 'running' && this.worker !== undefined) return this.worker;
    if (this.pending) return this.pending;
    if (this._state === 'failed')
      throw new Error(
        'the GenRep worker crashed repeatedly and was not restarted; run "GenRep: Restart Worker" after checking the log',
      );
    return this.start();
  }

  start(): Promise<W> {
    if (this.pending) return this.pending;
    if (this._state === 'running' && this.worker !== undefined) return Promise.resolve(this.worker);
    return this.launchNow('starting', 0);
  }

  /** A deliberate restart (the user's command or a settings change): forgets earlier crashes. */
  async restart(): Promise<W> {
    await this.stop();
    this.crashes = [];
    return this.start();
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.generation++; // any exit from here on belongs to a stopped generation
    this.worker = undefined;
    this.pending = undefined;
    this.setState('stopped');
    if (worker !== undefined) await this.launcher.stop(worker);
  }

  private launchNow(state: 'starting' | 'restarting', delayMs: number): Promise<W> {
    const generation = ++this.generation;
    this.setState(state);
    const attempt = (async (): Promise<W> => {
      if (delayMs > 0) await this.clock.sleep(delayMs);
      if (generation !== this.generation) throw new Error('the GenRep worker was stopped while starting');
      let exitedEarly: ExitInfo | undefined;
      let worker: W;
      try {
        worker = await this.launcher.launch((info) => {
          if (generation !== this.generation) return;
          if (this._state === 'running') this.handleCrash(info).catch(() => undefined);
          else exitedEarly = info;
        });
      } catch (err) {
        if (generation !== this.generation) throw err;
        this.events.onLaunchError?.(err);
        return this.handleCrash({ code: null, signal: null }, err);
      }
      if (generation !== this.generation) {
        await this.launcher.stop(worker);
        throw new Error('the GenRep worker was stopped while starting');
      }
      if (exitedEarly) return this.handleCrash(exitedEarly);
      this.worker = worker;
      this.pending = undefined;
      this.setState('running');
      return worker;
    })();
    this.pending = attempt;
    // Waiters get the outcome through `pending`; an unobserved failure must not become an unhandled rejection.
    attempt.catch(() => undefined);
    return attempt;
  }

  /** Counts the crash and restarts (returning the new worker's promise) or gives up (rejecting). */
  private handleCrash(exit: ExitInfo, cause?: unknown): Promise<W> {
    const now = this.clock.now();
    this.crashes = [...this.crashes.filter((t) => now - t < this.policy.windowMs), now];
    const count = this.crashes.length;
    this.worker = undefined;
    const willRestart = count <= this.policy.maxCrashes;
    const delayMs = willRestart
      ? (this.policy.backoffMs[Math.min(count - 1, this.policy.backoffMs.length - 1)] ?? 0)
      : 0;
    this.events.onCrash?.({ exit, crashesInWindow: count, willRestart, delayMs });
    if (!willRestart) {
      this.generation++;
      this.pending = undefined;
      this.setState('failed');
      const reason = cause instanceof Error ? `: ${cause.message}` : '';
      return Promise.reject(
        new Error(
          `the GenRep worker crashed ${count} times within ${Math.round(this.policy.windowMs / 1000)} s and was not restarted${reason}`,
        ),
      );
    }
    return this.launchNow('restarting', delayMs);
  }

  private setState(state: WorkerState): void {
    this._state = state;
    this.events.onState?.(state, state === 'running' ? this.worker : undefined);
  }
}

/** How a crash reads in a notification: "exited with code 70" / "was killed (SIGKILL)". */
export function describeExit(exit: ExitInfo): string {
  if (exit.signal) return `was killed (${exit.signal})`;
  if (exit.code !== null) return `exited with code ${exit.code}`;
  return 'could not be started';
}
