import * as vscode from 'vscode';
import { pathOf } from './commandArgs';
import { compareAction, compareSelection } from './compareSelection';
import type { Ctx } from './ctx';
import { listForMessage } from './wavSelection';
import { openReport } from './reportView';
import { resultsPickRow, type RunEntry } from './runEntries';
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
  | 'genrep.compareResults'
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
      // The comparison panel (its delta table has Copy as Markdown, what this command used to preview).
      await ResultsPanel.showCompareFiles(
        ctx,
        finished.flatMap((e) => (e.resultsFile !== undefined ? [e.resultsFile] : [])),
      );
    },

    'genrep.compareResults': async (arg, selected) => {
      const paths = (Array.isArray(selected) ? selected : []).map(pathOf).filter((p): p is string => p !== undefined);
      const selection = compareSelection(pathOf(arg), paths);
      const others = selection.others;
      let files = selection.files;
      if (others.length > 0)
        void vscode.window.showInformationMessage(
          `GenRep: comparing results.json files only; left out ${listForMessage(others, (p) => vscode.workspace.asRelativePath(p))}.`,
        );
      if (compareAction({ files, others }) === 'askForMore') {
        const picked = await vscode.window.showOpenDialog({
          canSelectMany: true,
          filters: { 'GenRep results': ['json'] },
          openLabel: files.length === 0 ? 'Compare (two or more)' : 'Compare with',
        });
        if (!picked) return;
        files = compareSelection(undefined, [...files, ...picked.map((u) => u.fsPath)]).files;
        if (files.length < 2) {
          void vscode.window.showInformationMessage('GenRep: select two or more results.json files to compare.');
          return;
        }
      }
      await ResultsPanel.showCompareFiles(ctx, files);
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
