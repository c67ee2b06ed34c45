import * as vscode from 'vscode';
import { planFix } from './configFixEdits';
import type { RunConfigDiagnostics } from './runConfigDiagnostics';

/** The hidden command a "Create folder" quick fix runs (a WorkspaceEdit creates files, not folders). */
export const CREATE_FOLDER_COMMAND = 'genrep.quickFix.createFolder';

/**
 * Quick fixes for run-config diagnostics: the fix the worker attached to a diagnostic (set K_s to the bank size,
 * rename a key to the one meant, create a missing folder), as the edits configFixEdits.ts computes.
 */
export function registerConfigQuickFixes(diagnostics: RunConfigDiagnostics): vscode.Disposable {
  const provider: vscode.CodeActionProvider = {
    provideCodeActions(document, _range, context) {
      const actions: vscode.CodeAction[] = [];
      for (const diagnostic of context.diagnostics) {
        const fix = diagnostics.sourceOf(document.uri, diagnostic)?.fix;
        const plan = fix ? planFix(document.getText(), fix) : undefined;
        if (!plan) continue;
        const action = new vscode.CodeAction(plan.title, vscode.CodeActionKind.QuickFix);
        action.diagnostics = [diagnostic];
        action.isPreferred = true;
        if (plan.edits.length > 0) {
          const edit = new vscode.WorkspaceEdit();
          for (const e of plan.edits) {
            const range = new vscode.Range(document.positionAt(e.offset), document.positionAt(e.offset + e.length));
            edit.replace(document.uri, range, e.content);
          }
          action.edit = edit;
        }
        if (plan.createFolder !== undefined)
          action.command = {
            title: plan.title,
            command: CREATE_FOLDER_COMMAND,
            arguments: [plan.createFolder, document.uri],
          };
        actions.push(action);
      }
      return actions;
    },
  };
  return vscode.Disposable.from(
    vscode.languages.registerCodeActionsProvider({ scheme: 'file', pattern: '**/*.genrep.json' }, provider, {
      providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
    }),
    vscode.commands.registerCommand(CREATE_FOLDER_COMMAND, async (folder: string, uri: vscode.Uri) => {
      await vscode.workspace.fs.createDirectory(vscode.Uri.file(folder));
      const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      if (document) await diagnostics.validate(document);
    }),
  );
}
