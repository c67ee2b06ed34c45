import { promises as fsp } from 'node:fs';
import * as vscode from 'vscode';
import { runPanelTitle } from './panelTitles';
import type { RunEntry } from './runEntries';

/**
 * Open Report in Browser. In a local desktop window the system browser opens report.html itself; in a browser
 * (code-server) or a remote window a `file:` address names a file on another machine, so the report is shown in a
 * tab of its own instead. report.html is one self-contained page with its own strict CSP (no scripts, inline styles
 * and SVG only: worker/src/report/reportHtml.ts), so a webview with scripts off shows it as the browser would.
 */
export async function openReport(entry: RunEntry & { reportFile: string }): Promise<void> {
  const uri = vscode.Uri.file(entry.reportFile);
  const local = vscode.env.uiKind === vscode.UIKind.Desktop && vscode.env.remoteName === undefined;
  if (local && (await vscode.env.openExternal(uri))) return;
  let html: string;
  try {
    html = await fsp.readFile(entry.reportFile, 'utf8');
  } catch (err) {
    void vscode.window.showErrorMessage(
      `GenRep: cannot read ${entry.reportFile}: ${err instanceof Error ? err.message : String(err)}`,
    );
    return;
  }
  const panel = vscode.window.createWebviewPanel(
    'genrep.report',
    `Report · ${runPanelTitle(entry.name, entry.date)}`,
    vscode.ViewColumn.Active,
    { enableScripts: false, localResourceRoots: [] },
  );
  panel.webview.html = html;
}
