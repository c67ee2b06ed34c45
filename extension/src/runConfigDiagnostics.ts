import * as vscode from 'vscode';
import type { ConfigDiagnostic, ValidateConfigResult } from '../../worker/src/protocol/workerProtocol';
import type { Ctx } from './ctx';
import { isRunConfig } from './runTargets';

/**
 * The worker's view of a run config in the Problems panel. While typing, VS Code's JSON service already checks the
 * schema (contributes.jsonValidation), so on open and save only what it cannot know is published — paths that do not
 * exist. Before a run, the worker's full result is published, so a config that cannot run shows exactly why.
 */
export class RunConfigDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('genrep');
  private readonly disposables: vscode.Disposable[] = [this.collection];

  constructor(private readonly ctx: Ctx) {
    const check = (document: vscode.TextDocument): void => {
      if (isRunConfig(document.fileName) && document.uri.scheme === 'file') void this.validate(document, 'paths');
    };
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument(check),
      vscode.workspace.onDidSaveTextDocument(check),
      vscode.workspace.onDidCloseTextDocument((d) => this.collection.delete(d.uri)),
    );
    for (const d of vscode.workspace.textDocuments) check(d);
  }

  /** Validates with the worker and publishes; 'all' before a run, 'paths' on open and save. */
  async validate(document: vscode.TextDocument, scope: 'all' | 'paths'): Promise<ValidateConfigResult | undefined> {
    let result: ValidateConfigResult;
    try {
      result = await this.ctx.request('genrep/validateConfig', { file: document.fileName, text: document.getText() });
    } catch (err) {
      this.ctx.log.warn(`validating ${document.fileName}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
    const shown = scope === 'all' ? result.diagnostics : result.diagnostics.filter((d) => d.source === 'file');
    this.collection.set(document.uri, shown.map(toDiagnostic));
    return result;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
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
  diagnostic.code = d.source;
  return diagnostic;
}
