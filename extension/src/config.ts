import * as path from 'node:path';
import * as vscode from 'vscode';
import type { WorkerSettings } from '../../worker/src/protocol/workerProtocol';

/**
 * Typed access to the `genrep.*` settings (declared in package.json's contributes.configuration), one getter each.
 * Paths may be relative to the first workspace folder; empty means "the worker's default".
 */
export const SECTION = 'genrep';

function get<T>(key: string, fallback: T): T {
  return vscode.workspace.getConfiguration(SECTION).get<T>(key, fallback);
}

export function workspaceFolder(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** A setting's path made absolute against the workspace; undefined when empty. */
function resolvePath(value: string): string | undefined {
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  const expanded = trimmed.startsWith('~/') ? path.join(process.env['HOME'] ?? '', trimmed.slice(2)) : trimmed;
  if (path.isAbsolute(expanded)) return expanded;
  const folder = workspaceFolder();
  return folder ? path.join(folder, expanded) : undefined;
}

export const config = {
  datasetRoots: (): string[] => get<string[]>('datasetRoots', []),
  modelDirectory: (): string | undefined => resolvePath(get('modelDirectory', '')),
  cacheDirectory: (): string | undefined => resolvePath(get('cacheDirectory', '')),
  workerThreads: (): number | undefined => {
    const n = get('workerThreads', 0);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  },
  bankDirectory: (): string | undefined => resolvePath(get('bankDirectory', '.genrep/banks')),
  embedder: (): string => get('embedder', 'fbank-stats').trim() || 'fbank-stats',
  scoringDn: (): 'inductive' | 'none' => (get<string>('scoring.dn', 'inductive') === 'none' ? 'none' : 'inductive'),
  nodePath: (): string | undefined => resolvePath(get('nodePath', '')),
};

export function workerSettings(): WorkerSettings {
  const modelDir = config.modelDirectory();
  const cacheDir = config.cacheDirectory();
  const threads = config.workerThreads();
  return { ...(modelDir ? { modelDir } : {}), ...(cacheDir ? { cacheDir } : {}), ...(threads ? { threads } : {}) };
}

export async function addDatasetRoot(root: string): Promise<void> {
  const roots = config.datasetRoots();
  if (roots.includes(root)) return;
  const target = vscode.workspace.workspaceFolders
    ? vscode.ConfigurationTarget.Workspace
    : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration(SECTION).update('datasetRoots', [...roots, root], target);
}

export async function removeDatasetRoot(root: string): Promise<void> {
  const folder = workspaceFolder();
  const roots = config.datasetRoots().filter((r) => path.resolve(folder ?? '', r) !== root && r !== root);
  const inspect = vscode.workspace.getConfiguration(SECTION).inspect<string[]>('datasetRoots');
  const target =
    inspect?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration(SECTION).update('datasetRoots', roots, target);
}
