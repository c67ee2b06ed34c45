import { promises as fsp } from 'node:fs';
import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import { parseResultsJson, runHistory, runItemView, type RunEntry, type RunRecord, type RunStatus } from './runEntries';

/**
 * The "Runs" view (genrep.runs): the run history of the workspace. Finished runs are the results.json files under
 * the workspace folders, read directly (no worker needed just to list them) and parsed again only when their mtime
 * changes; runs the extension started keep a record in workspaceState until a results.json supersedes them, which
 * is how cancelled and failed runs (which leave no files) and running ones appear. Refreshed when a results.json
 * appears, changes or goes, when a run's lock file goes (a run from the command line finished), and when a run the
 * extension started ends.
 */
const RECORDS_KEY = 'genrep.runRecords';
const MAX_RECORDS = 50;
const RESULTS_GLOB = '**/results.json';
const EXCLUDE_GLOB = '**/node_modules/**';
/**
 * A run swaps its output folder in with a rename (resultSet.ts), which file watchers report as the folder, not as
 * a results.json; the lock file beside the folder is created and deleted as a file, and goes after the swap.
 */
const LOCK_GLOB = '**/.*.genrep-lock';

const ICONS: Record<RunStatus, string> = {
  complete: 'pass',
  cancelled: 'circle-slash',
  failed: 'error',
  running: 'sync~spin',
};

export class RunsTreeProvider implements vscode.TreeDataProvider<RunEntry>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunEntry | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private readonly parsed = new Map<string, { mtimeMs: number; entry: RunEntry | undefined }>();
  private list: RunEntry[] = [];
  private refreshing: Promise<RunEntry[]> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly ctx: Ctx) {
    const results = vscode.workspace.createFileSystemWatcher(RESULTS_GLOB);
    const locks = vscode.workspace.createFileSystemWatcher(LOCK_GLOB, true, true, false);
    this.disposables.push(
      results,
      locks,
      results.onDidCreate(() => this.scheduleRefresh()),
      results.onDidChange(() => this.scheduleRefresh()),
      results.onDidDelete(() => this.scheduleRefresh()),
      locks.onDidDelete(() => this.scheduleRefresh()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.scheduleRefresh()),
    );
    // A run recorded as running when the window went away did not finish in it; what it extracted is cached.
    const stale = this.records().filter((r) => r.status === 'running');
    if (stale.length > 0) {
      void this.saveRecords(
        this.records().map((r) =>
          r.status === 'running' ? { ...r, status: 'cancelled', message: 'stopped when the window closed' } : r,
        ),
      );
    }
  }

  /** The view's selection, for the title bar's Compare Runs (title-bar commands receive no arguments). */
  selection: () => readonly RunEntry[] = () => [];

  /** The history as last listed. */
  entries(): readonly RunEntry[] {
    return this.list;
  }

  /** Lists the runs again (callers that share a refresh in progress wait for the same one). */
  refresh(): Promise<RunEntry[]> {
    this.refreshing ??= this.load().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  scheduleRefresh(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), 300);
  }

  /** A run the extension starts: shown as running until `finishRun`. Returns the record's id. */
  async startRun(configFile: string, name: string): Promise<string> {
    const id = `run:${Date.now()}:${Math.random().toString(16).slice(2, 8)}`;
    const record: RunRecord = { id, configFile, name, startedAt: new Date().toISOString(), status: 'running' };
    await this.saveRecords([...this.records(), record]);
    void this.refresh();
    return id;
  }

  /** The run ended: complete (its results.json now stands for it), cancelled or failed. */
  async finishRun(id: string, outcome: { status: RunStatus; message?: string; featuresKept?: number }): Promise<void> {
    const { status } = outcome;
    const records = this.records();
    await this.saveRecords(
      status === 'complete'
        ? records.filter((r) => r.id !== id)
        : records.map((r) =>
            r.id === id
              ? {
                  ...r,
                  status,
                  endedAt: new Date().toISOString(),
                  ...(outcome.message !== undefined ? { message: outcome.message } : {}),
                  ...(outcome.featuresKept !== undefined ? { featuresKept: outcome.featuresKept } : {}),
                }
              : r,
          ),
    );
    await this.refresh();
  }

  getTreeItem(entry: RunEntry): vscode.TreeItem {
    const view = runItemView(entry);
    const item = new vscode.TreeItem(view.label, vscode.TreeItemCollapsibleState.None);
    item.id = entry.key;
    item.description = view.description;
    item.tooltip = view.tooltip;
    item.contextValue = view.contextValue;
    item.iconPath = new vscode.ThemeIcon(ICONS[entry.status]);
    if (entry.status === 'complete') item.command = { command: 'genrep.runs.open', title: 'Open', arguments: [entry] };
    return item;
  }

  getChildren(entry?: RunEntry): RunEntry[] {
    return entry ? [] : this.list;
  }

  private records(): RunRecord[] {
    return this.ctx.context.workspaceState.get<RunRecord[]>(RECORDS_KEY, []);
  }

  private async saveRecords(records: RunRecord[]): Promise<void> {
    await this.ctx.context.workspaceState.update(RECORDS_KEY, records.slice(-MAX_RECORDS));
  }

  private async load(): Promise<RunEntry[]> {
    const files = (await vscode.workspace.findFiles(RESULTS_GLOB, EXCLUDE_GLOB, 2000)).map((u) => u.fsPath);
    const finished: RunEntry[] = [];
    const seen = new Set<string>();
    for (const file of files) {
      seen.add(file);
      const entry = await this.parse(file);
      if (entry) finished.push(entry);
    }
    for (const file of [...this.parsed.keys()]) if (!seen.has(file)) this.parsed.delete(file);
    this.list = runHistory(finished, this.records());
    this.changed.fire(undefined);
    return this.list;
  }

  private async parse(file: string): Promise<RunEntry | undefined> {
    let mtimeMs: number;
    try {
      mtimeMs = (await fsp.stat(file)).mtimeMs;
    } catch {
      return undefined; // gone since it was found
    }
    const cached = this.parsed.get(file);
    if (cached?.mtimeMs === mtimeMs) return cached.entry;
    let entry: RunEntry | undefined;
    try {
      const result = parseResultsJson(await fsp.readFile(file, 'utf8'), file);
      if (result.ok) entry = result.entry;
      else this.ctx.log.debug(`Runs view: ${result.problem}`);
    } catch (err) {
      this.ctx.log.debug(`Runs view: ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.parsed.set(file, { mtimeMs, entry });
    return entry;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
