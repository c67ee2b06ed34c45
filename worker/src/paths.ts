import * as os from 'node:os';
import * as path from 'node:path';

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
