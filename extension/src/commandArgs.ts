import * as path from 'node:path';
import * as vscode from 'vscode';
import { workspaceFolder } from './config';
import type { DatasetNode } from './datasetTreeModel';

/** What VS Code passes to a command handler, read the same way by every command module. */

export function isNode(value: unknown): value is DatasetNode {
  return typeof value === 'object' && value !== null && 'kind' in value && 'id' in value;
}

/** The file a command was invoked on: an explorer Uri, a path, or a clip in the Dataset Explorer. */
export function pathOf(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (typeof arg === 'string') return arg;
  if (isNode(arg) && arg.kind === 'clip') return arg.clip.path;
  return undefined;
}

/** A path relative to the workspace folder when inside it (for messages), else as given. */
export function relativeLabel(file: string): string {
  const folder = workspaceFolder();
  return folder && file.startsWith(folder + path.sep) ? path.relative(folder, file) : file;
}
