import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

/**
 * The ways past a checkpoint download that cannot happen (offline, behind a proxy): open the model folder to put the
 * file there by hand, copy a local .pt into place, or switch to the weight-free embedder. Offered by the download's
 * failure notification (errorPresentation.ts, forDownload).
 */
export async function openModelsFolder(modelDir: string): Promise<void> {
  const uri = vscode.Uri.file(modelDir);
  await vscode.workspace.fs.createDirectory(uri);
  if (vscode.workspace.getWorkspaceFolder(uri)) {
    await vscode.commands.executeCommand('revealInExplorer', uri);
    return;
  }
  // The OS file manager is on this machine only in a local desktop window; in a browser (code-server) or a remote
  // window it would open nothing, so the folder is offered as a workspace folder (files can be dropped on it there).
  if (vscode.env.uiKind === vscode.UIKind.Desktop && vscode.env.remoteName === undefined) {
    await vscode.commands.executeCommand('revealFileInOS', uri);
    return;
  }
  const choice = await vscode.window.showInformationMessage(
    `GenRep: the model folder is ${modelDir}.`,
    'Add to Workspace',
    'Copy Path',
  );
  if (choice === 'Copy Path') await vscode.env.clipboard.writeText(modelDir);
  if (choice === 'Add to Workspace') {
    const at = vscode.workspace.workspaceFolders?.length ?? 0;
    vscode.workspace.updateWorkspaceFolders(at, 0, { uri, name: 'GenRep models' });
  }
}

/**
 * Copies a chosen .pt to `<modelDir>/<file>` — the place the checkpoint's name resolves to, so run configs, banks
 * and the CLI that name it (`"embedder": "beats_ft1"`) find it — rather than pointing genrep.embedder at the chosen
 * path, which only the editor's own bank and scoring commands would see. Written under a temporary name and renamed,
 * so an interrupted copy never leaves a half checkpoint under the real name.
 */
export async function chooseLocalCheckpoint(
  log: { log: vscode.LogOutputChannel },
  checkpoint: { name: string; target: string },
): Promise<void> {
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    filters: { 'PyTorch checkpoint': ['pt'] },
    openLabel: `Use as ${checkpoint.name}`,
    title: `Local copy of ${path.basename(checkpoint.target)}`,
  });
  const source = picked?.[0]?.fsPath;
  if (!source) return;
  const temp = path.join(path.dirname(checkpoint.target), `.${path.basename(checkpoint.target)}.${process.pid}.copy`);
  try {
    await fsp.mkdir(path.dirname(checkpoint.target), { recursive: true });
    await fsp.copyFile(source, temp);
    await fsp.rename(temp, checkpoint.target);
  } catch (err) {
    await fsp.rm(temp, { force: true }).catch(() => undefined);
    const message = `Copying ${source} to ${checkpoint.target} failed: ${err instanceof Error ? err.message : String(err)}`;
    log.log.error(message);
    void vscode.window.showErrorMessage(`GenRep: ${message}`);
    return;
  }
  log.log.info(`checkpoint ${checkpoint.name}: copied ${source} to ${checkpoint.target}`);
  const choice = await vscode.window.showInformationMessage(
    `GenRep: ${checkpoint.name} is in place (${checkpoint.target}).`,
    'Use for Memory Banks',
  );
  if (choice) await setEmbedder(checkpoint.name);
}

export async function useFbankStats(): Promise<void> {
  await setEmbedder('fbank-stats');
  void vscode.window.showInformationMessage(
    'GenRep: memory banks and scoring now use fbank-stats (genrep.embedder). A run config names its own embedder.',
  );
}

/** Where the user set it (the workspace's value wins over the user's), else the user settings. */
async function setEmbedder(value: string): Promise<void> {
  const settings = vscode.workspace.getConfiguration('genrep');
  const target =
    settings.inspect<string>('embedder')?.workspaceValue !== undefined
      ? vscode.ConfigurationTarget.Workspace
      : vscode.ConfigurationTarget.Global;
  await settings.update('embedder', value, target);
}
