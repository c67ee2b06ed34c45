import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { serveWorker } from './server';

/**
 * The worker process the extension starts (vscode-languageclient, TransportKind.stdio): stdout carries JSON-RPC and
 * nothing else, so every console method is pointed at stderr before anything can print, and logs travel as
 * window/logMessage. The process ends on `exit`, or when the client goes away and stdin closes.
 */
function main(): void {
  for (const name of ['log', 'info', 'debug', 'warn'] as const) {
    console[name] = (...args: unknown[]): void => void process.stderr.write(`${args.map(String).join(' ')}\n`);
  }
  const connection = createMessageConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));
  let exiting = false;
  serveWorker(connection, {
    onExit: (code) => {
      if (exiting) return;
      exiting = true;
      connection.dispose();
      process.exit(code);
    },
  });
  process.on('uncaughtException', (err) => {
    // A bug: say so on stderr (the extension's output channel) and die, so the supervisor restarts a clean process.
    process.stderr.write(`genrep worker: uncaught exception: ${err.stack ?? err.message}\n`);
    process.exit(70);
  });
  connection.listen();
}

main();
