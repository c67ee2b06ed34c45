import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PaperDefaults } from '../../worker/src/protocol/vocabulary';
import type { BankListing, MachineListing } from '../../worker/src/protocol/workerProtocol';
import type { CommandId } from './commandIds';
import { addDatasetRoot, config, removeDatasetRoot, workspaceFolder } from './config';
import { datasetFacts, runConfigTemplate, slug } from './configTemplate';
import { openAt, type Ctx } from './ctx';
import { configRoots, type DatasetTreeProvider } from './datasetTree';
import { clipPathsOf, type DatasetNode } from './datasetTreeModel';
import { revealFile, ResultsPanel } from './resultsPanel';
import type { RunConfigDiagnostics } from './runConfigDiagnostics';
import { chooseRunTarget } from './runTargets';
import { listForMessage, partitionWavs } from './wavSelection';

/**
 * One factory per command (rust-analyzer's commands.ts): each takes the extension's services and returns the
 * handler VS Code calls with the command's arguments — a tree node, an explorer Uri (and the multi-selection), or
 * nothing from the palette.
 */
export interface Services {
  ctx: Ctx;
  tree: DatasetTreeProvider;
  diagnostics: RunConfigDiagnostics;
}

type Handler = (...args: unknown[]) => Promise<unknown>;

function isNode(value: unknown): value is DatasetNode {
  return typeof value === 'object' && value !== null && 'kind' in value && 'id' in value;
}

function pathOf(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (typeof arg === 'string') return arg;
  if (isNode(arg) && arg.kind === 'clip') return arg.clip.path;
  return undefined;
}

async function findRunConfigs(): Promise<string[]> {
  return (await vscode.workspace.findFiles('**/*.genrep.json', '**/node_modules/**', 500)).map((u) => u.fsPath);
}

function relativeLabel(file: string): string {
  const folder = workspaceFolder();
  return folder && file.startsWith(folder + path.sep) ? path.relative(folder, file) : file;
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
  try {
    outcome = await s.ctx.job('genrep/run', { configFile: file }, `GenRep: running ${name}`);
  } catch (err) {
    s.ctx.reportFailure(`Running ${name}`, err, { retry: () => runConfigFile(s, file) });
    return;
  }
  s.ctx.log.info(`run ${outcome.name} finished in ${outcome.totalSec.toFixed(1)} s: ${outcome.resultsFile}`);
  await ResultsPanel.showResultsFile(s.ctx, outcome.resultsFile);
  const score = outcome.overall
    ? ` — ${outcome.overall.official !== null ? `official score ${outcome.overall.official.toFixed(3)}` : `AUC ${outcome.overall.auc.toFixed(3)}`}`
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

/** A machine type to build a bank for: the node's, or picked among the listed datasets. */
async function pickMachine(
  s: Services,
  node: unknown,
): Promise<{ root: string; machineType: string; sourceClips: number } | undefined> {
  if (isNode(node) && node.kind === 'machine') {
    return {
      root: node.root,
      machineType: node.machine.machineType,
      sourceClips: node.machine.train.filter((c) => c.domain !== 'target').length,
    };
  }
  const only = isNode(node) && node.kind === 'root' ? node.spec.path : undefined;
  const items = (await s.tree.currentDatasets())
    .filter((d) => only === undefined || d.spec.path === only)
    .flatMap((d) =>
      d.listing?.status === 'ok'
        ? d.listing.machines.map((m) => ({
            label: m.machineType,
            description: path.basename(d.spec.path),
            detail: `${m.train.length} training clips`,
            value: {
              root: d.spec.path,
              machineType: m.machineType,
              sourceClips: m.train.filter((c) => c.domain !== 'target').length,
            },
          }))
        : [],
    );
  if (items.length === 0) {
    const choice = await vscode.window.showWarningMessage(
      'No dataset with machine types is listed in the Dataset Explorer.',
      'Add Dataset Root',
    );
    if (choice) await vscode.commands.executeCommand('genrep.addDatasetRoot');
    return undefined;
  }
  if (items.length === 1) return items[0]!.value;
  return (
    await vscode.window.showQuickPick(items, { placeHolder: 'Machine type whose training clips form the memory bank' })
  )?.value;
}

async function bestLayer(s: Services, embedder: string, paper: PaperDefaults): Promise<number> {
  if (embedder === 'fbank-stats') return paper.fbankStatsLayer;
  try {
    const { models } = await s.ctx.request('genrep/listModels', {});
    return models.find((m) => m.name === embedder || embedder.endsWith(m.file))?.bestLayer ?? 1;
  } catch {
    return 1;
  }
}

async function pickBank(s: Services): Promise<BankListing | undefined> {
  const dir = config.bankDirectory();
  if (!dir) {
    void vscode.window.showErrorMessage(
      'Open a folder (or set genrep.bankDirectory to an absolute path) to keep memory banks.',
    );
    return undefined;
  }
  const { banks, problems } = await s.ctx.request('genrep/listBanks', { dirs: [dir] });
  for (const p of problems) s.ctx.log.warn(`memory bank ${p.path}: ${p.message}`);
  if (banks.length === 0) {
    const choice = await vscode.window.showWarningMessage(
      `No memory bank in ${dir}. Build one from a machine type's training clips first.`,
      'Build Memory Bank',
    );
    if (choice) await vscode.commands.executeCommand('genrep.buildBank');
    return undefined;
  }
  if (banks.length === 1) return banks[0];
  const choice = await vscode.window.showQuickPick(
    banks.map((b) => ({
      label: path.basename(b.file),
      description: `layer ${b.header.layer ?? '?'} · ${b.header.embedder ?? 'unknown embedder'}`,
      detail: Object.entries(b.header.counts)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', '),
      bank: b,
    })),
    { placeHolder: 'Memory bank to score against' },
  );
  return choice?.bank;
}

