import { mkdirSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawnGroup, type GroupProcess } from './processes';
import { WaitAborted, waitFor } from './waits';

export interface CodeServerOptions {
  codeServerBin: string;
  extensionsDir: string;
  /** A fresh folder per run: user settings, state and logs of this VS Code. */
  profileDir: string;
  workspace: string;
  userSettings: Record<string, unknown>;
  logFile: string;
}

export interface RunningCodeServer {
  readonly url: string;
  readonly port: number;
  readonly process: GroupProcess;
  stop(): Promise<void>;
}

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.setTimeout(2_000, () => request.destroy(new Error('no answer within 2 s')));
    request.once('error', reject);
  });
}

/** Starts code-server without auth on a free loopback port and resolves once it answers HTTP. */
export async function startCodeServer(options: CodeServerOptions): Promise<RunningCodeServer> {
  const userDataDir = path.join(options.profileDir, 'user-data');
  mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(options.userSettings, null, 2));
  // Without --config and XDG folders of its own, code-server writes ~/.config/code-server/config.yaml and
  // ~/.local/share/code-server: keep everything in the run's folder.
  const configFile = path.join(options.profileDir, 'config.yaml');
  writeFileSync(configFile, 'auth: none\ncert: false\n');
  const port = await freeLoopbackPort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(options.profileDir, 'xdg-config'),
    XDG_DATA_HOME: path.join(options.profileDir, 'xdg-data'),
    XDG_CACHE_HOME: path.join(options.profileDir, 'xdg-cache'),
  };
  delete env['VSCODE_IPC_HOOK_CLI'];
  const args = [
    '--config',
    configFile,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    options.extensionsDir,
    options.workspace,
  ];
  const child = spawnGroup(options.codeServerBin, args, { env, logFile: options.logFile });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`code-server to answer on ${url} (log: ${options.logFile})`, 60_000, async () => {
      const exitCode = await Promise.race([child.exited, Promise.resolve('running' as const)]);
      if (exitCode !== 'running') throw new WaitAborted(`code-server exited with code ${exitCode}`);
      const status = await httpStatus(`${url}/healthz`);
      return status === 200 ? status : undefined;
    });
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { url, port, process: child, stop: () => child.stop() };
}
