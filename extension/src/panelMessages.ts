import type { RunResults } from '../../worker/src/protocol/results';
import type {
  FromWebview,
  PanelContent,
  PanelMethod,
  PanelReply,
  ToWebview,
} from '../../worker/src/protocol/webviewProtocol';
import type { ChartFormat } from '../../worker/src/protocol/webviewProtocol';
import type { ExplainResult } from '../../worker/src/protocol/explain';
import type { ClipAudioResult, SpectrogramResult } from '../../worker/src/protocol/workerProtocol';
import { CHART_FORMATS, chartBytes, chartFileName, MAX_COPY_CHARS } from './panelExports';

/**
 * The host's side of the panel's messages, without `vscode`. Messages from a webview are untrusted input: each is
 * checked for shape, and a file the panel names must belong to what it shows (its clips, config, results, report),
 * so a page that misbehaves cannot make the host read or open arbitrary files.
 */
export interface PanelHost {
  spectrogram(file: string): Promise<SpectrogramResult>;
  clipAudio(file: string): Promise<ClipAudioResult>;
  /** `genrep/explainClip` for a clip of the shown content (the run's results.json in `variant`, or the bank). */
  explainClip(file: string, variant: string | undefined): Promise<ExplainResult>;
  /** Files an answer brought in that the panel may now play and show (an explanation's nearest normal clips). */
  allowFiles(files: readonly string[]): void;
  openFile(file: string): Promise<void>;
  revealFile(file: string): Promise<void>;
  /** Put text on the editor's clipboard; `what` names it in the confirmation. */
  copyText(text: string, what: string): Promise<void>;
  /** Ask where to save a chart and write it; `fileName` is already safe (chartFileName). */
  saveChart(fileName: string, format: ChartFormat, bytes: Uint8Array): Promise<void>;
  post(message: ToWebview): void;
  /** The panel (re)loaded: send it what it should show. */
  ready(): void;
  /** Files the panel may name. */
  allowedFiles(): ReadonlySet<string>;
  /** Something the host should know about but the panel need not (a malformed message). */
  warn(message: string): void;
}

const PANEL_METHODS: readonly PanelMethod[] = ['spectrogram', 'clipAudio', 'explainClip'];
/** Longer than any variant name a run holds; a longer one is not a variant but a malformed message. */
const MAX_VARIANT_CHARS = 200;

export function parseFromWebview(raw: unknown): FromWebview | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  switch (m['type']) {
    case 'ready':
      return { type: 'ready' };
    case 'openFile':
    case 'revealFile':
      return typeof m['file'] === 'string' ? { type: m['type'], file: m['file'] } : undefined;
    case 'copyText':
      return typeof m['text'] === 'string' && typeof m['what'] === 'string'
        ? { type: 'copyText', text: m['text'], what: m['what'].slice(0, 80) }
        : undefined;
    case 'saveChart': {
      const format = m['format'];
      if (typeof format !== 'string' || !(CHART_FORMATS as readonly string[]).includes(format)) return undefined;
      return typeof m['name'] === 'string' && typeof m['data'] === 'string'
        ? { type: 'saveChart', name: m['name'], format: format as ChartFormat, data: m['data'] }
        : undefined;
    }
    case 'request': {
      const requestId = m['requestId'];
      const method = m['method'];
      const params = m['params'] as Record<string, unknown> | undefined;
      if (typeof requestId !== 'number' || !Number.isInteger(requestId)) return undefined;
      if (typeof method !== 'string' || !(PANEL_METHODS as readonly string[]).includes(method)) return undefined;
      if (typeof params !== 'object' || params === null || typeof params['file'] !== 'string') return undefined;
      if (method === 'explainClip') {
        const variant = params['variant'];
        if (variant !== undefined && (typeof variant !== 'string' || variant.length > MAX_VARIANT_CHARS))
          return undefined;
        return {
          type: 'request',
          requestId,
          method,
          params: { file: params['file'], ...(variant !== undefined ? { variant } : {}) },
        };
      }
      return { type: 'request', requestId, method: method as PanelMethod, params: { file: params['file'] } };
    }
    default:
      return undefined;
  }
}

