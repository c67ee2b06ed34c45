import * as vscode from 'vscode';
import { createCommands } from './commands';
import { COMMANDS, DATASET_VIEW_ID, RESTART_SETTINGS, RUNS_VIEW_ID, type CommandId } from './commandIds';
import { registerConfigQuickFixes } from './configQuickFixes';
import { Ctx } from './ctx';
import { DatasetTreeProvider } from './datasetTree';
import { registerResultsPanelSerializer } from './resultsPanel';
import { RunConfigDiagnostics } from './runConfigDiagnostics';
import { RunsTreeProvider } from './runsTree';

/**
 * GenRep for VS Code. activate() reads as the table of contents: the worker context, the Dataset Explorer, run-config
 * diagnostics, the Runs view, the results panels' serializer, the commands, and the settings that need a worker restart. The
 * worker starts with the first request (listing the datasets), not before.
 */
let ctx: Ctx | undefined;

export function activate(context: vscode.ExtensionContext): void {
  ctx = new Ctx(context);
  const tree = new DatasetTreeProvider(ctx);
  const diagnostics = new RunConfigDiagnostics(ctx);
  const runs = new RunsTreeProvider(ctx);
  // Several runs selected at once are compared (genrep.runs.compare receives them, or reads the selection).
  const runsView = vscode.window.createTreeView(RUNS_VIEW_ID, { treeDataProvider: runs, canSelectMany: true });
  runs.selection = () => runsView.selection;
  context.subscriptions.push(
    tree,
    diagnostics,
    runs,
    registerConfigQuickFixes(diagnostics),
    vscode.window.createTreeView(DATASET_VIEW_ID, { treeDataProvider: tree, showCollapseAll: true }),
    runsView,
    registerResultsPanelSerializer(ctx),
  );

  const handlers = createCommands({ ctx, tree, diagnostics, runs });
  for (const id of Object.keys(COMMANDS) as CommandId[]) {
    const handler = handlers[id];
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await handler(...args);
        } catch (err) {
          // Commands report their own expected failures; this is the net for bugs, which VS Code would swallow.
          ctx?.log.error(`${id}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
          void vscode.window
            .showErrorMessage(
              `GenRep: ${COMMANDS[id]} failed: ${err instanceof Error ? err.message : String(err)}`,
              'Show Log',
            )
            .then((c) => c && ctx?.log.show(true));
          return undefined;
        }
      }),
    );
  }

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!RESTART_SETTINGS.some((k) => e.affectsConfiguration(`genrep.${k}`))) return;
      const choice = await vscode.window.showInformationMessage(
        'GenRep: the worker must restart for this setting to apply.',
        'Restart Worker',
      );
      if (choice) await vscode.commands.executeCommand('genrep.restartWorker');
    }),
  );

  void tree.refresh();
  void runs.refresh();
}

export async function deactivate(): Promise<void> {
  await ctx?.dispose();
}
