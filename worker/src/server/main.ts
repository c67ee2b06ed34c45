import { createMessageConnection, ErrorCodes, StreamMessageWriter } from 'vscode-jsonrpc/node';
import type { Logger, Message } from 'vscode-jsonrpc/node';
import { escapeControl } from '../errors';
import { WORKER_EXIT_CODES } from '../protocol/errors';
import { errorResponse } from './envelope';
import { DEFAULT_STALL_TIMEOUT_MS, GuardedMessageReader } from './guardedReader';
import { serveWorker } from './server';

/**
 * The worker process the extension starts (vscode-languageclient, TransportKind.stdio): stdout carries JSON-RPC and
 * nothing else, so every console method is pointed at stderr before anything can print, and logs travel as
 * window/logMessage. stderr lines (`genrep worker: …`) reach the extension's output channel too; they say why a
 * message was refused or why the process ended.
 *
 * The worker always answers or ends: every request gets a reply (GuardedMessageReader answers what vscode-jsonrpc
 * would drop), and when the stream cannot be followed any more, or a bug escapes, the process logs the reason and
 * exits non-zero (WORKER_EXIT_CODES) so that the supervisor starts a clean one, instead of living on deaf.
 */
function log(line: string): void {
  process.stderr.write(`genrep worker: ${escapeControl(line)}\n`);
}

/** One line saying what happened, then the stack (for the log, where the extension shows it). */
function die(what: string, err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  const stack = err instanceof Error && err.stack ? `${err.stack.split('\n').slice(1).join('\n')}\n` : '';
  process.stderr.write(`genrep worker: ${what}: ${escapeControl(message)}; exiting\n${stack}`);
  process.exit(WORKER_EXIT_CODES.INTERNAL);
}

/** GENREP_WORKER_STALL_MS: how long a started frame may wait for its next byte (tests shorten it). */
function stallTimeoutMs(): number {
  const value = Number(process.env['GENREP_WORKER_STALL_MS']);
  return Number.isInteger(value) && value > 0 ? value : DEFAULT_STALL_TIMEOUT_MS;
}

function main(): void {
  process.on('uncaughtException', (err) => die('uncaught exception', err));
  process.on('unhandledRejection', (reason) => die('unhandled promise rejection', reason));
  for (const name of ['log', 'info', 'debug', 'warn'] as const) {
    console[name] = (...args: unknown[]): void => void process.stderr.write(`${args.map(String).join(' ')}\n`);
  }
  const writer = new StreamMessageWriter(process.stdout);
  let exiting = false;
  const exit = (code: number): void => {
    if (exiting) return;
    exiting = true;
    connection.dispose();
    process.exit(code);
  };
  const reader = new GuardedMessageReader(process.stdin, {
    stallTimeoutMs: stallTimeoutMs(),
    log,
    // Arrays (batch replies) are serialised like any message; the writer's type only knows single messages.
    reply: (response) => void writer.write(response as unknown as Message).catch(() => undefined),
    onBroken: (reason) => {
      if (exiting) return;
      log(`${reason}; exiting with status ${WORKER_EXIT_CODES.BROKEN_STREAM} so that a fresh worker is started`);
      // The client learns why before the pipe closes (a response with id null is logged by vscode-jsonrpc).
      const said = writer.write(errorResponse(null, ErrorCodes.ParseError, reason)).catch(() => undefined);
      const timeout = new Promise((resolve) => setTimeout(resolve, 1000).unref());
      void Promise.race([said, timeout]).then(() => exit(WORKER_EXIT_CODES.BROKEN_STREAM));
    },
  });
  const logger: Logger = { error: log, warn: log, info: () => undefined, log: () => undefined };
  const connection = createMessageConnection(reader, writer, logger);
  serveWorker(connection, { onExit: exit });
  connection.listen();
}

main();
