import { spawn, type ChildProcess } from 'node:child_process';
import type * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  RevealOutputChannelOn,
  type ServerOptions,
} from 'vscode-languageclient/node';
import type { InitializeResult, WorkerStatus } from '../../worker/src/protocol/workerProtocol';
import { config, workerSettings } from './config';
import { LineBuffer, parseClientLine } from './logLines';
import type { ExitInfo, Launcher } from './supervisor';

/**
 * Starts the worker (dist/worker/server/main.js, a plain Node process speaking JSON-RPC on stdio) through
 * vscode-languageclient, which does the framing, the initialize/shutdown handshake, `$/cancelRequest` and
 * `$/progress`. We spawn the process ourselves (ServerOptions as a function) to learn its pid and exit status;
 * restarting is the supervisor's job, so the client itself is told never to restart.
 */
export interface RunningWorker {
  client: LanguageClient;
  process: ChildProcess;
  pid: number;
  initialize: InitializeResult | undefined;
}

const STOP_GRACE_MS = 2000;

export function createLauncher(o: {
  context: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  onStatus: (s: WorkerStatus) => void;
}): Launcher<RunningWorker> {
  return {
    async launch(onExit: (info: ExitInfo) => void): Promise<RunningWorker> {
      const serverModule = o.context.asAbsolutePath('dist/worker/server/main.js');
      let child: ChildProcess | undefined;
      let exited = false;
      const reportExit = (info: ExitInfo): void => {
        if (exited) return;
        exited = true;
        onExit(info);
      };
      const serverOptions: ServerOptions = () => {
        // Inside VS Code, process.execPath is Electron: ELECTRON_RUN_AS_NODE makes it a plain Node (as languageclient's fork does).
        const node = config.nodePath() ?? process.execPath;
        child = spawn(node, [serverModule], {
          stdio: ['pipe', 'pipe', 'pipe'],
          env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
        });
        child.once('exit', (code, signal) => reportExit({ code, signal }));
        child.once('error', (err) => {
          o.log.error(`GenRep worker: could not start ${node}: ${err.message}`);
          reportExit({ code: null, signal: null });
        });
        return Promise.resolve(child);
      };
      const client = new LanguageClient('genrep', 'GenRep Worker', serverOptions, {
        outputChannel: clientChannel(o.log),
        revealOutputChannelOn: RevealOutputChannelOn.Never,
        initializationOptions: workerSettings(),
        // No document sync or language features: the worker only answers genrep/ requests.
        documentSelector: [],
        errorHandler: {
          error: (_error, _message, count) => ({
            action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown,
            handled: true,
          }),
          closed: () => ({ action: CloseAction.DoNotRestart, handled: true }),
        },
      });
      client.onNotification('genrep/status', (status: WorkerStatus) => o.onStatus(status));
      try {
        await client.start();
      } catch (err) {
        child?.kill('SIGKILL');
        throw err;
      }
      if (!child?.pid) throw new Error('the GenRep worker process has no pid');
      o.log.info(`GenRep worker started: pid ${child.pid}, ${serverModule}`);
      return {
        client,
        process: child,
        pid: child.pid,
        initialize: client.initializeResult as InitializeResult | undefined,
      };
    },

    async stop(worker: RunningWorker): Promise<void> {
      const gone = new Promise<void>((resolve) => {
        if (worker.process.exitCode !== null || worker.process.signalCode !== null) resolve();
        else worker.process.once('exit', () => resolve());
      });
      try {
        await worker.client.stop(STOP_GRACE_MS);
      } catch {
        // not running any more, or did not answer shutdown: the kill below settles it
      }
      const timer = setTimeout(() => worker.process.kill('SIGKILL'), STOP_GRACE_MS);
      await gone;
      clearTimeout(timer);
      await worker.client.dispose().catch(() => undefined);
    },
  };
}

/**
 * The channel the language client writes to: its `[Info  - time]` prefix becomes the log's own level (logLines.ts),
 * so lines are not stamped twice; the worker's stderr, written in pieces, is logged a whole line at a time.
 */
function clientChannel(log: vscode.LogOutputChannel): vscode.OutputChannel {
  const stderr = new LineBuffer();
  const write = (line: string): void => {
    const { level, message } = parseClientLine(line);
    log[level](message);
  };
  return {
    name: log.name,
    append: (text) => stderr.push(text).forEach(write),
    appendLine: (text) => write(text),
    replace: (text) => log.replace(text),
    clear: () => log.clear(),
    show: (column?: unknown, preserveFocus?: boolean) =>
      typeof column === 'boolean' ? log.show(column) : log.show(preserveFocus),
    hide: () => log.hide(),
    // The log belongs to Ctx, which disposes it; a stopped client must not close it.
    dispose: () => undefined,
  };
}
