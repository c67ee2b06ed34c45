import * as path from 'node:path';

/**
 * A module of the built worker, by its path under dist/worker/ ('fbank', 'io/npy'). The benches run compiled as
 * dist/bench/*.bench.js while the worker compiles to dist/worker/ (not dist/worker/src/), so a static import of
 * ../worker/src/… would name a file that does not exist at run time; each bench keeps the types with a type-only
 * import and loads the code through here.
 */
export function builtWorker<T>(relative: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the path exists only once built, see above
  return require(path.join(__dirname, '..', 'worker', relative)) as T;
}
