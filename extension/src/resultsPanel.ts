import * as vscode from 'vscode';
import type { PanelContent, PanelState, ToWebview } from '../../worker/src/protocol/webviewProtocol';
import { RESULTS_PANEL_TYPE } from './commandIds';
import { openAt, type Ctx } from './ctx';
import { makeNonce, panelHtml } from './panelHtml';
import { copyToClipboard, saveChartAs } from './panelExportHost';
import { exportFolderOf } from './panelExports';
import { allowedFilesOf, handlePanelMessage } from './panelMessages';

/**
 * The results panel (webview-sample's shape): one panel, created or revealed, showing a run's results or files
 * scored against a bank. All data reaches the page as messages (no file access from the page: localResourceRoots is
 * the bundle's folder alone); the page asks for a clip's spectrogram and audio with requests the host checks against
 * the shown content before passing them to the worker.
 */
export class ResultsPanel {
  private static current: ResultsPanel | undefined;
  private content: PanelContent | undefined;
  private clip: string | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  static show(ctx: Ctx, content: PanelContent): void {
    const panel = ResultsPanel.createOrReveal(ctx);
    panel.content = content;
    panel.post({ type: 'show', content });
  }

  static showClip(ctx: Ctx, file: string): void {
    const panel = ResultsPanel.createOrReveal(ctx);
    panel.clip = file;
    panel.post({ type: 'showClip', file });
  }

  /** Opens a results.json in the panel (the worker reads and checks it). */
  static async showResultsFile(ctx: Ctx, file: string): Promise<void> {
    try {
      const { results } = await ctx.request('genrep/results', { file });
      ResultsPanel.show(ctx, { kind: 'results', file, results });
    } catch (err) {
      ctx.reportFailure(`Opening ${file}`, err);
    }
  }

  /** After a window reload: the serializer hands back the panel and the state the page saved. */
  static async revive(ctx: Ctx, webviewPanel: vscode.WebviewPanel, state: PanelState | undefined): Promise<void> {
    const panel = new ResultsPanel(ctx, webviewPanel);
    ResultsPanel.current = panel;
    if (state?.resultsFile) await ResultsPanel.showResultsFile(ctx, state.resultsFile);
  }

  private static createOrReveal(ctx: Ctx): ResultsPanel {
    if (ResultsPanel.current) {
      ResultsPanel.current.panel.reveal(undefined, true);
      return ResultsPanel.current;
    }
    const webviewPanel = vscode.window.createWebviewPanel(
      RESULTS_PANEL_TYPE,
      'GenRep Results',
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      webviewOptions(ctx.context),
    );
    ResultsPanel.current = new ResultsPanel(ctx, webviewPanel);
    return ResultsPanel.current;
  }

  private constructor(
    ctx: Ctx,
    private readonly panel: vscode.WebviewPanel,
  ) {
    const webview = panel.webview;
    webview.options = webviewOptions(ctx.context);
    const asset = (name: string): string =>
      webview.asWebviewUri(vscode.Uri.joinPath(ctx.context.extensionUri, 'dist', 'webview', name)).toString();
    webview.html = panelHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: asset('main.js'),
      styleUri: asset('main.css'),
    });
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      webview.onDidReceiveMessage((raw: unknown) =>
        handlePanelMessage(raw, {
          spectrogram: (file) => ctx.request('genrep/spectrogram', { file }),
          clipAudio: (file) => ctx.request('genrep/clipAudio', { file }),
          openFile: (file) => (/\.html?$/i.test(file) ? openExternally(file) : openAt(file)),
          revealFile: (file) => revealFile(file),
          copyText: copyToClipboard,
          saveChart: (name, format, bytes) => saveChartAs(name, format, bytes, exportFolderOf(this.content)),
          post: (message) => this.post(message),
          ready: () => {
            // The page (re)loaded — first open, or shown again after being hidden: give it its content back.
            if (this.content) this.post({ type: 'show', content: this.content });
            if (this.clip) this.post({ type: 'showClip', file: this.clip });
          },
          allowedFiles: () => allowedFilesOf(this.content, this.clip ? [this.clip] : []),
          warn: (message) => ctx.log.warn(message),
        }),
      ),
    );
  }

  private post(message: ToWebview): void {
    void this.panel.webview.postMessage(message);
  }

  private dispose(): void {
    if (ResultsPanel.current === this) ResultsPanel.current = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function webviewOptions(context: vscode.ExtensionContext): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview')] };
}

async function openExternally(file: string): Promise<void> {
  await vscode.env.openExternal(vscode.Uri.file(file));
}

/** The explorer when the file is in the workspace, the OS file manager otherwise. */
export async function revealFile(file: string): Promise<void> {
  const uri = vscode.Uri.file(file);
  if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
  else await vscode.commands.executeCommand('revealFileInOS', uri);
}

export function registerResultsPanelSerializer(ctx: Ctx): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(RESULTS_PANEL_TYPE, {
    deserializeWebviewPanel: (panel: vscode.WebviewPanel, state: unknown) =>
      ResultsPanel.revive(ctx, panel, state as PanelState | undefined),
  });
}