export async function handlePanelMessage(raw: unknown, host: PanelHost): Promise<void> {
  const message = parseFromWebview(raw);
  if (!message) {
    host.warn(`results panel: ignored a malformed message ${safeJson(raw)}`);
    return;
  }
  switch (message.type) {
    case 'ready':
      host.ready();
      return;
    case 'openFile':
    case 'revealFile': {
      if (!host.allowedFiles().has(message.file)) {
        host.warn(`results panel: refused to open ${message.file}, which is not part of the shown results`);
        return;
      }
      await (message.type === 'openFile' ? host.openFile(message.file) : host.revealFile(message.file));
      return;
    }
    case 'copyText':
      if (message.text.length > MAX_COPY_CHARS) {
        host.warn(`results panel: refused to copy ${message.text.length} characters (more than ${MAX_COPY_CHARS})`);
        return;
      }
      try {
        await host.copyText(message.text, message.what);
      } catch (err) {
        host.post({ type: 'error', message: `Copying ${message.what} failed: ${errorText(err)}` });
      }
      return;
    case 'saveChart': {
      const checked = chartBytes(message.format, message.data);
      if ('error' in checked) {
        host.post({ type: 'error', message: `Saving the chart failed: ${checked.error}` });
        return;
      }
      try {
        await host.saveChart(chartFileName(message.name, message.format), message.format, checked.bytes);
      } catch (err) {
        host.post({ type: 'error', message: `Saving the chart failed: ${errorText(err)}` });
      }
      return;
    }
    case 'request': {
      const { requestId, method } = message;
      const file = message.params.file;
      if (!host.allowedFiles().has(file)) {
        host.post({ type: 'reply', requestId, method, ok: false, error: `${file} is not part of the shown results` });
        return;
      }
      let reply: PanelReply;
      try {
        if (message.method === 'explainClip') {
          const result = await host.explainClip(file, message.params.variant);
          host.allowFiles(explainedFiles(result));
          reply = { type: 'reply', requestId, method: 'explainClip', ok: true, result };
        } else
          reply =
            message.method === 'spectrogram'
              ? { type: 'reply', requestId, method: 'spectrogram', ok: true, result: await host.spectrogram(file) }
              : { type: 'reply', requestId, method: 'clipAudio', ok: true, result: await host.clipAudio(file) };
      } catch (err) {
        reply = {
          type: 'reply',
          requestId,
          method,
          ok: false,
          error: err instanceof Error ? err.message : String(err),
        };
      }
      host.post(reply);
      return;
    }
    default: {
      const unreachable: never = message;
      return unreachable;
    }
  }
}

/** What a content lets the panel name: every clip in it, plus the run's own files. */
export function allowedFilesOf(content: PanelContent | undefined, extra: readonly string[] = []): Set<string> {
  const files = new Set(extra);
  if (!content) return files;
  if (content.kind === 'results') {
    files.add(content.file);
    addRunFiles(files, content.results, content.file);
    for (const v of content.results.variants) for (const m of v.machines) for (const f of m.files) files.add(f.path);
  } else if (content.kind === 'compare') {
    // The runs' results.json and every clip the comparison lists (a changed clip plays in the panel).
    for (const r of content.compare.runs) files.add(r.file);
    for (const p of content.compare.pairs)
      for (const v of p.variants) for (const m of v.machines) for (const f of m.files) files.add(f.path);
  } else {
    files.add(content.scored.bankFile);
    for (const f of content.scored.files) files.add(f.path);
  }
  return files;
}

function addRunFiles(files: Set<string>, results: RunResults, resultsFile: string): void {
  if (results.configFile) files.add(results.configFile);
  const dir = resultsFile.slice(0, Math.max(resultsFile.lastIndexOf('/'), resultsFile.lastIndexOf('\\')) + 1);
  for (const out of results.outputs) files.add(`${dir}${out}`);
}

/**
 * The clips an explanation names that the panel may play: its neighbours' training clips (a MemMixup row has no one
 * path and is not playable). Only paths the worker put in the answer, never ones the page sends.
 */
export function explainedFiles(result: ExplainResult): string[] {
  return result.neighbours.flatMap((n) => (typeof n.path === 'string' && n.path.length > 0 ? [n.path] : []));
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function safeJson(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    return String(value);
  }
}
