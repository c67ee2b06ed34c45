import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import { openReport } from './reportView';
import { comparisonMarkdown, resultsPickRow, type RunEntry } from './runEntries';
import type { RunsTreeProvider } from './runsTree';
import { revealFile, ResultsPanel } from './resultsPanel';

/**
 * The Runs view's item commands. Each takes the clicked entry (and, from a multi-selection, all selected entries,
 * as VS Code passes them); from the palette, with no entry, each asks for a run.
 */
export type RunsCommandId =
  | 'genrep.runs.open'
  | 'genrep.runs.revealFolder'
  | 'genrep.runs.openReport'
  | 'genrep.runs.compare'
  | 'genrep.runs.runAgain'
  | 'genrep.runs.refresh';

type Handler = (...args: unknown[]) => Promise<unknown>;

function isEntry(value: unknown): value is RunEntry {
  return typeof value === 'object' && value !== null && 'key' in value && 'status' in value && 'name' in value;
}

async function pickRun(
  runs: RunsTreeProvider,
  placeHolder: string,
  keep: (e: RunEntry) => boolean,
): Promise<RunEntry | undefined> {
  const entries = (await runs.refresh()).filter(keep);
  if (entries.length === 0) {
    offerRun('GenRep: no run in this workspace fits; run an experiment first.');
    return undefined;
  }
  const choice = await vscode.window.showQuickPick(
    entries.map((e) => ({ ...resultsPickRow(e, (f) => vscode.workspace.asRelativePath(f)), entry: e })),
    { placeHolder, matchOnDescription: true, matchOnDetail: true },
  );
  return choice?.entry;
}

/** A notice that there is nothing to act on yet, with the way to make something. */
function offerRun(message: string): void {
  void vscode.window.showInformationMessage(message, 'Run Experiment').then(async (choice) => {
    if (choice) await vscode.commands.executeCommand('genrep.runExperiment');
  });
}

export function createRunsCommands(ctx: Ctx, runs: RunsTreeProvider): Record<RunsCommandId, Handler> {
  const entryOr = async (arg: unknown, placeHolder: string, keep: (e: RunEntry) => boolean) =>
    isEntry(arg) ? arg : pickRun(runs, placeHolder, keep);
  return {
    'genrep.runs.open': async (arg) => {
      const entry = await entryOr(arg, 'Run to open', (e) => e.resultsFile !== undefined);
      if (entry?.resultsFile) await ResultsPanel.showResultsFile(ctx, entry.resultsFile);
    },

    'genrep.runs.revealFolder': async (arg) => {
      const entry = await entryOr(arg, 'Run whose folder to reveal', (e) => e.folder !== undefined);
      if (entry?.folder) await revealFile(entry.folder);
    },

    'genrep.runs.openReport': async (arg) => {
      const entry = await entryOr(arg, 'Run whose report to open', (e) => e.reportFile !== undefined);
      if (entry?.reportFile) await openReport({ ...entry, reportFile: entry.reportFile });
    },

    'genrep.runs.compare': async (arg, selected) => {
      const chosen =
        Array.isArray(selected) && selected.length > 0
          ? selected.filter(isEntry)
          : isEntry(arg)
            ? [arg]
            : [...runs.selection()];
      let finished = chosen.filter((e) => e.status === 'complete');
      if (finished.length < 2) {
        const all = (await runs.refresh()).filter((e) => e.status === 'complete');
        if (all.length < 2) {
          offerRun(
            'GenRep: comparing needs two or more finished runs; this workspace has ' +
              `${all.length === 0 ? 'none' : 'one'}.`,
          );
          return;
        }
        const picks = await vscode.window.showQuickPick(
          all.map((e) => ({
            ...resultsPickRow(e, (f) => vscode.workspace.asRelativePath(f)),
            picked: finished.some((f) => f.key === e.key),
            entry: e,
          })),
          { canPickMany: true, placeHolder: 'Runs to compare (two or more)' },
        );
        if (!picks) return;
        finished = picks.map((p) => p.entry);
        if (finished.length < 2) {
          void vscode.window.showInformationMessage('GenRep: select two or more runs to compare.');
          return;
        }
      }
      // A file in the extension's storage rather than an untitled document: closing the preview asks nothing.
      const dir = ctx.context.storageUri ?? ctx.context.globalStorageUri;
      await vscode.workspace.fs.createDirectory(dir);
      const file = vscode.Uri.joinPath(dir, 'runs-compared.md');
      await vscode.workspace.fs.writeFile(file, new TextEncoder().encode(comparisonMarkdown(finished)));
      await vscode.commands.executeCommand('markdown.showPreview', file);
    },

    'genrep.runs.runAgain': async (arg) => {
      const entry = await entryOr(arg, 'Run to run again', (e) => e.configFile !== undefined);
      if (entry?.configFile)
        await vscode.commands.executeCommand('genrep.runExperiment', vscode.Uri.file(entry.configFile));
    },

    'genrep.runs.refresh': async () => {
      await runs.refresh();
    },
  };
}
