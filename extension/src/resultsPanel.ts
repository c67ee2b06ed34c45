import * as vscode from 'vscode';
import type { ExplainResult } from '../../worker/src/protocol/explain';
import type { PanelContent, PanelState, ToWebview } from '../../worker/src/protocol/webviewProtocol';
import { RESULTS_PANEL_TYPE } from './commandIds';
import { openAt, type Ctx } from './ctx';
import { makeNonce, panelHtml } from './panelHtml';
import { copyToClipboard, saveChartAs } from './panelExportHost';
import { exportFolderOf } from './panelExports';
import { allowedFilesOf, handlePanelMessage } from './panelMessages';
import {
  bankMachineType,
  clipPanelTitle,
  comparePanelTitle,
  runPanelTitle,
  scoresPanelTitle,
  uniqueTitle,
} from './panelTitles';

/**
 * The results panels (webview-sample's shape), one per document: a run's results (keyed by its results.json, so
 * opening the run again reveals its panel), each scoring of files against a bank, and one panel for clips played
 * from the Dataset Explorer that no open run contains. All data reaches a page as messages (no file access from the
 * page: localResourceRoots is the bundle's folder alone); a page asks for a clip's spectrogram and audio with
 * requests the host checks against that panel's own content before passing them to the worker.
 *
 * After a window reload VS Code hands each panel back to the serializer with the state its page saved (a run's
 * results.json) and its title; scorings are not files, so their content is kept in workspaceState under the
 * panel's title (the latest MAX_SAVED; not removed when a panel closes, since a window closing disposes its panels
 * too) and found again by it.
 */
const SAVED_KEY = 'genrep.panels';
const MAX_SAVED = 20;
type SavedPanel = { kind: 'scored'; content: PanelContent } | { kind: 'clip'; file: string };

