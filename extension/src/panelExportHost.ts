import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ChartFormat } from '../../worker/src/protocol/webviewProtocol';
import { writeFileAtomic } from './panelExports';

/**
 * The panel's exports on the VS Code side: the editor's clipboard (a webview's navigator.clipboard is not reliably
 * allowed) and a save dialog for charts. What reaches these was checked by panelMessages.ts / panelExports.ts.
 */
export async function copyToClipboard(text: string, what: string): Promise<void> {
  await vscode.env.clipboard.writeText(text);
  vscode.window.setStatusBarMessage(`GenRep: copied ${what} to the clipboard`, 4000);
}

/** Asks where to save (starting in `folder`, else the first workspace folder) and writes the chart atomically. */
export async function saveChartAs(
  fileName: string,
  format: ChartFormat,
  bytes: Uint8Array,
  folder: string | undefined,
): Promise<void> {
  const start = folder ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const target = await vscode.window.showSaveDialog({
    title: `Save Chart as ${format.toUpperCase()}`,
    saveLabel: 'Save Chart',
    ...(start !== undefined ? { defaultUri: vscode.Uri.file(path.join(start, fileName)) } : {}),
    filters: format === 'svg' ? { 'SVG image': ['svg'] } : { 'PNG image': ['png'] },
  });
  if (!target) return;
  // A local file is swapped in whole; a remote one (another file system provider) goes through the workspace API.
  if (target.scheme === 'file') await writeFileAtomic(target.fsPath, bytes);
  else await vscode.workspace.fs.writeFile(target, bytes);
  const reveal = await vscode.window.showInformationMessage(`Saved ${path.basename(target.fsPath)}`, 'Reveal');
  if (reveal === 'Reveal') await vscode.commands.executeCommand('revealFileInOS', target);
}
