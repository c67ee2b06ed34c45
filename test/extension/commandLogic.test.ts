import { describe, expect, it } from 'vitest';
import { datasetFacts, runConfigTemplate, slug } from '../../extension/src/configTemplate';
import { presentFailure } from '../../extension/src/errorPresentation';
import { chooseRunTarget } from '../../extension/src/runTargets';
import { statusBarView } from '../../extension/src/statusBarModel';
import { listForMessage, partitionWavs } from '../../extension/src/wavSelection';
import { parseRunConfig } from '../../worker/src/config/loadConfig';
import { WORKER_ERROR_CODES } from '../../worker/src/protocol/errors';
import { PAPER_DEFAULTS } from '../../worker/src/protocol/vocabulary';
import type { MachineListing } from '../../worker/src/protocol/workerProtocol';
import { validateConfigText } from '../../worker/src/server/configDiagnostics';

describe('which config Run Experiment runs', () => {
  it('prefers the config it was invoked on, then the active editor, then the only one in the workspace', () => {
    expect(
      chooseRunTarget({ explicit: '/w/a.genrep.json', activeFile: '/w/b.genrep.json', workspaceConfigs: [] }),
    ).toEqual({ kind: 'run', file: '/w/a.genrep.json' });
    expect(chooseRunTarget({ activeFile: '/w/B.GENREP.JSON', workspaceConfigs: ['/w/a.genrep.json'] })).toEqual({
      kind: 'run',
      file: '/w/B.GENREP.JSON',
    });
    expect(chooseRunTarget({ activeFile: '/w/readme.md', workspaceConfigs: ['/w/a.genrep.json'] })).toEqual({
      kind: 'run',
      file: '/w/a.genrep.json',
    });
  });
  it('asks among several, and offers to create one when there is none', () => {
    expect(
      chooseRunTarget({
        explicit: '/w/notes.json',
        workspaceConfigs: ['/w/z.genrep.json', '/w/a.genrep.json', '/w/a.genrep.json'],
      }),
    ).toEqual({ kind: 'pick', files: ['/w/a.genrep.json', '/w/z.genrep.json'] });
    expect(chooseRunTarget({ workspaceConfigs: [] })).toEqual({ kind: 'create' });
  });
});

describe('the explorer selection for Score Selected WAV Files', () => {
  it('keeps WAVs in order (any case), drops repeats, and names the rest', () => {
    expect(partitionWavs(['/a/1.wav', '/a/notes.txt', '/a/2.WAV', '/a/1.wav', '/a/folder', '/a/x.wav.bak'])).toEqual({
      wavs: ['/a/1.wav', '/a/2.WAV'],
      others: ['/a/notes.txt', '/a/folder', '/a/x.wav.bak'],
    });
    expect(listForMessage(['/a/1.txt', '/a/2.txt', '/a/3.txt', '/a/4.txt', '/a/5.txt'], (p) => p.slice(3))).toBe(
      '1.txt, 2.txt, 3.txt and 2 more',
    );
    expect(listForMessage(['/a/1.txt'], (p) => p.slice(3))).toBe('1.txt');
  });
});

describe('how a failed request is shown', () => {
  it('opens an invalid config at the range the worker located', () => {
    const range = { start: { line: 4, character: 10 }, end: { line: 4, character: 12 } };
    const view = presentFailure('Running a.genrep.json', {
      code: WORKER_ERROR_CODES.BAD_INPUT,
      message: '/w/a.genrep.json:5:11: /layers/1: layer 13 does not exist: fbank-stats:v1 has layers 1..1',
      data: { code: 'BAD_INPUT', file: '/w/a.genrep.json', field: '/layers/1', range },
    });
    expect(view).toMatchObject({
      severity: 'error',
      location: { file: '/w/a.genrep.json', range },
      actions: ['openLocation'],
      cancelled: false,
      workerLost: false,
    });
    expect(view.message).toBe(
      'Running a.genrep.json failed: /w/a.genrep.json:5:11: /layers/1: layer 13 does not exist: fbank-stats:v1 has layers 1..1',
    );
  });
  it('offers to change the embedder or rebuild when the bank was built with another one', () => {
    const view = presentFailure('Scoring 2 files', {
      code: -32002,
      message: "/b/fan.grbank: was built with embedder 'fbank-stats:v1'…",
      data: { code: 'BAD_INPUT', file: '/b/fan.grbank', field: 'embedder', expected: 'fbank-stats:v1' },
    });
    expect(view.actions).toEqual(['selectEmbedder', 'buildBank']);
  });
  it('offers the download for a missing checkpoint', () => {
    expect(
      presentFailure('Running', {
        code: -32001,
        message: 'x',
        data: { code: 'NOT_FOUND', file: '/m/BEATs_iter3_plus_AS2M.pt' },
      }).actions,
    ).toEqual(['downloadCheckpoint']);
  });
  it('treats a cancel as information, not an error', () => {
    expect(
      presentFailure('Running a.genrep.json', { code: -32800, message: 'cancelled', data: { code: 'CANCELLED' } }),
    ).toMatchObject({ severity: 'info', message: 'Running a.genrep.json cancelled.', cancelled: true, actions: [] });
  });
  it('says the worker died under the request, and offers to run again', () => {
    for (const err of [
      { code: -32097, message: 'Pending response rejected since connection got disposed' },
      new Error('Connection is closed.'),
      { message: 'Client is not running' },
    ]) {
      expect(presentFailure('Running a.genrep.json', err)).toMatchObject({
        workerLost: true,
        actions: ['retry', 'showLog'],
      });
    }
  });
  it('sends internal errors to the log', () => {
    expect(
      presentFailure('Listing', { code: -32603, message: 'internal error: boom', data: { code: 'INTERNAL' } }).actions,
    ).toEqual(['showLog', 'restartWorker']);
    expect(presentFailure('Listing', 'a string').message).toBe('Listing failed: a string');
  });
});

