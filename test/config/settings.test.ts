import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RESTART_SETTINGS } from '../../extension/src/commandIds';
import type { RestartSetting, WorkerSettings } from '../../worker/src/protocol/workerProtocol';
import { resolveSettings } from '../../worker/src/settings';

const env = { GENREP_CACHE_DIR: '/env/cache', GENREP_MODEL_DIR: '/env/models', XDG_CACHE_HOME: '/xdg' };
const editor: WorkerSettings = { cacheDir: '/editor/cache', modelDir: '/editor/models', threads: 3 };
const runConfig: WorkerSettings = { cacheDir: '/config/cache', modelDir: '/config/models', threads: 2 };

describe('resolveSettings: run config > editor settings > environment > defaults', () => {
  it('takes each setting from the highest source that has it', () => {
    expect(resolveSettings({ runConfig, editor, env })).toEqual({
      cacheDir: '/config/cache',
      modelDir: '/config/models',
      threads: 2,
    });
    expect(resolveSettings({ runConfig: {}, editor, env })).toEqual({
      cacheDir: '/editor/cache',
      modelDir: '/editor/models',
      threads: 3,
    });
    expect(resolveSettings({ editor: {}, env })).toEqual({
      cacheDir: '/env/cache',
      modelDir: '/env/models',
      threads: undefined,
    });
    expect(resolveSettings({ env: { XDG_CACHE_HOME: '/xdg' } })).toEqual({
      cacheDir: path.join('/xdg', 'genrep', 'cache'),
      modelDir: path.join('/xdg', 'genrep', 'models'),
      threads: undefined,
    });
    expect(resolveSettings({ env: {} })).toEqual({
      cacheDir: path.join(os.homedir(), '.cache', 'genrep', 'cache'),
      modelDir: path.join(os.homedir(), '.cache', 'genrep', 'models'),
      threads: undefined,
    });
  });

  it('mixes sources setting by setting', () => {
    const settings = resolveSettings({
      runConfig: { modelDir: '/config/models' },
      editor: { threads: 4 },
      env: { GENREP_CACHE_DIR: '/env/cache' },
    });
    expect(settings).toEqual({ cacheDir: '/env/cache', modelDir: '/config/models', threads: 4 });
  });

  it('treats an empty editor setting or variable and 0 threads as not set', () => {
    const settings = resolveSettings({
      runConfig: { threads: 0 },
      editor: { cacheDir: '', threads: 0 },
      env: { GENREP_CACHE_DIR: '', GENREP_MODEL_DIR: '/env/models', XDG_CACHE_HOME: '' },
    });
    expect(settings).toEqual({
      cacheDir: path.join(os.homedir(), '.cache', 'genrep', 'cache'),
      modelDir: '/env/models',
      threads: undefined,
    });
  });

  it('is frozen, and reads only the environment it is given', () => {
    const before = { ...process.env };
    const settings = resolveSettings({ editor, env: {} });
    expect(Object.isFrozen(settings)).toBe(true);
    expect(process.env).toEqual(before);
  });

  it('declares every editor setting as one that needs a worker restart (the worker reads them at initialize)', () => {
    // A field added to WorkerSettings fails to compile here until it names the editor setting that carries it.
    const source: Record<keyof WorkerSettings, RestartSetting> = {
      cacheDir: 'cacheDirectory',
      modelDir: 'modelDirectory',
      threads: 'workerThreads',
    };
    for (const key of Object.values(source)) expect(RESTART_SETTINGS).toContain(key);
  });
});
