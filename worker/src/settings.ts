import { xdgDefaultDirs, type Environment } from './paths';
import type { WorkerSettings } from './protocol/workerProtocol';

/**
 * The folders and thread count a run, a command or a worker request works with, resolved in one place and passed
 * down explicitly: nothing below reads the environment for them. Frozen, so no stage can change what the others see.
 */
export interface Settings {
  /** Feature cache and converted BEATs models. */
  readonly cacheDir: string;
  /** Where named checkpoints are looked up and downloaded to. */
  readonly modelDir: string;
  /** ONNX Runtime intra-op threads, and the threads that score grid cells (scorePool.ts); undefined = all cores. */
  readonly threads: number | undefined;
}

export interface SettingSources {
  /**
   * The run config's own `cacheDir` / `modelDir` / `threads` (paths already resolved against the config's folder).
   * Outside a run, a command's flags (`--cache-dir`) or a request's own params (`genrep/listModels`' modelDir) take
   * this place: what the one invocation names wins.
   */
  runConfig?: WorkerSettings | undefined;
  /** The editor's settings: the worker's `initializationOptions`. */
  editor?: WorkerSettings | undefined;
  /** The process environment: $GENREP_CACHE_DIR, $GENREP_MODEL_DIR, and $XDG_CACHE_HOME for the defaults. */
  env: Environment;
}

/** The environment variables that set a folder (below the run config and the editor's settings). */
export const SETTINGS_ENV = { cacheDir: 'GENREP_CACHE_DIR', modelDir: 'GENREP_MODEL_DIR' } as const;

/**
 * run config (or flags / request params) > editor settings > environment > defaults (paths.ts's XDG folders). An
 * empty editor setting or variable means "not set", as the editor's "empty: the default" settings promise; the run
 * config's paths cannot be empty (they are resolved against its folder).
 */
export function resolveSettings(sources: SettingSources): Settings {
  const { runConfig = {}, editor = {}, env } = sources;
  const defaults = xdgDefaultDirs(env);
  const folder = (key: keyof typeof SETTINGS_ENV): string =>
    runConfig[key] ?? nonEmpty(editor[key]) ?? nonEmpty(env[SETTINGS_ENV[key]]) ?? defaults[key];
  return Object.freeze({
    cacheDir: folder('cacheDir'),
    modelDir: folder('modelDir'),
    threads: positive(runConfig.threads) ?? positive(editor.threads),
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value !== '' ? value : undefined;
}

/** 0 threads (the editor's "0 = all cores") is no setting. */
function positive(value: number | undefined): number | undefined {
  return value !== undefined && value > 0 ? value : undefined;
}
