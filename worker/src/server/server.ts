import * as path from 'node:path';
import { ErrorCodes, ProgressType, ResponseError } from 'vscode-jsonrpc';
import type { CancellationToken, MessageConnection } from 'vscode-jsonrpc';
import {
  PROTOCOL_VERSION,
  WORKER_REQUESTS,
  type InitializeParams,
  type InitializeResult,
  type LogMessageParams,
  type ParamsOf,
  type ResultOf,
  type WorkDoneProgressValue,
  type WorkerMethod,
  type WorkerNotifications,
  type WorkerSettings,
} from '../protocol/workerProtocol';
import { PAPER_DEFAULTS } from '../protocol/vocabulary';
import { toResponseError } from './errorMapping';
import { buildBank, listBanks, resolveClipFiles, scoreFiles } from './handlers/banks';
import { clipAudio, spectrogram } from './handlers/clips';
import { explainClip } from './handlers/explain';
import { listDatasets } from './handlers/datasets';
import { results, run, validateConfig } from './handlers/experiments';
import { downloadCheckpoint, listModels } from './handlers/models';
import { JobRunner, type JobContext } from './jobs';
import { checkInitializeParams, checkParams } from './paramsValidation';
import { genrepVersion } from '../paths';
import { resolveSettings, type Settings } from '../settings';

/**
 * The worker's side of the protocol on one connection: LSP's lifecycle (initialize / shutdown / exit), every
 * genrep/ method of WORKER_REQUESTS, progress and the status notification. Transport-agnostic, so tests can serve it
 * over in-memory streams; main.ts binds it to stdio.
 */
export interface ServeOptions {
  /** Called on `exit` (and when the connection closes): 0 after a `shutdown`, 1 otherwise, as LSP specifies. */
  onExit?: (code: number) => void;
}

interface Server {
  /** The editor's settings, from `initialize` (read once: the protocol's RestartSetting tells the editor to restart the worker when one changes). */
  editorSettings: WorkerSettings;
  /**
   * The folders and threads for one request: what the request (a run config, a params field) names, over the
   * editor's settings, over the environment (worker/src/settings.ts).
   */
  settings(runConfig?: WorkerSettings): Settings;
  jobs: JobRunner;
  log: (type: LogMessageParams['type'], message: string) => void;
}

type Handler<M extends WorkerMethod> = (
  params: ParamsOf<M>,
  server: Server,
  token: CancellationToken,
) => Promise<ResultOf<M>>;

/** A job's handler runs inside JobRunner (one at a time, cancellable, with progress) under a title. */
function job<M extends WorkerMethod>(
  method: M,
  title: (p: ParamsOf<M>) => string,
  body: (p: ParamsOf<M>, ctx: JobContext, server: Server) => Promise<ResultOf<M>>,
): Handler<M> {
  return (params, server, token) => {
    const workDoneToken = (params as { workDoneToken?: string | number }).workDoneToken;
    return server.jobs.run(method, title(params), token, workDoneToken, (ctx) => body(params, ctx, server));
  };
}

const HANDLERS: { [M in WorkerMethod]: Handler<M> } = {
  'genrep/listDatasets': (p) => listDatasets(p),
  'genrep/validateConfig': (p) => validateConfig(p),
  'genrep/run': job(
    'genrep/run',
    (p) => `GenRep: running ${path.basename(p.configFile)}`,
    (p, ctx, s) =>
      run(
        p,
        ctx,
        (config) => s.settings(config),
        (line) => s.log(3, line),
      ),
  ),
  'genrep/results': (p) => results(p),
  'genrep/buildBank': job(
    'genrep/buildBank',
    (p) => `GenRep: building the ${p.machineType} memory bank (layer ${p.layer})`,
    (p, ctx, s) => buildBank(p, ctx, s.settings(), (type, line) => s.log(type, line)),
  ),
  'genrep/scoreFiles': job(
    'genrep/scoreFiles',
    (p) => `GenRep: scoring ${p.files.length} file${p.files.length === 1 ? '' : 's'}`,
    (p, ctx, s) => scoreFiles(p, ctx, s.settings(), (type, line) => s.log(type, line)),
  ),
  'genrep/listBanks': (p) => listBanks(p),
  'genrep/resolveClips': (p) => resolveClipFiles(p),
  'genrep/explainClip': job(
    'genrep/explainClip',
    (p) => `GenRep: explaining ${p.clip}`,
    (p, ctx, s) => explainClip(p, ctx, s.settings()),
  ),
  'genrep/spectrogram': (p) => spectrogram(p),
  'genrep/clipAudio': (p) => clipAudio(p),
  'genrep/listModels': (p, s) => Promise.resolve(listModels(s.settings({ modelDir: p.modelDir }))),
  'genrep/downloadCheckpoint': job(
    'genrep/downloadCheckpoint',
    (p) => `GenRep: downloading ${p.name}`,
    (p, ctx, s) => downloadCheckpoint(p, ctx, s.settings({ modelDir: p.dir })),
  ),
};