describe('the status-bar item', () => {
  it('says what the worker is doing and offers a restart once it gave up', () => {
    expect(statusBarView({ state: 'running', pid: 42 })).toMatchObject({
      text: '$(pulse) GenRep',
      command: 'genrep.showLog',
      error: false,
    });
    expect(statusBarView({ state: 'running', pid: 42 }).tooltip).toContain('pid 42');
    const busy = statusBarView({
      state: 'running',
      status: {
        state: 'busy',
        jobs: [
          { id: 1, method: 'genrep/run', title: 'GenRep: running a.genrep.json' },
          { id: 2, method: 'genrep/scoreFiles', title: 'GenRep: scoring 3 files' },
        ],
      },
    });
    expect(busy.text).toBe('$(sync~spin) GenRep: busy (+1 waiting)');
    expect(busy.tooltip).toContain('GenRep: running a.genrep.json');
    expect(statusBarView({ state: 'restarting', lastCrash: 'was killed (SIGKILL)' }).tooltip).toContain(
      'was killed (SIGKILL)',
    );
    expect(statusBarView({ state: 'failed' })).toMatchObject({ command: 'genrep.restartWorker', error: true });
  });
});

describe('the Create Run Config template', () => {
  const text = runConfigTemplate(
    { name: 'Fan & Pump (dev)', datasetRoot: 'data/dev', machineTypes: ['fan', 'pump'], embedder: 'fbank-stats' },
    PAPER_DEFAULTS,
  );

  it('is a valid run config with comments, as the loader reads it', () => {
    const loaded = parseRunConfig(text, '/ws/fan.genrep.json');
    expect(loaded.config.dataset.root).toBe('/ws/data/dev');
    expect(loaded.config.dataset.machineTypes).toEqual(['fan', 'pump']);
    expect(loaded.config.output).toBe('/ws/genrep-results/fan-pump-dev');
    expect(loaded.config).toMatchObject({
      K_n: PAPER_DEFAULTS.K_n,
      pooling: PAPER_DEFAULTS.pooling,
      mixup: { K_s: 10, lambda: PAPER_DEFAULTS.mixup.lambda },
    });
    expect(text.match(/^\s*\/\//gm)?.length).toBeGreaterThan(8);
  });

  it('passes the worker validation without diagnostics, also without machine types', () => {
    expect(validateConfigText(text, '/nonexistent/fan.genrep.json').diagnostics).toEqual([]);
    const plain = runConfigTemplate({ name: 'x', datasetRoot: '/abs/data' }, PAPER_DEFAULTS);
    expect(parseRunConfig(plain, '/ws/x.genrep.json').config.embedder).toBe('fbank-stats');
  });

  it("reports a fixed layer, not the oracle: fbank-stats' layer 1, the paper's layer 4 for beats_ft1", () => {
    expect(parseRunConfig(text, '/ws/a.genrep.json').config).toMatchObject({
      layers: [PAPER_DEFAULTS.fbankStatsLayer],
      layerSelection: { mode: 'fixed', layer: PAPER_DEFAULTS.fbankStatsLayer },
    });
    const ft1 = runConfigTemplate({ name: 'x', datasetRoot: 'd', embedder: 'beats_ft1' }, PAPER_DEFAULTS);
    expect(parseRunConfig(ft1, '/ws/a.genrep.json').config).toMatchObject({
      layers: [4],
      layerSelection: { mode: 'fixed', layer: 4 },
    });
    // Another checkpoint: fixed at its own best layer (models/manifest.json), which the run looks up.
    const other = runConfigTemplate({ name: 'x', datasetRoot: 'd', embedder: 'beats' }, PAPER_DEFAULTS);
    expect(parseRunConfig(other, '/ws/a.genrep.json').config).toMatchObject({
      layers: 'all',
      layerSelection: { mode: 'fixed' },
    });
    expect(text).not.toMatch(/"layerSelection": "oracle"/);
  });

  it("names the dataset's own machine types, and keeps K_s within its smallest source bank", () => {
    const clip = (domain: 'source' | 'target') => ({ domain, split: 'train' as const });
    const machine = (machineType: string, source: number) =>
      ({
        machineType,
        sections: ['00'],
        train: [...Array.from({ length: source }, () => clip('source')), clip('target')],
        test: [],
      }) as unknown as MachineListing;
    const facts = datasetFacts([machine('gearbox', 6), machine('slider', 40)], undefined);
    expect(facts).toEqual({ foundMachineTypes: ['gearbox', 'slider'], smallestSourceBank: 6 });
    expect(datasetFacts([machine('gearbox', 6), machine('slider', 40)], ['slider']).smallestSourceBank).toBe(40);
    const t = runConfigTemplate({ name: 'x', datasetRoot: 'd', ...facts }, PAPER_DEFAULTS);
    expect(t).toContain('// Only some machine types (default: all 2 found: gearbox, slider):');
    expect(t).toContain('// "machineTypes": ["gearbox","slider"],');
    expect(t).not.toMatch(/fan|valve/);
    expect(parseRunConfig(t, '/ws/a.genrep.json').config.mixup.K_s).toBe(6);
  });

  it('makes file-name-safe slugs', () => {
    expect(slug('Fan & Pump (dev)')).toBe('fan-pump-dev');
    expect(slug('***')).toBe('run');
  });
});