export function createCommands(s: Services): Record<CommandId, Handler> {
  const { ctx, tree } = s;
  return {
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

    'genrep.scoreSelectedFiles': async (arg, multi) => {
      let selected: string[];
      if (Array.isArray(multi) && multi.length > 0)
        selected = multi.map(pathOf).filter((p): p is string => p !== undefined);
      else if (isNode(arg)) selected = clipPathsOf(arg);
      else if (pathOf(arg)) selected = [pathOf(arg)!];
      else {
        const active = vscode.window.activeTextEditor?.document.fileName;
        if (active && /\.wav$/i.test(active)) selected = [active];
        else {
          const picked = await vscode.window.showOpenDialog({
            canSelectMany: true,
            filters: { 'WAV audio': ['wav', 'WAV'] },
            openLabel: 'Score',
          });
          if (!picked) return;
          selected = picked.map((u) => u.fsPath);
        }
      }
      const { wavs, others } = partitionWavs(selected);
      if (others.length > 0) {
        const message = `${others.length === 1 ? 'This is' : `These ${others.length} are`} not WAV files and ${others.length === 1 ? 'is' : 'are'} left out: ${listForMessage(others, (p) => path.basename(p))}`;
        if (wavs.length === 0) {
          void vscode.window.showErrorMessage(`Nothing to score. ${message}.`);
          return;
        }
        void vscode.window.showWarningMessage(`${message}.`);
      }
      if (wavs.length === 0) {
        void vscode.window.showErrorMessage('Nothing to score: select one or more .wav files.');
        return;
      }
      let bank: BankListing | undefined;
      try {
        bank = await pickBank(s);
      } catch (err) {
        ctx.reportFailure('Listing the memory banks', err);
        return;
      }
      if (!bank) return;
      const what = `Scoring ${wavs.length} file${wavs.length === 1 ? '' : 's'}`;
      try {
        const scored = await ctx.job(
          'genrep/scoreFiles',
          { bankFile: bank.file, files: wavs, dn: config.scoringDn(), embedder: config.embedder() },
          `GenRep: ${what.toLowerCase()}`,
        );
        ResultsPanel.show(ctx, {
          kind: 'scored',
          title: `${wavs.length} file${wavs.length === 1 ? '' : 's'} scored against ${path.basename(bank.file)}`,
          scored,
        });
      } catch (err) {
        ctx.reportFailure(what, err);
      }
    },

    'genrep.buildBank': async (arg) => {
      const target = await pickMachine(s, arg);
      if (!target) return;
      const dir = config.bankDirectory();
      if (!dir) {
        void vscode.window.showErrorMessage(
          'Open a folder (or set genrep.bankDirectory to an absolute path) to keep memory banks.',
        );
        return;
      }
      const embedder = config.embedder();
      const what = `Building the ${target.machineType} memory bank`;
      let paper: PaperDefaults;
      try {
        paper = await ctx.paperDefaults();
      } catch (err) {
        ctx.reportFailure(what, err);
        return;
      }
      let layer = await bestLayer(s, embedder, paper);
      if (embedder !== 'fbank-stats') {
        const answer = await vscode.window.showInputBox({
          prompt: `Layer of ${embedder} whose features form the bank`,
          value: String(layer),
          validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) >= 1 ? undefined : 'a layer number, 1 or more'),
        });
        if (answer === undefined) return;
        layer = Number(answer.trim());
      }
      const out = path.join(
        dir,
        `${target.machineType}-${slug(path.basename(embedder).replace(/\.(pt|onnx)$/i, ''))}-L${layer}.grbank`,
      );
      // MemMixup as the paper, with K_s capped at the source clips there are.
      const mixup =
        target.sourceClips > 0 ? { ...paper.mixup, K_s: Math.min(paper.mixup.K_s, target.sourceClips) } : null;
      try {
        const built = await ctx.job(
          'genrep/buildBank',
          {
            root: target.root,
            machineType: target.machineType,
            embedder,
            layer,
            pooling: paper.pooling,
            K_n: paper.K_n,
            mixup,
            out,
          },
          `GenRep: building the ${target.machineType} memory bank`,
        );
        const choice = await vscode.window.showInformationMessage(
          `Memory bank saved: ${relativeLabel(built.file)} (${built.rows.source} source + ${built.rows.target} target clips, layer ${layer}).`,
          'Score WAV Files…',
        );
        if (choice) await vscode.commands.executeCommand('genrep.scoreSelectedFiles');
      } catch (err) {
        ctx.reportFailure(what, err);
      }
    },

    'genrep.openResults': async (arg) => {
      let file = pathOf(arg);
      if (!file || !file.endsWith('.json')) {
        const found = (await vscode.workspace.findFiles('**/results.json', '**/node_modules/**', 200)).map(
          (u) => u.fsPath,
        );
        if (found.length === 1) file = found[0];
        else if (found.length > 1) file = await pickFile(found, 'Results to open');
        else {
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
      try {
        const result = await ctx.job(
          'genrep/downloadCheckpoint',
          { name: choice.model.name },
          `GenRep: downloading ${choice.model.name}`,
        );
        const action = await vscode.window.showInformationMessage(
          `${choice.model.name}: ${result.status} (${result.path}).`,
          'Use for Memory Banks',
        );
        if (action)
          await vscode.workspace
            .getConfiguration('genrep')
            .update('embedder', choice.model.name, vscode.ConfigurationTarget.Global);
      } catch (err) {
        ctx.reportFailure(`Downloading ${choice.model.name}`, err);
      }
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
  };
}
