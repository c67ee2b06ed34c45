import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PaperDefaults } from '../../worker/src/protocol/vocabulary';
import type { MachineListing, ModelListing } from '../../worker/src/protocol/workerProtocol';
import { WALKTHROUGH_ID, type CommandId } from './commandIds';
import { addDatasetRoot, config, removeDatasetRoot, workspaceFolder } from './config';
import { datasetFacts, runConfigTemplate, slug } from './configTemplate';
import { isNode, pathOf, relativeLabel } from './commandArgs';
import { openAt, type Ctx } from './ctx';
import { configRoots, type DatasetTreeProvider } from './datasetTree';
import type { DatasetNode } from './datasetTreeModel';
import { featuresKeptAfter } from './errorPresentation';
import { revealFile, ResultsPanel } from './resultsPanel';
import type { RunConfigDiagnostics } from './runConfigDiagnostics';
import { percent, resultsPickRow } from './runEntries';
import { createRunsCommands } from './runsCommands';
import type { RunsTreeProvider } from './runsTree';
import { chooseRunTarget } from './runTargets';
import { buildBankCommand, scoreSelectedFiles } from './scoreCommands';

/**
 * One factory per command (rust-analyzer's commands.ts): each takes the extension's services and returns the
 * handler VS Code calls with the command's arguments — a tree node, an explorer Uri (and the multi-selection), or
 * nothing from the palette.
 */
export interface Services {
  ctx: Ctx;
  tree: DatasetTreeProvider;
  diagnostics: RunConfigDiagnostics;
  runs: RunsTreeProvider;
}

type Handler = (...args: unknown[]) => Promise<unknown>;

async function findRunConfigs(): Promise<string[]> {
  return (await vscode.workspace.findFiles('**/*.genrep.json', '**/node_modules/**', 500)).map((u) => u.fsPath);
}

async function pickFile(files: readonly string[], placeHolder: string): Promise<string | undefined> {
  const choice = await vscode.window.showQuickPick(
    files.map((f) => ({ label: path.basename(f), description: path.dirname(relativeLabel(f)), file: f })),
    { placeHolder, matchOnDescription: true },
  );
  return choice?.file;
}

