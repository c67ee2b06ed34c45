import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GenrepError } from './errors';

/**
 * Default locations, overridable by environment (the editor passes its settings the same way), so the CLI, the
 * worker and the tests agree on where models and caches live without each inventing a path.
 */
function cacheRoot(): string {
  const xdg = process.env['XDG_CACHE_HOME'];
  return xdg && xdg.length > 0 ? path.join(xdg, 'genrep') : path.join(os.homedir(), '.cache', 'genrep');
}

export function defaultModelDir(): string {
  return process.env['GENREP_MODEL_DIR'] || path.join(cacheRoot(), 'models');
}

export function defaultCacheDir(): string {
  return process.env['GENREP_CACHE_DIR'] || path.join(cacheRoot(), 'cache');
}

/**
 * One of the product's own files (schemas/, models/, package.json) at the project root: two levels above this
 * module both as worker/src/paths.ts and as dist/worker/paths.js, in the repository and in the packaged extension.
 */
export function projectFile(...segments: string[]): string {
  const file = path.resolve(__dirname, '..', '..', ...segments);
  if (!existsSync(file))
    throw new GenrepError(`${segments.join('/')} not found next to the worker (looked for ${file})`, 'INTERNAL');
  return file;
}

/** The product's version from its package.json, or 'unknown' where that cannot be read. */
export function genrepVersion(): string {
  try {
    return (JSON.parse(readFileSync(projectFile('package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