export class ResultsPanel {
  /** Open panels by key: `results:<results.json>`, `scores:<title>`, `clips`. */
  private static readonly panels = new Map<string, ResultsPanel>();
  /** Keys, most recently active last: a clip goes to the latest panel that shows it. */
  private static readonly activeOrder: string[] = [];
  private content: PanelContent | undefined;
  private clip: string | undefined;
  /** Clips explanations named (nearest normal training clips): playable in this panel until its content changes. */
  private explained = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];

  /** Shows content in its own panel: a run's in that run's panel, a scoring in a new one. */
  static show(ctx: Ctx, content: PanelContent): void {
    let key: string;
    let title: string;
    if (content.kind === 'results') {
      key = `results:${content.file}`;
      title = runPanelTitle(content.results.name, content.results.finishedAt);
    } else if (content.kind === 'compare') {
      // One panel per set of runs compared (in order): comparing the same runs again reveals it.
      key = compareKey(content.compare.runs.map((r) => r.file));
      title = comparePanelTitle(content.compare.runs.map((r) => r.label));
    } else {
      const taken = new Set([...ResultsPanel.panels.values()].map((p) => p.panel.title));
      title = uniqueTitle(
        scoresPanelTitle(bankMachineType(content.scored.bankFile, content.scored.bank), new Date()),
        taken,
      );
      key = `scores:${title}`;
      void saveContent(ctx, title, { kind: 'scored', content });
    }
    const panel = ResultsPanel.createOrReveal(ctx, key, title);
    if (panel.content !== content) panel.explained = new Set();
    panel.content = content;
    panel.post({ type: 'show', content });
  }

  /** Plays a clip in the panel of the run or scoring it belongs to, else in the clip panel. */
  static showClip(ctx: Ctx, file: string): void {
    const owner = [...ResultsPanel.activeOrder]
      .reverse()
      .map((key) => ResultsPanel.panels.get(key))
      .find((p) => p !== undefined && p.content !== undefined && allowedFilesOf(p.content).has(file));
    const title = clipPanelTitle(file);
    const panel = owner ?? ResultsPanel.createOrReveal(ctx, 'clips', title);
    if (owner) owner.panel.reveal(undefined, true);
    else {
      panel.panel.title = title;
      void saveContent(ctx, title, { kind: 'clip', file });
    }
    panel.clip = file;
    panel.post({ type: 'showClip', file });
  }

  /** Opens a results.json in its run's panel (the worker reads and checks it). */
  static async showResultsFile(ctx: Ctx, file: string): Promise<void> {
    try {
      const { results } = await ctx.request('genrep/results', { file });
      ResultsPanel.show(ctx, { kind: 'results', file, results });
    } catch (err) {
      ctx.reportFailure(`Opening ${file}`, err);
    }
  }

  /** Compares results.json files (A first) in a comparison panel (the worker reads and compares them). */
  static async showCompareFiles(ctx: Ctx, files: readonly string[]): Promise<void> {
    try {
      const compare = await ctx.request('genrep/compareRuns', { files: [...files] });
      ResultsPanel.show(ctx, { kind: 'compare', compare });
    } catch (err) {
      ctx.reportFailure(`Comparing ${files.length} runs`, err);
    }
  }

  /** After a window reload: the serializer hands back each panel with the state its page saved. */
  static async revive(ctx: Ctx, webviewPanel: vscode.WebviewPanel, state: PanelState | undefined): Promise<void> {
    const file = state?.resultsFile;
    const compared = file === undefined && Array.isArray(state?.compareFiles) ? state.compareFiles : undefined;
    const saved = file === undefined && !compared ? savedContents(ctx)[webviewPanel.title] : undefined;
    const key =
      file !== undefined
        ? `results:${file}`
        : compared
          ? compareKey(compared)
          : saved?.kind === 'scored'
            ? `scores:${webviewPanel.title}`
            : saved?.kind === 'clip'
              ? 'clips'
              : undefined;
    if (key === undefined || ResultsPanel.panels.has(key)) {
      // Nothing to show again (a panel closed before its content arrived): an empty tab helps no one.
      webviewPanel.dispose();
      return;
    }
    const panel = new ResultsPanel(ctx, webviewPanel, key);
    if (file !== undefined) await ResultsPanel.showResultsFile(ctx, file);
    else if (compared) await ResultsPanel.showCompareFiles(ctx, compared);
    else if (saved?.kind === 'scored') {
      panel.content = saved.content;
      panel.post({ type: 'show', content: saved.content });
    } else if (saved?.kind === 'clip') {
      panel.clip = saved.file;
      panel.post({ type: 'showClip', file: saved.file });
    }
  }

  private static createOrReveal(ctx: Ctx, key: string, title: string): ResultsPanel {
    const existing = ResultsPanel.panels.get(key);
    if (existing) {
      existing.panel.title = title;
      existing.panel.reveal(undefined, true);
      return existing;
    }
    const webviewPanel = vscode.window.createWebviewPanel(
      RESULTS_PANEL_TYPE,
      title,
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      webviewOptions(ctx.context),
    );
    return new ResultsPanel(ctx, webviewPanel, key);
  }

  private constructor(
    ctx: Ctx,
    private readonly panel: vscode.WebviewPanel,
    private readonly key: string,
  ) {
    ResultsPanel.panels.set(key, this);
    ResultsPanel.markActive(key);
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
      panel.onDidChangeViewState((e) => {
        if (e.webviewPanel.active) ResultsPanel.markActive(this.key);
      }),
      webview.onDidReceiveMessage((raw: unknown) =>
        handlePanelMessage(raw, {
          spectrogram: (file) => ctx.request('genrep/spectrogram', { file }),
          clipAudio: (file) => ctx.request('genrep/clipAudio', { file }),
          explainClip: (file, variant) => this.explainClip(ctx, file, variant),
          allowFiles: (files) => {
            for (const f of files) this.explained.add(f);
          },
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
          allowedFiles: () => allowedFilesOf(this.content, [...(this.clip ? [this.clip] : []), ...this.explained]),
          warn: (message) => ctx.log.warn(message),
        }),
      ),
    );
  }

  /** A run's clip is explained against the run (its bank rebuilt from the feature cache), a scored one against the bank. */
  private explainClip(ctx: Ctx, clip: string, variant: string | undefined): Promise<ExplainResult> {
    const content = this.content;
    if (content?.kind === 'results')
      return ctx.job(
        'genrep/explainClip',
        { clip, resultsFile: content.file, ...(variant !== undefined ? { variant } : {}) },
        `Explaining ${baseName(clip)}`,
      );
    if (content?.kind === 'scored')
      return ctx.job('genrep/explainClip', { clip, bankFile: content.scored.bankFile }, `Explaining ${baseName(clip)}`);
    return Promise.reject(
      new Error(`${clip} belongs to no run or scoring shown in this panel, so there is nothing to explain it against`),
    );
  }

  private post(message: ToWebview): void {
    void this.panel.webview.postMessage(message);
  }

  private static markActive(key: string): void {
    const at = ResultsPanel.activeOrder.indexOf(key);
    if (at >= 0) ResultsPanel.activeOrder.splice(at, 1);
    ResultsPanel.activeOrder.push(key);
  }

  private dispose(): void {
    if (ResultsPanel.panels.get(this.key) === this) {
      ResultsPanel.panels.delete(this.key);
      const at = ResultsPanel.activeOrder.indexOf(this.key);
      if (at >= 0) ResultsPanel.activeOrder.splice(at, 1);
    }
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function compareKey(files: readonly string[]): string {
  return `compare:${files.join('\n')}`;
}

function baseName(file: string): string {
  return file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
}

function savedContents(ctx: Ctx): Record<string, SavedPanel> {
  return ctx.context.workspaceState.get<Record<string, SavedPanel>>(SAVED_KEY, {});
}

async function saveContent(ctx: Ctx, title: string, saved: SavedPanel): Promise<void> {
  const entries = Object.entries(savedContents(ctx)).filter(([t]) => t !== title);
  entries.push([title, saved]);
  await ctx.context.workspaceState.update(SAVED_KEY, Object.fromEntries(entries.slice(-MAX_SAVED)));
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
