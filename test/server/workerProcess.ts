import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type CancellationToken,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import type { ExitInfo, Launcher } from '../../extension/src/supervisor';
import type { InitializeResult, ParamsOf, ResultOf, WorkerMethod } from '../../worker/src/protocol/workerProtocol';

/**
 * The built worker (dist/worker/server/main.js) spawned as the extension spawns it — a separate Node process
 * speaking JSON-RPC on stdio — and driven with vscode-jsonrpc's own client, so these tests exercise the real
 * framing, process and protocol. `npm test` builds first; run `npx tsc -b` before running these files alone.
 */
export const WORKER_MAIN = path.resolve(__dirname, '..', '..', 'dist', 'worker', 'server', 'main.js');

export interface TestWorker {
  connection: MessageConnection;
  child: ChildProcess;
  pid: number;
  initialize: InitializeResult;
  stderr: string[];
  exited: Promise<ExitInfo>;
  request<M extends WorkerMethod>(method: M, params: ParamsOf<M>, token?: CancellationToken): Promise<ResultOf<M>>;
}

export async function startWorker(
  options: { env?: NodeJS.ProcessEnv; settings?: Record<string, unknown>; onExit?: (info: ExitInfo) => void } = {},
): Promise<TestWorker> {
  if (!existsSync(WORKER_MAIN)) throw new Error(`${WORKER_MAIN} is missing: build first (npx tsc -b)`);
  const child = spawn(process.execPath, [WORKER_MAIN], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  const stderr: string[] = [];
  child.stderr.on('data', (d: Buffer) => stderr.push(d.toString('utf8')));
  const exited = new Promise<ExitInfo>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  if (options.onExit) void exited.then(options.onExit);
  const connection = createMessageConnection(
    new StreamMessageReader(child.stdout),
    new StreamMessageWriter(child.stdin),
  );
  connection.onError(() => undefined);
  // As vscode-languageclient does when its server goes away: requests still waiting are rejected, not left hanging.
  void exited.then(() => connection.dispose());
  connection.listen();
  const initialize = await connection.sendRequest<InitializeResult>('initialize', {
    processId: process.pid,
    initializationOptions: options.settings ?? {},
  });
  await connection.sendNotification('initialized', {});
  return {
    connection,
    child,
    pid: child.pid!,
    initialize,
    stderr,
    exited,
    request: (method, params, token) =>
      token ? connection.sendRequest(method, params, token) : connection.sendRequest(method, params),
  };
}

/** The polite way out: shutdown, exit; returns how the process ended. */
export async function stopWorker(worker: TestWorker): Promise<ExitInfo> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) {
    try {
      await worker.connection.sendRequest('shutdown');
      await worker.connection.sendNotification('exit');
    } catch {
      worker.child.kill('SIGKILL');
    }
  }
  const exit = await worker.exited;
  worker.connection.dispose();
  return exit;
}

/** The supervisor's launcher as the tests use it: the same process and protocol, vscode-jsonrpc instead of languageclient. */
export function nodeLauncher(
  options: { env?: NodeJS.ProcessEnv; settings?: Record<string, unknown> } = {},
): Launcher<TestWorker> & { launched: TestWorker[] } {
  const launched: TestWorker[] = [];
  return {
    launched,
    async launch(onExit) {
      const worker = await startWorker({ ...options, onExit });
      launched.push(worker);
      return worker;
    },
    async stop(worker) {
      await stopWorker(worker);
    },
  };
}

/** An error a request failed with, for assertions on code and data. */
export async function rejectionOf(
  promise: Promise<unknown>,
): Promise<{ code: number; message: string; data: Record<string, unknown> }> {
  try {
    await promise;
  } catch (err) {
    return err as { code: number; message: string; data: Record<string, unknown> };
  }
  throw new Error('expected the request to fail');
}