/** Runs one config: saved, validated (diagnostics on failure), run as a job, its results opened in the panel. */
async function runConfigFile(s: Services, file: string): Promise<void> {
  const name = path.basename(file);
  const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  if (document.isDirty) await document.save();
  // The worker's checks, the same the run makes before extracting: a config they reject never starts.
  const validation = await s.diagnostics.validate(document);
  const errors = validation?.diagnostics.filter((d) => d.severity === 'error') ?? [];
  if (errors.length > 0) {
    const first = errors[0]!;
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''})` : '';
    const line = `${name}:${first.range.start.line + 1}:${first.range.start.character + 1}`;
    // The diagnostics (with their quick fixes) are already published; the Problems panel shows every one of them.
    await vscode.commands.executeCommand('workbench.actions.view.problems');
    const choice = await vscode.window.showErrorMessage(
      `Cannot run ${name}: ${line}: ${first.message}${more}`,
      'Open File',
      'Show Problems',
    );
    if (choice === 'Open File') await openAt(file, first.range);
    if (choice === 'Show Problems') await vscode.commands.executeCommand('workbench.actions.view.problems');
    return;
  }
  let outcome;
  // The Runs view shows it as running, and keeps it as cancelled or failed: those runs leave no files behind.
  const record = await s.runs.startRun(file, name.replace(/\.genrep\.json$/i, ''));
  let featuresKept: number | undefined;
  try {
    outcome = await s.ctx.job('genrep/run', { configFile: file }, `GenRep: running ${name}`, (value) => {
      featuresKept = featuresKeptAfter(featuresKept, value);
    });
  } catch (err) {
    const view = s.ctx.reportFailure(`Running ${name}`, err, {
      retry: () => runConfigFile(s, file),
      context: { kind: 'run', featuresKept },
    });
    await s.runs.finishRun(record, {
      status: view.cancelled ? 'cancelled' : 'failed',
      message: view.message,
      ...(featuresKept !== undefined ? { featuresKept } : {}),
    });
    return;
  }
  await s.runs.finishRun(record, { status: 'complete' });
  s.ctx.log.info(`run ${outcome.name} finished in ${outcome.totalSec.toFixed(1)} s: ${outcome.resultsFile}`);
  await ResultsPanel.showResultsFile(s.ctx, outcome.resultsFile);
  const score = outcome.overall
    ? ` — ${outcome.overall.official !== null ? `official score ${percent(outcome.overall.official)}` : `AUC ${percent(outcome.overall.auc)}`}`
    : '';
  void vscode.window
    .showInformationMessage(
      `GenRep: ${outcome.name} finished in ${outcome.totalSec.toFixed(1)} s${score}.`,
      'Reveal Results Folder',
    )
    .then((choice) => {
      if (choice) void revealFile(outcome.resultsFile);
    });
}

/** A tree node's run config: the config that names its root, or a new one for it. */
async function configForNode(s: Services, node: DatasetNode): Promise<string | undefined> {
  if (node.kind === 'root' && node.spec.source === 'config' && node.spec.origin) return node.spec.origin;
  const root = node.kind === 'root' ? node.spec.path : 'root' in node ? node.root : undefined;
  if (root === undefined) return undefined;
  const existing = (await configRoots()).find((c) => path.resolve(path.dirname(c.config), c.root) === root);
  if (existing) return existing.config;
  return createRunConfigFile(s, root, node.kind === 'machine' ? [node.machine.machineType] : undefined, false);
}

/** Writes a commented template next to the workspace root and opens it; returns its path. */
async function createRunConfigFile(
  s: Services,
  root: string,
  machineTypes: string[] | undefined,
  askName: boolean,
): Promise<string | undefined> {
  let paper: PaperDefaults;
  try {
    paper = await s.ctx.paperDefaults();
  } catch (err) {
    s.ctx.reportFailure('Creating a run config', err);
    return undefined;
  }
  const folder = workspaceFolder();
  const suggested = [path.basename(root), ...(machineTypes ?? [])].join('-');
  const name = askName
    ? await vscode.window.showInputBox({
        prompt: 'Name of the run',
        value: suggested,
        validateInput: (v) => (v.trim() ? undefined : 'a name is needed'),
      })
    : suggested;
  if (name === undefined) return undefined;
  let file: string | undefined;
  if (folder) {
    for (let i = 1; ; i++) {
      const candidate = path.join(folder, `${slug(name)}${i > 1 ? `-${i}` : ''}.genrep.json`);
      if (!existsSync(candidate)) {
        file = candidate;
        break;
      }
    }
  } else {
    file = (
      await vscode.window.showSaveDialog({
        filters: { 'GenRep run config': ['genrep.json'] },
        saveLabel: 'Create Run Config',
      })
    )?.fsPath;
  }
  if (!file) return undefined;
  const relative = path.relative(path.dirname(file), root);
  const datasetRoot = relative.startsWith('..') || path.isAbsolute(relative) ? root : relative || '.';
  const text = runConfigTemplate(
    {
      name,
      datasetRoot: datasetRoot.split(path.sep).join('/'),
      ...(machineTypes ? { machineTypes } : {}),
      ...datasetFacts(await machinesOf(s, root), machineTypes),
      embedder: config.embedder(),
    },
    paper,
  );
  await vscode.workspace.fs.writeFile(vscode.Uri.file(file), new TextEncoder().encode(text));
  await openAt(file);
  s.tree.scheduleRefresh();
  return file;
}

/** The machine types found under a root: the Dataset Explorer's listing, or the worker's; none if unreadable. */
async function machinesOf(s: Services, root: string): Promise<MachineListing[]> {
  const known = s.tree.datasets().find((d) => d.spec.path === root)?.listing;
  if (known?.status === 'ok') return known.machines;
  try {
    const [listing] = (await s.ctx.request('genrep/listDatasets', { roots: [root] })).datasets;
    return listing?.status === 'ok' ? listing.machines : [];
  } catch {
    return [];
  }
}

/** A dataset root: the node's, or picked from the explorer's roots, or browsed for. */
async function pickRoot(s: Services): Promise<string | undefined> {
  const roots = s.tree.datasets().map((d) => d.spec.path);
  const browse = '$(folder-opened) Browse…';
  const choice =
    roots.length === 0
      ? browse
      : await vscode.window.showQuickPick([...roots, browse], { placeHolder: 'Dataset root for the run' });
  if (choice !== browse) return choice;
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    openLabel: 'Use as Dataset Root',
  });
  return picked?.[0]?.fsPath;
}

/** Downloads a known checkpoint; a failure offers the ways that need no network (errorPresentation.ts). */
async function downloadModel(s: Services, model: ModelListing, modelDir: string): Promise<void> {
  try {
    const result = await s.ctx.job(
      'genrep/downloadCheckpoint',
      { name: model.name },
      `GenRep: downloading ${model.name}`,
    );
    const action = await vscode.window.showInformationMessage(
      `${model.name}: ${result.status} (${result.path}).`,
      'Use for Memory Banks',
    );
    if (action)
      await vscode.workspace
        .getConfiguration('genrep')
        .update('embedder', model.name, vscode.ConfigurationTarget.Global);
  } catch (err) {
    s.ctx.reportFailure(`Downloading ${model.name}`, err, {
      retry: () => downloadModel(s, model, modelDir),
      context: { kind: 'download', name: model.name, file: model.file, modelDir },
    });
  }
}

export function createCommands(s: Services): Record<CommandId, Handler> {
  const { ctx, tree } = s;
  return {
    ...createRunsCommands(ctx, s.runs),
    'genrep.runExperiment': async (arg) => {
      let explicit: string | undefined;
      if (isNode(arg)) {
        explicit = await configForNode(s, arg);
        if (explicit === undefined) return;
      } else {
        explicit = pathOf(arg);
      }
      const active = vscode.window.activeTextEditor?.document;
      const target = chooseRunTarget({
        ...(explicit ? { explicit } : {}),
        ...(active?.uri.scheme === 'file' ? { activeFile: active.fileName } : {}),
        workspaceConfigs: await findRunConfigs(),
      });
      let file: string | undefined;
      if (target.kind === 'run') file = target.file;
      else if (target.kind === 'pick') file = await pickFile(target.files, 'Run config to run');
      else {
        const choice = await vscode.window.showInformationMessage(
          'There is no run config (*.genrep.json) in this workspace yet.',
          'Create Run Config',
        );
        if (choice) await vscode.commands.executeCommand('genrep.createRunConfig');
        return;
      }
      if (file) await runConfigFile(s, file);
    },

    'genrep.scoreSelectedFiles': (arg, multi) => scoreSelectedFiles(s, arg, multi),

    'genrep.buildBank': (arg) => buildBankCommand(s, arg),

    'genrep.openResults': async (arg) => {
      let file = pathOf(arg);
      if (!file || !file.endsWith('.json')) {
        const found = (await s.runs.refresh()).filter((e) => e.resultsFile !== undefined);
        if (found.length === 1) file = found[0]!.resultsFile;
        else if (found.length > 1) {
          const choice = await vscode.window.showQuickPick(
            found.map((entry) => ({ ...resultsPickRow(entry, relativeLabel), entry })),
            { placeHolder: 'Run to open', matchOnDescription: true, matchOnDetail: true },
          );
          file = choice?.entry.resultsFile;
        } else {
          const picked = await vscode.window.showOpenDialog({
            filters: { 'GenRep results': ['json'] },
            openLabel: 'Open Results',
          });
          file = picked?.[0]?.fsPath;
        }
      }
      if (file) await ResultsPanel.showResultsFile(ctx, file);
    },

    'genrep.downloadCheckpoint': async () => {
      let models;
      try {
        models = await ctx.request('genrep/listModels', {});
      } catch (err) {
        ctx.reportFailure('Listing the known checkpoints', err);
        return;
      }
      const choice = await vscode.window.showQuickPick(
        models.models.map((m) => ({
          label: m.name,
          description: m.present ? '$(check) downloaded' : m.file,
          detail: m.role,
          model: m,
        })),
        { placeHolder: `BEATs checkpoint to download into ${models.modelDir} (~345 MiB each)` },
      );
      if (!choice) return;
      await downloadModel(s, choice.model, models.modelDir);
    },

    'genrep.createRunConfig': async (arg) => {
      let root: string | undefined;
      let machineTypes: string[] | undefined;
      if (isNode(arg) && (arg.kind === 'root' || arg.kind === 'machine')) {
        root = arg.kind === 'root' ? arg.spec.path : arg.root;
        if (arg.kind === 'machine') machineTypes = [arg.machine.machineType];
      } else if (arg instanceof vscode.Uri) {
        root = arg.fsPath;
      } else {
        root = await pickRoot(s);
      }
      if (root) await createRunConfigFile(s, root, machineTypes, true);
    },

    'genrep.restartWorker': async () => {
      try {
        await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Window, title: 'Restarting the GenRep worker' },
          () => ctx.supervisor.restart(),
        );
        await tree.refresh();
      } catch (err) {
        ctx.reportFailure('Restarting the worker', err);
      }
    },

    'genrep.showLog': () => {
      ctx.log.show(true);
      return Promise.resolve();
    },

    'genrep.refreshDatasets': async () => tree.refresh(),

    'genrep.addDatasetRoot': async () => {
      const picked = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        openLabel: 'Add Dataset Root',
      });
      const folder = picked?.[0]?.fsPath;
      if (!folder) return;
      const ws = workspaceFolder();
      const relative = ws ? path.relative(ws, folder) : undefined;
      await addDatasetRoot(
        relative !== undefined && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative || '.' : folder,
      );
      await tree.refresh();
    },

    'genrep.removeDatasetRoot': async (arg) => {
      if (!isNode(arg) || arg.kind !== 'root') return;
      await removeDatasetRoot(arg.spec.path);
      await tree.refresh();
    },

    'genrep.playClip': (arg) => {
      const file = pathOf(arg);
      if (file) ResultsPanel.showClip(ctx, file);
      return Promise.resolve();
    },

    'genrep.revealClip': async (arg) => {
      const file = pathOf(arg);
      if (file) await revealFile(file);
    },

    'genrep.gettingStarted': async () => {
      await vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false);
    },
  };
}
