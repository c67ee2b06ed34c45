import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GenrepError } from './errors';

/** The environment as the settings resolver reads it (process.env, or a test's own). */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The last-resort model and cache folders (worker/src/settings.ts puts the run config, the editor's settings and
 * $GENREP_MODEL_DIR / $GENREP_CACHE_DIR above them): under $XDG_CACHE_HOME/genrep, or ~/.cache/genrep.
 */
export function xdgDefaultDirs(env: Environment): { modelDir: string; cacheDir: string } {
  const xdg = env['XDG_CACHE_HOME'];
  const root = xdg && xdg.length > 0 ? path.join(xdg, 'genrep') : path.join(os.homedir(), '.cache', 'genrep');
  return { modelDir: path.join(root, 'models'), cacheDir: path.join(root, 'cache') };
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