/** The file a method's errors are about when the error names a JSON pointer but no file. */
function errorFileOf(method: WorkerMethod, params: unknown): string | undefined {
  const p = params as Record<string, unknown> | null;
  const file =
    method === 'genrep/run'
      ? p?.['configFile']
      : method === 'genrep/validateConfig' || method === 'genrep/results'
        ? p?.['file']
        : undefined;
  return typeof file === 'string' ? file : undefined;
}

const workDone = new ProgressType<WorkDoneProgressValue>();

export function serveWorker(connection: MessageConnection, options: ServeOptions = {}): void {
  const notify = <N extends keyof WorkerNotifications>(method: N, params: WorkerNotifications[N]): void => {
    void connection.sendNotification(method, params).catch(() => undefined);
  };
  const server: Server = {
    editorSettings: {},
    settings: (runConfig) => resolveSettings({ runConfig, editor: server.editorSettings, env: process.env }),
    jobs: new JobRunner({
      progress: (token, value) => void connection.sendProgress(workDone, token, value).catch(() => undefined),
      status: (status) => notify('genrep/status', status),
    }),
    log: (type, message) => notify('window/logMessage', { type, message }),
  };
  let shutdownRequested = false;

  connection.onNotification('initialized', () =>
    server.log(3, `GenRep worker ready (pid ${process.pid}, protocol ${PROTOCOL_VERSION})`),
  );
  connection.onNotification('exit', () => options.onExit?.(shutdownRequested ? 0 : 1));
  connection.onClose(() => options.onExit?.(shutdownRequested ? 0 : 1));

  // Every request goes through vscode-jsonrpc's star handler, the one that receives `params` exactly as sent
  // (absent, an array or an object): a per-method handler gets absent params replaced by its CancellationToken and
  // an array spread into arguments, so what the client sent could not be validated.
  connection.onRequest(async (method: string, params: unknown, token: CancellationToken) => {
    if (method === 'initialize') {
      checkInitializeParams(params);
      server.editorSettings = (params as InitializeParams).initializationOptions ?? {};
      const result: InitializeResult = {
        capabilities: {},
        serverInfo: { name: 'genrep-worker', version: genrepVersion() },
        genrep: {
          protocolVersion: PROTOCOL_VERSION,
          pid: process.pid,
          methods: Object.keys(WORKER_REQUESTS),
          paperDefaults: PAPER_DEFAULTS,
        },
      };
      return result;
    }
    if (method === 'shutdown') {
      shutdownRequested = true;
      return null;
    }
    if (!isWorkerMethod(method)) throw new ResponseError(ErrorCodes.MethodNotFound, `unknown method '${method}'`);
    const handler = HANDLERS[method] as Handler<WorkerMethod>;
    try {
      checkParams(method, params);
      // Absent params passed the check as {} (every member optional): the handler reads them as that.
      return await handler(params ?? {}, server, token);
    } catch (err) {
      const fileForErrors = errorFileOf(method, params);
      throw toResponseError(err, {
        ...(fileForErrors !== undefined ? { defaultFile: fileForErrors } : {}),
        logInternal: (text) => server.log(1, `${method}: ${text}`),
      });
    }
  });
}

function isWorkerMethod(method: string): method is WorkerMethod {
  return Object.prototype.hasOwnProperty.call(WORKER_REQUESTS, method);
}
