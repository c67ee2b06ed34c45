import * as vscode from 'vscode';
import type { ConfigDiagnostic, ValidateConfigResult } from '../../worker/src/protocol/workerProtocol';
import { LatestVersions, shownDiagnostics, VALIDATE_DELAY_MS } from './configDiagnosticsModel';
import type { Ctx } from './ctx';
import { isRunConfig } from './runTargets';

/**
 * The worker's view of a run config in the Problems panel, and the only one: on open and after each pause in typing
 * the worker validates the editor's text (schema, paths, and the config against the dataset as discovered — the
 * checks `genrep run` makes before extracting) and every diagnostic is published, errors as errors. VS Code's JSON
 * service gets a completion-only schema, so it adds nothing but syntax errors (configDiagnosticsModel.ts).
 * The ConfigDiagnostic behind each published diagnostic is kept for the quick fixes (configQuickFixes.ts).
 */
export class RunConfigDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('genrep');
  private readonly disposables: vscode.Disposable[] = [this.collection];
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly latest = new LatestVersions();
  /** What was published per document: code actions receive copies of the diagnostics, matched back by place. */
  private readonly published = new Map<string, ConfigDiagnostic[]>();

  constructor(private readonly ctx: Ctx) {
    const applies = (d: vscode.TextDocument): boolean => isRunConfig(d.fileName) && d.uri.scheme === 'file';
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument((d) => {
        if (applies(d)) void this.validate(d);
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (applies(e.document) && e.contentChanges.length > 0) this.schedule(e.document);
      }),
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.cancelTimer(d.uri.toString());
        this.latest.forget(d.uri.toString());
        this.collection.delete(d.uri);
        this.published.delete(d.uri.toString());
      }),
    );
    for (const d of vscode.workspace.textDocuments) if (applies(d)) void this.validate(d);
  }

  /**
   * Validates the document's current text with the worker and publishes the result unless a newer version was asked
   * about meanwhile; returns the worker's result either way (undefined if the worker could not be asked).
   */
  async validate(document: vscode.TextDocument): Promise<ValidateConfigResult | undefined> {
    const key = document.uri.toString();
    this.cancelTimer(key);
    const version = document.version;
    this.latest.ask(key, version);
    let result: ValidateConfigResult;
    try {
      result = await this.ctx.request('genrep/validateConfig', { file: document.fileName, text: document.getText() });
    } catch (err) {
      this.ctx.log.warn(`validating ${document.fileName}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
    if (this.latest.isCurrent(key, version) && !document.isClosed) {
      const jsonServiceOn = vscode.extensions.getExtension('vscode.json-language-features') !== undefined;
      const shown = shownDiagnostics(result.diagnostics, jsonServiceOn);
      this.published.set(key, shown);
      this.collection.set(document.uri, shown.map(toDiagnostic));
    }
    return result;
  }

  /** The worker's diagnostic behind a published one (for its fix), if it is one of ours. */
  sourceOf(uri: vscode.Uri, diagnostic: vscode.Diagnostic): ConfigDiagnostic | undefined {
    if (diagnostic.source !== 'genrep') return undefined;
    const r = diagnostic.range;
    return this.published
      .get(uri.toString())
      ?.find(
        (d) =>
          d.message === diagnostic.message &&
          d.range.start.line === r.start.line &&
          d.range.start.character === r.start.character &&
          d.range.end.line === r.end.line &&
          d.range.end.character === r.end.character,
      );
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  private schedule(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    this.cancelTimer(key);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.validate(document);
      }, VALIDATE_DELAY_MS),
    );
  }

  private cancelTimer(key: string): void {
    const t = this.timers.get(key);
    if (t !== undefined) clearTimeout(t);
    this.timers.delete(key);
  }
}

function toDiagnostic(d: ConfigDiagnostic): vscode.Diagnostic {
  const range = new vscode.Range(d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character);
  const diagnostic = new vscode.Diagnostic(
    range,
    d.message,
    d.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning,
  );
  diagnostic.source = 'genrep';
  diagnostic.code = d.code ?? d.source;
  return diagnostic;
}
