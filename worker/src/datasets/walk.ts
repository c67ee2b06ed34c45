import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { isWavName } from './fileNames';

/** A .wav file found under a split folder. */
export interface FoundFile {
  /** Absolute path (inside the resolved root, symbolic links not expanded). */
  path: string;
  /** Folders below the split folder, then the file name. */
  parts: string[];
  /** Set when the file or a folder on its way is a symbolic link that leads outside the root. */
  outside?: string;
}

/** True when `candidate` is `root` or below it (both absolute, already resolved). */
export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (rel.split(path.sep)[0] !== '..' && !path.isAbsolute(rel));
}

/**
 * Every .wav below `dir`, recursively, in name order. Symbolic links are followed only while they stay inside
 * `root`; one that leads out is returned with `outside` set (never read) so the caller can report it, and a link
 * back to a folder already visited is not followed again.
 */
export async function listWavFiles(dir: string, root: string): Promise<FoundFile[]> {
  const found: FoundFile[] = [];
  const visited = new Set<string>();
  async function visit(current: string, parts: string[]): Promise<void> {
    const real = await fsp.realpath(current);
    if (visited.has(real)) return;
    visited.add(real);
    const entries = await fsp.readdir(current, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        let target: string;
        try {
          target = await fsp.realpath(full);
        } catch {
          if (isWavName(entry.name))
            found.push({ path: full, parts: [...parts, entry.name], outside: 'a broken symbolic link' });
          continue;
        }
        if (!isInside(root, target)) {
          if (isWavName(entry.name) || (await isDirectory(target))) {
            found.push({
              path: full,
              parts: [...parts, entry.name],
              outside: `a symbolic link to ${target}, outside the dataset root`,
            });
          }
          continue;
        }
        const stat = await fsp.stat(target);
        isDir = stat.isDirectory();
        isFile = stat.isFile();
      }
      if (isDir) await visit(full, [...parts, entry.name]);
      else if (isFile && isWavName(entry.name)) found.push({ path: full, parts: [...parts, entry.name] });
    }
  }
  await visit(dir, []);
  return found;
}

export async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isDirectory();
  } catch {
    return false;
  }
}
