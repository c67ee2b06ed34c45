import * as path from 'node:path';
import { parse as parseJsonc } from 'jsonc-parser';
import * as vscode from 'vscode';
import type { DatasetListing } from '../../worker/src/protocol/workerProtocol';
import { config, workspaceFolder } from './config';
import type { Ctx } from './ctx';
import { childrenOf, collectRoots, rootNodes, viewOf, type DatasetNode, type RootSpec } from './datasetTreeModel';

/**
 * The Dataset Explorer view: roots from the genrep.datasetRoots setting and from the workspace's run configs, each
 * listed by the worker (genrep/listDatasets). File watchers on the roots refresh it when clips appear or vanish,
 * and when a root itself disappears its row turns into a "not found" warning instead of the view failing.
 */
const REFRESH_DEBOUNCE_MS = 400;

export class DatasetTreeProvider implements vscode.TreeDataProvider<DatasetNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<DatasetNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private roots: RootSpec[] = [];
  private listings = new Map<string, DatasetListing>();
  private watchers: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(private readonly ctx: Ctx) {
    this.disposables.push(
      this.changed,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('genrep.datasetRoots')) this.scheduleRefresh();
      }),
      vscode.workspace.onDidSaveTextDocument((d) => {
        if (d.fileName.endsWith('.genrep.json')) this.scheduleRefresh();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.scheduleRefresh()),
    );
  }

  /** The listings as last read. */
  datasets(): { spec: RootSpec; listing: DatasetListing | undefined }[] {
    return this.roots.map((spec) => ({ spec, listing: this.listings.get(spec.path) }));
  }

  /**
   * The listings once a refresh in progress (or a first one, for roots never listed) has finished: a command run
   * right after start-up must not see an empty explorer that is only still reading.
   */
  async currentDatasets(): Promise<{ spec: RootSpec; listing: DatasetListing | undefined }[]> {
    if (this.refreshing) await this.refreshing;
    else if (this.roots.some((r) => !this.listings.has(r.path))) await this.refresh();
    return this.datasets();
  }

  getTreeItem(node: DatasetNode): vscode.TreeItem {
    const view = viewOf(node);
    const collapsible = {
      none: vscode.TreeItemCollapsibleState.None,
      collapsed: vscode.TreeItemCollapsibleState.Collapsed,
      expanded: vscode.TreeItemCollapsibleState.Expanded,
    }[view.collapsible];
    const item = new vscode.TreeItem(view.label, collapsible);
    item.id = node.id;
    if (view.description !== undefined) item.description = view.description;
    item.tooltip = view.tooltip;
    item.contextValue = view.contextValue;
    item.iconPath = new vscode.ThemeIcon(view.icon);
    if (view.resourcePath) item.resourceUri = vscode.Uri.file(view.resourcePath);
    if (view.command)
      item.command = { command: view.command.id, title: view.command.title, arguments: view.command.args };
    return item;
  }

  async getChildren(node?: DatasetNode): Promise<DatasetNode[]> {
    if (node) return childrenOf(node);
    if (this.refreshing) await this.refreshing;
    return rootNodes(this.roots, this.listings);
  }

  scheduleRefresh(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), REFRESH_DEBOUNCE_MS);
  }

  refresh(): Promise<void> {
    this.refreshing = this.load().finally(() => {
      this.refreshing = undefined;
      this.changed.fire(undefined);
    });
    return this.refreshing;
  }

  private async load(): Promise<void> {
    this.roots = collectRoots(config.datasetRoots(), workspaceFolder(), await configRoots());
    this.watch();
    if (this.roots.length === 0) {
      this.listings = new Map();
      return;
    }
    try {
      const { datasets } = await this.ctx.request('genrep/listDatasets', { roots: this.roots.map((r) => r.path) });
      this.listings = new Map(datasets.map((d) => [d.root, d]));
    } catch (err) {
      this.ctx.reportFailure('Listing the datasets', err, { retry: () => this.refresh() });
    }
  }

  /** One watcher per root for its WAV files, and one on its parent for the root folder itself. */
  private watch(): void {
    for (const w of this.watchers.splice(0)) w.dispose();
    for (const root of this.roots) {
      const clips = vscode.workspace.createFileSystemWatcher(
        new vscode.RelativePattern(vscode.Uri.file(root.path), '**/*.{wav,WAV}'),
      );
      const folder = vscode.workspace.createFileSystemWatcher(
        new vscode.RelativePattern(vscode.Uri.file(path.dirname(root.path)), path.basename(root.path)),
      );
      for (const w of [clips, folder]) {
        w.onDidCreate(() => this.scheduleRefresh());
        w.onDidDelete(() => this.scheduleRefresh());
        this.watchers.push(w);
      }
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of [...this.watchers.splice(0), ...this.disposables.splice(0)]) d.dispose();
  }
}

/** dataset.root of every workspace run config (unreadable or rootless configs are skipped: diagnostics cover them). */
export async function configRoots(): Promise<{ root: string; config: string }[]> {
  const files = await vscode.workspace.findFiles('**/*.genrep.json', '**/node_modules/**', 200);
  const out: { root: string; config: string }[] = [];
  for (const uri of files) {
    try {
      const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      const root = (parseJsonc(text) as { dataset?: { root?: unknown } } | undefined)?.dataset?.root;
      if (typeof root === 'string' && root !== '') out.push({ root, config: uri.fsPath });
    } catch {
      // skipped
    }
  }
  return out.sort((a, b) => a.config.localeCompare(b.config));
}
