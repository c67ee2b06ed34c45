import * as vscode from 'vscode';
import { ProgressType } from 'vscode-languageclient/node';
import type { PaperDefaults } from '../../worker/src/protocol/vocabulary';
import type {
  ParamsOf,
  ResultOf,
  WorkDoneProgressValue,
  WorkerMethod,
  WorkerStatus,
} from '../../worker/src/protocol/workerProtocol';
import { chooseLocalCheckpoint, openModelsFolder, useFbankStats } from './checkpointActions';
import { actionLabel, presentFailure, type FailureContext, type FailureView } from './errorPresentation';
import { statusBarView } from './statusBarModel';
import { describeExit, WorkerSupervisor, type WorkerState } from './supervisor';
import { createLauncher, type RunningWorker } from './workerClient';

/**
 * Owns the worker for the extension's lifetime: the supervisor that (re)starts it, the status-bar item that shows
 * its state, the log, and the two ways of talking to it — `request` for quick questions and `job` for long work,
 * which shows a cancellable progress notification fed by the worker's `$/progress` reports.
 */
const workDone = new ProgressType<WorkDoneProgressValue>();

export class Ctx implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly supervisor: WorkerSupervisor<RunningWorker>;
  private readonly statusItem: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private workerStatus: WorkerStatus | undefined;
  private lastCrash: string | undefined;
  private retired: RunningWorker | undefined;
  private nextToken = 1;

  constructor(readonly context: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('GenRep', { log: true });
    this.statusItem = vscode.window.createStatusBarItem('genrep.worker', vscode.StatusBarAlignment.Left, 0);
    this.statusItem.name = 'GenRep Worker';
    this.disposables.push(this.log, this.statusItem);
    this.supervisor = new WorkerSupervisor(
      createLauncher({ context, log: this.log, onStatus: (s) => this.setWorkerStatus(s) }),
      {
        onState: (state, worker) => this.onState(state, worker),
        onCrash: (report) => {
          this.lastCrash = describeExit(report.exit);
          this.log.error(
            `GenRep worker ${this.lastCrash}${report.willRestart ? `; restarting${report.delayMs ? ` in ${report.delayMs} ms` : ''}` : '; not restarting again'}`,
          );
          const message = report.willRestart
            ? `The GenRep worker ${this.lastCrash}. It is being restarted; anything it was running was stopped.`
            : `The GenRep worker ${this.lastCrash} ${report.crashesInWindow} times in a short while and was not restarted.`;
          void vscode.window
            .showErrorMessage(message, 'Show Log', ...(report.willRestart ? [] : ['Restart Worker']))
            .then((choice) => {
              if (choice === 'Show Log') this.log.show(true);
              if (choice === 'Restart Worker') void vscode.commands.executeCommand('genrep.restartWorker');
            });
        },
        onLaunchError: (err) =>
          this.log.error(`GenRep worker failed to start: ${err instanceof Error ? err.message : String(err)}`),
      },
    );
    this.renderStatus();
    this.statusItem.show();
  }

  /** A quick request; starts the worker if needed. */
  async request<M extends WorkerMethod>(
    method: M,
    params: ParamsOf<M>,
    token?: vscode.CancellationToken,
  ): Promise<ResultOf<M>> {
    const worker = await this.supervisor.ready();
    return token
      ? worker.client.sendRequest<ResultOf<M>>(method, params, token)
      : worker.client.sendRequest<ResultOf<M>>(method, params);
  }

  /**
   * The paper's settings as the worker sends them in `initialize` (its PAPER_DEFAULTS): the extension takes the
   * protocol as types only, so it keeps no copy of them. Starts the worker if needed.
   */
  async paperDefaults(): Promise<PaperDefaults> {
    const worker = await this.supervisor.ready();
    const defaults = worker.initialize?.genrep.paperDefaults;
    if (defaults === undefined) {
      throw new Error(`the GenRep worker (pid ${worker.pid}) sent no paper defaults in initialize; is it out of date?`);
    }
    return defaults;
  }

  /** A long request in a progress notification with Cancel (Cancel sends `$/cancelRequest`; the job stops at the next clip). */
  job<M extends WorkerMethod>(
    method: M,
    params: Omit<ParamsOf<M>, 'workDoneToken'>,
    title: string,
    /** Sees every progress report (a cancelled run's Run Again says how many clips' features it kept). */
    observe?: (value: WorkDoneProgressValue) => void,
  ): Promise<ResultOf<M>> {
    return Promise.resolve(
      vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title, cancellable: true },
        async (progress, token) => {
          const worker = await this.supervisor.ready();
          const workDoneToken = `genrep-${process.pid}-${this.nextToken++}`;
          let shown = 0;
          const subscription = worker.client.onProgress(workDone, workDoneToken, (value) => {
            observe?.(value);
            if (value.kind === 'end') return;
            const percentage = value.percentage ?? shown;
            progress.report({
              ...(value.message ? { message: value.message } : {}),
              increment: Math.max(0, percentage - shown),
            });
            shown = Math.max(shown, percentage);
          });
          try {
            return await worker.client.sendRequest<ResultOf<M>>(method, { ...params, workDoneToken }, token);
          } finally {
            subscription.dispose();
          }
        },
      ),
    );
  }

  /**
   * Shows a failure the one way every command does: the message, then the buttons that fix it. Returns the view,
   * so callers can add their own follow-up (retry, diagnostics).
   */
  reportFailure(
    what: string,
    err: unknown,
    extra: { retry?: () => unknown; buildBank?: () => unknown; context?: FailureContext } = {},
  ): FailureView {
    const view = presentFailure(what, err, extra.context);
    this.log[view.cancelled ? 'info' : 'error'](view.message);
    const actions = view.actions.filter((a) => a !== 'retry' || extra.retry !== undefined);
    const show =
      view.severity === 'info'
        ? vscode.window.showInformationMessage
        : view.severity === 'warning'
          ? vscode.window.showWarningMessage
          : vscode.window.showErrorMessage;
    void show(view.message, ...actions.map((a) => actionLabel(a, view))).then(async (choice) => {
      const action = actions.find((a) => actionLabel(a, view) === choice);
      switch (action) {
        case 'openLocation':
          if (view.location) await openAt(view.location.file, view.location.range);
          break;
        case 'showLog':
          this.log.show(true);
          break;
        case 'restartWorker':
          await vscode.commands.executeCommand('genrep.restartWorker');
          break;
        case 'downloadCheckpoint':
          await vscode.commands.executeCommand('genrep.downloadCheckpoint');
          break;
        case 'selectEmbedder':
          await vscode.commands.executeCommand('workbench.action.openSettings', 'genrep.embedder');
          break;
        case 'buildBank':
          await (extra.buildBank ? extra.buildBank() : vscode.commands.executeCommand('genrep.buildBank'));
          break;
        case 'retry':
          await extra.retry?.();
          break;
        case 'openModelsFolder':
          if (view.checkpoint) await openModelsFolder(view.checkpoint.modelDir);
          break;
        case 'chooseLocalCheckpoint':
          if (view.checkpoint) await chooseLocalCheckpoint(this, view.checkpoint);
          break;
        case 'useFbankStats':
          await useFbankStats();
          break;
        case undefined: // dismissed
          break;
      }
    });
    return view;
  }

  private onState(state: WorkerState, worker: RunningWorker | undefined): void {
    if (state === 'running' && worker) {
      this.workerStatus = undefined;
      this.retired = worker;
    } else if (state === 'restarting' || state === 'failed') {
      // The crashed worker's client is stopped already; let it go so its handlers do not pile up.
      const old = this.retired;
      this.retired = undefined;
      void old?.client.dispose().catch(() => undefined);
    }
    this.renderStatus();
  }

  private setWorkerStatus(status: WorkerStatus): void {
    this.workerStatus = status;
    this.renderStatus();
  }

  private renderStatus(): void {
    const view = statusBarView({
      state: this.supervisor.state,
      ...(this.workerStatus ? { status: this.workerStatus } : {}),
      ...(this.supervisor.current ? { pid: this.supervisor.current.pid } : {}),
      ...(this.lastCrash ? { lastCrash: this.lastCrash } : {}),
    });
    this.statusItem.text = view.text;
    this.statusItem.tooltip = view.tooltip;
    this.statusItem.command = view.command;
    this.statusItem.backgroundColor = view.error ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  async dispose(): Promise<void> {
    await this.supervisor.stop().catch(() => undefined);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** Opens a file with the cursor on a range from the worker (0-based lines and columns, as LSP counts). */
export async function openAt(
  file: string,
  range?: { start: { line: number; character: number }; end: { line: number; character: number } },
): Promise<void> {
  const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const selection = range
    ? new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character)
    : undefined;
  await vscode.window.showTextDocument(document, { ...(selection ? { selection } : {}), preview: false });
}
